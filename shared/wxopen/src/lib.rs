//! The shared core of the WeChat third-party platform service: the WeChat component API
//! client, message crypto for event pushes, the DynamoDB store and the token manager.

pub mod aws;
pub mod clock;
pub mod config;
pub mod msg_crypto;
pub mod platform;
pub mod state;
pub mod store;
pub mod tokens;
pub mod wechat;
