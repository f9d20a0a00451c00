//! `authorizer-info` on Lambda: an authorizer's live info merged with its stored record; listing.

wxopen_lambda::http_main!(
    wxopen_lambda::wiring::authorizers(),
    authorizer_info::handler::handle
);
