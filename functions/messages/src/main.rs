//! `messages` on Lambda: the message and event URL, with WeChat's release test answered here.

wxopen_lambda::lambda_main!(messages::run);
