//! The shared core of the WeChat third-party platform service.
//!
//! The flow is one direction: a function adapter parses an event and calls a use-case
//! [`services`] type; the service decides, calling its ports (the [`store`] traits, the
//! [`wechat`] client, the [`tokens`] manager built on both); adapters implement the ports
//! (DynamoDB, memory, HTTPS). See `docs/ARCHITECTURE.md`.

pub mod aws;
pub mod clock;
pub mod config;
pub mod error;
pub mod msg_crypto;
pub mod publish;
pub mod queue;
pub mod seal;
pub mod services;
pub mod state;
pub mod store;
pub mod telemetry;
#[cfg(any(test, feature = "testkit"))]
pub mod testing;
pub mod tokens;
pub mod wechat;
