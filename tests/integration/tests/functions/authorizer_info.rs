//! `authorizer-info`: its handler with real API Gateway v2 events and direct payloads.

use super::support::*;

#[tokio::test]
async fn a_store_failure_is_one_sentence_saying_what_to_do() {
    let env = TestEnv::with(&[("TABLE_NAME", "wxopen-no-such-table")]).await;
    let resp = authorizer_info::handler::handle(
        &env.services.authorizers,
        http_event("GET", "/authorizers/wxanyone", &[], &[], None),
    )
    .await
    .unwrap();
    assert_eq!(error_of(&resp), (503, json!("store_unavailable")));
    let message = body_json(&resp)["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        message,
        "DynamoDB could not read an authorizer (ResourceNotFoundException): check TABLE_NAME, \
         the function's IAM permissions and the region, then retry"
    );
}
