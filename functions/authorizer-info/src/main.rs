//! `authorizer-info` on Lambda: an authorizer's live info merged with its stored record; listing.

wxopen_lambda::lambda_main!(authorizer_info::run);
