//! `authorizer-api` on Lambda: any WeChat API called as an authorizer, for other functions.

wxopen_lambda::http_main!(
    wxopen_lambda::wiring::authorizer_calls(),
    authorizer_api::handler::handle
);
