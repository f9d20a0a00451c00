//! `callback` on Lambda: the redirect URI: verifies state, exchanges the code, stores the authorizer.

wxopen_lambda::lambda_main!(callback::run);
