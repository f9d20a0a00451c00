//! AppIDs: parsed once at the edge, then trusted.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why an identifier from outside was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The value was empty.
    #[error("{what} is empty: pass the AppID shown in the WeChat console (for example wx1234567890abcdef)")]
    Empty {
        /// Which identifier.
        what: &'static str,
    },
    /// The value is too long or has characters no AppID has.
    #[error("{what} {value:?} is not an AppID: expected 1 to 64 letters, digits, '_' or '-'")]
    Malformed {
        /// Which identifier.
        what: &'static str,
        /// The refused value, truncated.
        value: String,
    },
}

fn validate(what: &'static str, value: &str) -> Result<(), IdError> {
    if value.is_empty() {
        return Err(IdError::Empty { what });
    }
    let ok = value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(IdError::Malformed {
            what,
            value: value.chars().take(70).collect(),
        })
    }
}

macro_rules! appid_newtype {
    ($(#[$meta:meta])* $name:ident, $what:literal) => {
        $(#[$meta])*
        ///
        /// Deserializing validates, as [`Self::parse`] does: an AppID read from any JSON
        /// (a payload, WeChat's answer) is checked once, at the edge.
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, IdError> {
                Self::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl $name {
            /// Checks a value received from outside (a request, a variable).
            pub fn parse(value: impl Into<String>) -> Result<Self, IdError> {
                let value = value.into();
                validate($what, &value)?;
                Ok(Self(value))
            }

            /// The AppID as a string.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }
    };
}

appid_newtype!(
    /// The third-party platform's own AppID (`component_appid`).
    ComponentAppid,
    "component_appid"
);
appid_newtype!(
    /// An Official Account's or Mini Program's AppID (`authorizer_appid`).
    AuthorizerAppid,
    "authorizer_appid"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_real_appids_and_refuses_junk() {
        assert!(AuthorizerAppid::parse("wxf8b4f85f3a794e77").is_ok());
        assert_eq!(
            AuthorizerAppid::parse(""),
            Err(IdError::Empty {
                what: "authorizer_appid"
            })
        );
        assert!(matches!(
            AuthorizerAppid::parse("wx/../../etc"),
            Err(IdError::Malformed { .. })
        ));
        assert!(ComponentAppid::parse("x".repeat(65)).is_err());
    }

    #[test]
    fn deserializing_validates_like_parse() {
        let ok: AuthorizerAppid = serde_json::from_str("\"wxf8b4f85f3a794e77\"").unwrap();
        assert_eq!(ok.as_str(), "wxf8b4f85f3a794e77");
        let err = serde_json::from_str::<AuthorizerAppid>("\"wx/../x\"").unwrap_err();
        assert!(err.to_string().contains("is not an AppID"), "{err}");
        assert!(serde_json::from_str::<ComponentAppid>("\"\"").is_err());
        assert_eq!(
            serde_json::to_string(&ok).unwrap(),
            "\"wxf8b4f85f3a794e77\""
        );
    }
}
