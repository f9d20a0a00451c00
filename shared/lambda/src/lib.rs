//! The Lambda edge every function shares: building the [`Platform`](wxopen::platform::Platform)
//! once per container, reading requests (API Gateway HTTP API events or direct invocations),
//! and rendering results and errors per the error contract.

pub mod error;
pub mod pages;
pub mod request;
pub mod wiring;

pub use error::ApiError;
