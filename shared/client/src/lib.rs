//! A typed client of this service's functions, for Rust functions that build on it: typed
//! requests and answers for every direct invocation (on `aws-sdk-lambda`), the error contract
//! as one enum ([`Error`]), the functions' names from the environment ([`Functions`]), and the
//! authorizer tokens held in the caller's container until ten minutes before they expire, so a
//! warm caller invokes nothing for a token it holds; a token WeChat refuses is replaced through
//! `invalid_token` ([`Client::replace_token`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), wxopen_client::Error> {
//! let client = wxopen_client::Client::from_env().await;
//! let appid = wxopen_models::AuthorizerAppid::parse("wxf8b4f85f3a794e77").unwrap();
//! let token = client.authorizer_token(&appid).await?;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod client;
mod error;
mod functions;

pub use client::{Client, Link, LinkRequest, Token, TOKEN_MARGIN};
pub use error::Error;
pub use functions::Functions;
pub use wxopen_models::calls::{ApiAnswer, ApiCall, Method, OAuthGrant, Session};
