//! The shared core of the WeChat third-party platform service: the WeChat component API
//! client, message crypto for event pushes, and (in later modules) the DynamoDB store, the
//! token manager and the services the Lambda functions call.

pub mod msg_crypto;
pub mod wechat;
