//! `authorizer-token` on Lambda: a valid authorizer access token, refreshed at most once across instances.

wxopen_lambda::lambda_main!(authorizer_token::run);
