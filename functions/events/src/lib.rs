//! The `events` function: `run` serves it on Lambda, from its own binary and from the bundle;
//! its handler is callable from tests without the Lambda runtime.

pub mod handler;

wxopen_lambda::http_function!(wxopen_lambda::wiring::pushes(), handler::handle);
