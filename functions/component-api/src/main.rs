//! `component-api` on Lambda: the component-token APIs, for other functions.

wxopen_lambda::http_main!(
    wxopen_lambda::wiring::component_calls(),
    component_api::handler::handle
);
