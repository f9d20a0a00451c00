//! `exchange` on Lambda: exchanges an authorization code on direct invocation.

wxopen_lambda::http_main!(
    wxopen_lambda::wiring::exchanger(),
    exchange::handler::handle
);
