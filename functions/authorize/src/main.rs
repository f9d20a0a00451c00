//! `authorize` on Lambda: creates a pre-auth code and redirects to WeChat's authorization page.

wxopen_lambda::http_main!(
    wxopen_lambda::wiring::authorization(true),
    authorize::handler::handle
);
