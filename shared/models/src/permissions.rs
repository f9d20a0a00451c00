//! Permission sets (`funcscope_category.id`). Ids stay numbers; names are for people.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A permission set id as WeChat sends it. New ids appear over time, so any number is valid.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PermissionId(pub u32);

impl PermissionId {
    /// The English name of a documented permission set, or `None` for one this crate does not
    /// know yet (the id is still kept and stored).
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "Message management",
            2 => "User management",
            3 => "Account services",
            4 => "Web page services",
            5 => "WeChat Store",
            6 => "Multi-agent customer service",
            7 => "Mass messages and notifications",
            8 => "Cards and offers",
            9 => "Scan",
            10 => "Wi-Fi connection",
            11 => "Material management",
            12 => "Shake nearby",
            13 => "Physical stores",
            15 => "Custom menu",
            16 => "Verification status and information",
            17 => "Mini Program account management",
            18 => "Mini Program development management and data analysis",
            19 => "Mini Program customer service messages",
            20 => "Mini Program WeChat login",
            21 => "Mini Program data analysis",
            22 => "City services",
            23 => "Advertising management",
            24 => "Open Platform account management",
            25 => "Open Platform account management (Mini Program)",
            26 => "WeChat e-invoices",
            27 => "Mini Program fast registration",
            _ => return None,
        })
    }

    /// The name, or `Permission set <id>` for an id without a documented name.
    pub fn label(self) -> String {
        match self.name() {
            Some(name) => name.to_owned(),
            None => format!("Permission set {}", self.0),
        }
    }
}

impl fmt::Debug for PermissionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PermissionId({})", self.0)
    }
}

impl fmt::Display for PermissionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_ids_have_names_and_unknown_ids_keep_their_number() {
        assert_eq!(PermissionId(1).name(), Some("Message management"));
        assert_eq!(PermissionId(999).name(), None);
        assert_eq!(PermissionId(999).label(), "Permission set 999");
    }
}
