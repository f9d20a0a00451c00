//! The store's ports: narrow traits split by capability, one file each, each bound to one
//! component when the adapter is built, and the plain data they exchange. The rules deciding
//! what a change means live in [`super::rules`], which both adapters call.

mod authorizers;
mod history;
mod listing;
mod once;
mod reconcile;
mod registrations;
mod rollouts;
mod sealing;
mod tickets;
mod tokens;

pub use authorizers::*;
pub use history::*;
pub use listing::*;
pub use once::*;
pub use reconcile::*;
pub use registrations::*;
pub use rollouts::*;
pub use sealing::*;
pub use tickets::*;
pub use tokens::*;

/// The store failed; the operation did not happen (or, for a timeout, may have).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// DynamoDB could not be reached or refused the request. The details are logged where the
    /// failure happened; this message is what a caller sees.
    #[error("DynamoDB could not {operation}{}: check TABLE_NAME, the function's IAM permissions and the region, then retry", .code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Unavailable {
        /// What was being done, as a verb phrase ("read an authorizer").
        operation: &'static str,
        /// DynamoDB's error code, when it answered with one.
        code: Option<String>,
    },
    /// An item exists but cannot be read back.
    #[error("the stored item {key} is unreadable ({reason}): it was written by an incompatible version or edited by hand")]
    Corrupt {
        /// The item's sort key.
        key: String,
        /// What was wrong.
        reason: String,
    },
    /// The KMS key sealing tokens could not be used; nothing was written.
    #[error(transparent)]
    KeyUnavailable(#[from] crate::seal::KeyUnavailable),
    /// A sealed token does not open for its item and attribute: it was copied from another
    /// item, altered, or its data key is gone. It is never handed out.
    #[error("the sealed {attribute} of the stored item {key} does not open ({reason}): it was copied from another item or altered; authorize the account again")]
    Unsealable {
        /// The item's sort key.
        key: String,
        /// The attribute.
        attribute: String,
        /// Why.
        reason: String,
    },
    /// Concurrent writers kept winning; the write was not made.
    #[error("the stored item {key} kept changing under concurrent writers: retry the request")]
    Contended {
        /// The item's sort key.
        key: String,
    },
}
