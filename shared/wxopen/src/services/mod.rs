//! The use cases, one service each, holding only the ports and secrets it needs. Nothing here
//! knows about HTTP or Lambda: the function adapters parse events into these calls and render
//! the typed results.
//!
//! | service | functions | needs |
//! |---|---|---|
//! | [`Authorization`] | `authorize`, `callback` | component API, authorizer store, state key, page URLs |
//! | [`Exchanger`] | `exchange` (and the two above, and pushes) | component API, authorizer store |
//! | [`Authorizers`] | `authorizer-info`, `authorizer-token` | component API, stores |
//! | [`Pushes`] | `events` | message crypto, ticket store, exchanger |
//! | [`Refresher`] | `refresher` | component API, authorizer store, reconcile progress |
//! | [`Messages`] | `messages` | message crypto, exchanger, event publisher |
//! | [`Notifier`] | `notifier` | event publisher |
//! | [`AuthorizerCalls`] | `authorizer-api` | component API (tokens, WeChat client) |
//! | [`ComponentCalls`] | `component-api` | component API (tokens, WeChat client) |
//! | [`Registrations`] | `component-api` | component API, registration store |
//! | [`Completions`] | `events` (within [`Pushes`]) | registration and authorizer stores, exchanger, event publisher |

mod api_calls;
mod authorization;
mod authorizers;
mod exchange;
mod messages;
mod notifier;
mod pushes;
mod reconcile;
mod refresh;
mod registrations;
mod rollouts;
mod views;

pub use api_calls::{AuthorizerCalls, ComponentCalls, TemplateOp, OAUTH_AUTHORIZE_URL};
pub use authorization::{
    AuthPages, Authorization, AuthorizeRequest, Completed, Link, LinkRequest, LINK_LIFETIME,
    MAX_LINK_LIFETIME, STATE_LIFETIME, SUCCESS_LIFETIME,
};
pub use authorizers::{Authorizers, InfoRead};
pub use exchange::{code_hash, secret_hash, Exchanger, CONCURRENT_EXCHANGE_WAIT};
pub use messages::{MessageAnswer, Messages};
pub use notifier::{change_event, change_id, Notifier, StreamItem, StreamOrigin};
pub use pushes::{PushOutcome, Pushes};
pub use reconcile::{ReconcileOutcome, ReconcileReport, ReconcileSettings};
pub use refresh::{Job, RefreshReport, Refresher, REFRESHER_MARGIN};
pub use registrations::{
    keys as registration_keys, Completions, RegistrationView, Registrations, REGISTRATION_KEPT,
    REGISTRATION_WINDOW,
};
pub use rollouts::{
    sweep::AuditResult, Answer as CodeAnswer, CreateAnswer, RolloutSettings, Rollouts,
    StatusAnswer, SweepReport, TargetView,
};
pub use views::{permission_views, AuthorizerView, InfoSource, PermissionView, TokenGrant};

pub use crate::error::ServiceError;

#[cfg(test)]
mod tests;
