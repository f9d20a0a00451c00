//! `auth_type` of the authorization page: which kinds of account may authorize.

use std::fmt;

/// Which accounts the authorization page offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AuthType {
    /// 1: Official Accounts only.
    OfficialAccounts,
    /// 2: Mini Programs only.
    MiniPrograms,
    /// 3: both (the default).
    #[default]
    Both,
}

/// An `auth_type` other than 1, 2 or 3.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("auth_type {0:?} is not allowed: use 1 (Official Accounts), 2 (Mini Programs) or 3 (both)")]
pub struct InvalidAuthType(pub String);

impl AuthType {
    /// The number WeChat's page takes.
    pub fn code(self) -> u8 {
        match self {
            Self::OfficialAccounts => 1,
            Self::MiniPrograms => 2,
            Self::Both => 3,
        }
    }

    /// Parses `1`, `2` or `3`.
    pub fn parse(value: &str) -> Result<Self, InvalidAuthType> {
        match value.trim() {
            "1" => Ok(Self::OfficialAccounts),
            "2" => Ok(Self::MiniPrograms),
            "3" => Ok(Self::Both),
            other => Err(InvalidAuthType(other.chars().take(16).collect())),
        }
    }
}

impl fmt::Display for AuthType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_three_documented_codes_parse() {
        assert_eq!(AuthType::parse("1"), Ok(AuthType::OfficialAccounts));
        assert_eq!(AuthType::parse(" 3 "), Ok(AuthType::Both));
        assert_eq!(AuthType::default().code(), 3);
        for bad in ["0", "4", "x", "", "12"] {
            assert!(AuthType::parse(bad).is_err(), "{bad}");
        }
    }
}
