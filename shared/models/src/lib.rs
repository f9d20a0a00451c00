//! Serde types for the WeChat Open Platform third-party platform ("component"): API requests
//! and responses, the error envelope, event pushes and the records this service stores.
//!
//! No I/O happens here; everything is plain data with strict-but-tolerant parsing: unknown
//! fields are ignored, documented enums keep a catch-all for values WeChat adds later.

pub mod api;
pub mod auth_type;
pub mod authorizer_info;
pub mod calls;
pub mod envelope;
pub mod events;
pub mod ids;
pub mod messages;
pub mod notifications;
pub mod permissions;
pub mod pushes;
pub mod records;
pub mod registration;
pub mod release_test;
pub mod rollouts;
pub mod secret;
pub mod xml_fields;

pub use auth_type::AuthType;
pub use ids::{AuthorizerAppid, ComponentAppid, IdError};
pub use permissions::PermissionId;
pub use secret::{AccessToken, AuthorizationCode, PreAuthCode, RefreshToken, Secret, VerifyTicket};
