//! Test support: real components on loopback. [`wechat_stub`] is an HTTP stand-in for WeChat
//! that counts calls and replays scripted answers.

pub mod wechat_stub;
