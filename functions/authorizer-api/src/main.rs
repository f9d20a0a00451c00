//! `authorizer-api` on Lambda: any WeChat API called as an authorizer, for other functions.

wxopen_lambda::lambda_main!(authorizer_api::run);
