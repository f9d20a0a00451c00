//! `component-api` on Lambda: the component-token APIs, for other functions.

wxopen_lambda::lambda_main!(component_api::run);
