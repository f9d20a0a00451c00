//! The `component-api` function: its handler, callable from tests without the Lambda runtime.

pub mod handler;
