//! `events` on Lambda: verifies and handles WeChat's pushes to the authorization event URL.

wxopen_lambda::http_main!(wxopen_lambda::wiring::pushes(), events::handler::handle);
