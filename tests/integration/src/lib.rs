//! Test support: real components on loopback. [`wechat_stub`] is an HTTP stand-in for WeChat
//! that counts calls and replays scripted answers; [`dynamo`] creates tables from
//! `template.yaml` on the Amazon DynamoDB Local server that `make test` starts; [`kms`] makes
//! keys on moto's KMS.

pub mod bus;
pub mod dynamo;
pub mod functions;
pub mod gateway;
pub mod kms;
pub mod lanes;
pub mod logs;
pub mod stack;
pub mod watch;
pub mod wechat_stub;
