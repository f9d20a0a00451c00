//! `authorizer-token` on Lambda: a valid authorizer access token, refreshed at most once across instances.

wxopen_lambda::http_main!(
    wxopen_lambda::wiring::authorizers(),
    authorizer_token::handler::handle
);
