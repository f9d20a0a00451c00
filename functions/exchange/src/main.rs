//! `exchange` on Lambda: exchanges an authorization code on direct invocation.

wxopen_lambda::lambda_main!(exchange::run);
