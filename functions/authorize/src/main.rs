//! `authorize` on Lambda: creates a pre-auth code and redirects to WeChat's authorization page.

wxopen_lambda::lambda_main!(authorize::run);
