//! `events` on Lambda: verifies and handles WeChat's pushes to the authorization event URL.

wxopen_lambda::lambda_main!(events::run);
