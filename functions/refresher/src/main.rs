//! `refresher` on Lambda: a scheduled event keeps the component token fresh and reconciles
//! authorizers with WeChat's list.

wxopen_lambda::lambda_main!(refresher::run);
