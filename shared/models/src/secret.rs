//! Values that must never reach a log: tokens, codes, secrets.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A string that is redacted in `Debug` and `Display`; read it with [`Secret::expose`].
///
/// Serialization is transparent, because the value must still travel to WeChat and DynamoDB.
#[derive(Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself. Call only where it leaves the process for its real destination.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when the value is the empty string (WeChat sends `""` for an absent refresh token).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Declares a redacted newtype over [`Secret`] so that, for example, a refresh token cannot be
/// passed where an access token is expected.
macro_rules! secret_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name($crate::secret::Secret);

        impl $name {
            /// Wraps a value.
            pub fn new(value: impl Into<String>) -> Self {
                Self($crate::secret::Secret::new(value))
            }

            /// The value itself. Call only where it leaves the process for its real destination.
            pub fn expose(&self) -> &str {
                self.0.expose()
            }

            /// True when WeChat sent an empty string.
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}([redacted])", stringify!($name))
            }
        }
    };
}

secret_newtype!(
    /// `component_access_token` or `authorizer_access_token`.
    AccessToken
);
secret_newtype!(
    /// `authorizer_refresh_token`: losing it means the account must authorize again.
    RefreshToken
);
secret_newtype!(
    /// An authorization code (`auth_code` of the redirect, `AuthorizationCode` of a push).
    AuthorizationCode
);
secret_newtype!(
    /// A single-use `pre_auth_code` for the authorization page.
    PreAuthCode
);
secret_newtype!(
    /// The `component_verify_ticket` pushed every ten minutes.
    VerifyTicket
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let s = Secret::new("hunter2-value");
        assert!(!format!("{s:?}").contains("hunter2"));
        assert!(!format!("{s}").contains("hunter2"));
        let t = RefreshToken::new("refresh-value");
        assert_eq!(format!("{t:?}"), "RefreshToken([redacted])");
        assert_eq!(t.expose(), "refresh-value");
    }

    #[test]
    fn serializes_transparently() {
        let t = AccessToken::new("abc");
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"abc\"");
        let back: AccessToken = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(back, t);
    }
}
