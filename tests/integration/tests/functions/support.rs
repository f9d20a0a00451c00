//! Helpers shared by the function handler tests.

pub use integration_tests::dynamo;
pub use integration_tests::functions::*;
pub use integration_tests::wechat_stub::Reply;
pub use serde_json::json;
pub use std::collections::HashMap;
pub use std::time::Duration;
pub use wxopen::clock::{now_secs, Timestamp};
pub use wxopen::store::{AuthorizerStore, HistoryReader, TicketStore, TokenKey, TokenStore};
pub use wxopen_models::records::AuthorizerStatus;
pub use wxopen_models::AuthorizerAppid;

pub const SEED_APPID: &str = "wxf8b4f85f3a794e77";

pub fn seed_app() -> AuthorizerAppid {
    AuthorizerAppid::parse(SEED_APPID).unwrap()
}

pub fn query_of(url: &str) -> HashMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

pub async fn store_authorizer(env: &TestEnv, appid: &str) {
    let refresh = format!("refresh-of-{appid}");
    let authorization = wxopen_lambda::testing::stale_authorization(appid, &refresh, &[1, 15]);
    wxopen_lambda::testing::save(&env.store, &authorization).await;
}

/// Runs authorize and returns the state it put in the redirect URI.
pub async fn authorize_state(env: &TestEnv) -> String {
    let resp = get_authorize(&env.services, &[]).await;
    let page = header(&resp, "location").unwrap();
    let redirect = query_of(&page)["redirect_uri"].clone();
    query_of(&redirect)["state"].clone()
}

/// `GET /wechat/callback` with `query`, from a client that accepts `accept`.
pub async fn get_callback(
    env: &TestEnv,
    query: &[(&str, &str)],
    accept: &str,
) -> lambda_http::Response<lambda_http::Body> {
    callback::handler::handle(
        &env.services.authorization,
        http_event(
            "GET",
            "/wechat/callback",
            query,
            &[("accept", accept)],
            None,
        ),
    )
    .await
    .unwrap()
}
