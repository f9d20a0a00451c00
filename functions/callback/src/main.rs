//! `callback` on Lambda: the redirect URI: verifies state, exchanges the code, stores the authorizer.

wxopen_lambda::http_main!(
    wxopen_lambda::wiring::authorization(false),
    callback::handler::handle
);
