//! `messages` on Lambda: the message and event URL, with WeChat's release test answered here.

wxopen_lambda::http_main!(wxopen_lambda::wiring::messages(), messages::handler::handle);
