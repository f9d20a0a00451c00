//! Each function's handler with real events (API Gateway HTTP API v2 and direct payloads)
//! against DynamoDB Local and a loopback WeChat stand-in: every success path and every listed failure,
//! checking the response and DynamoDB afterwards.
//!
//! One module per function.

mod support;

mod authorize;
mod authorizer_info;
mod callback;
mod events;
mod messages;
mod refresher;
mod sealed;
