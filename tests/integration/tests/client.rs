//! The typed client (`wxopen-client`) against the functions under `cargo lambda watch`, reached
//! through the emulator's Lambda Invoke API as the SDK reaches Lambda (`AWS_ENDPOINT_URL_LAMBDA`
//! or an endpoint URL), against the simulator on DynamoDB Local.

use integration_tests::dynamo;
use integration_tests::watch::{warm, watch_vars, Watch};
use serde_json::json;
use std::time::{Duration, Instant};
use wechat_sim::accounts::{MINI_PROGRAM_APPID, OFFICIAL_ACCOUNT_APPID};
use wechat_sim::Simulator;
use wxopen_client::{ApiAnswer, ApiCall, Client, Error, Functions, LinkRequest};
use wxopen_models::AuthorizerAppid;

async fn client_of(watch: &Watch) -> Client {
    let sdk = integration_tests::dynamo::sdk_config().await;
    let config = aws_sdk_lambda::config::Builder::from(&sdk)
        .endpoint_url(format!("http://127.0.0.1:{}", watch.port))
        .build();
    Client::new(
        aws_sdk_lambda::Client::from_conf(config),
        Functions::named(""),
    )
}

fn call(v: serde_json::Value) -> ApiCall {
    serde_json::from_value(v).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typed_client_calls_every_function_holds_tokens_and_names_every_error() {
    let table = dynamo::create_table(&dynamo::client().await).await;
    let key = integration_tests::kms::create_key().await;
    let sim_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim_url = format!("http://{}", sim_listener.local_addr().unwrap());
    let callback = "http://127.0.0.1:9/wechat/callback";
    let vars = watch_vars(
        &table,
        &sim_url,
        &key,
        &[
            ("AUTH_CALLBACK_URL", callback),
            ("AUTH_STATE_SECRET", "s".repeat(40).as_str()),
        ],
    );
    let watch = tokio::task::spawn_blocking(move || Watch::start(&vars))
        .await
        .unwrap();
    let base = format!("http://127.0.0.1:{}/lambda-url", watch.port);
    warm(&format!("{base}/events")).await;
    let config = integration_tests::functions::sim_config(Some(format!("{base}/events")), None);
    let sim = Simulator::start(config, sim_listener).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while delivered_tickets(&sim).await == 0 {
        assert!(
            Instant::now() < deadline,
            "the simulator's first ticket never arrived"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let client = client_of(&watch).await;
    let oa = AuthorizerAppid::parse(OFFICIAL_ACCOUNT_APPID).unwrap();
    let mp = AuthorizerAppid::parse(MINI_PROGRAM_APPID).unwrap();

    // An exchange, for each account.
    for appid in [&oa, &mp] {
        let code = sim.state.lock().unwrap().authorize(appid.as_str());
        let record = client
            .exchange(&code)
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}", watch.log_text()));
        assert_eq!(&record.authorizer_appid, appid);
    }
    // 100 token requests from one warm client: one invocation.
    let before = client.invocations();
    let token = client.authorizer_token(&oa).await.unwrap();
    for _ in 0..99 {
        assert_eq!(client.authorizer_token(&oa).await.unwrap(), token);
    }
    assert_eq!(client.invocations() - before, 1);
    // WeChat refuses it: replaced once, then held again.
    let renewals = renewals_at(&sim);
    sim.state
        .lock()
        .unwrap()
        .refuse_authorizer_token(oa.as_str());
    let renewed = client
        .replace_token(&oa, &token.authorizer_access_token)
        .await
        .unwrap();
    assert_ne!(
        renewed.authorizer_access_token,
        token.authorizer_access_token
    );
    assert_eq!(client.authorizer_token(&oa).await.unwrap(), renewed);
    let after = renewals_at(&sim);
    assert_eq!(after - renewals, 1, "one renewal");
    // A proxied call, Mini Program login, a minted link.
    let answer = client
        .call_as(
            &oa,
            &call(json!({"path": "/cgi-bin/get_current_selfmenu_info", "method": "GET"})),
        )
        .await
        .unwrap();
    assert!(
        matches!(&answer, ApiAnswer::Json { status: 200, body } if body["errcode"] == 0),
        "{answer:?}"
    );
    let session = client.jscode2session(&mp, "jscode-client-1").await.unwrap();
    assert_eq!(session.openid, "o-mp-jscode-client-1");
    let link = client
        .mint_link(&LinkRequest {
            ext: "customer-42".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        link.url.contains("link=") && link.expires_at > 0,
        "{link:?}"
    );

    // Each error as its variant.
    let nobody = AuthorizerAppid::parse("wxnobody00000000").unwrap();
    assert!(matches!(
        client.authorizer_token(&nobody).await,
        Err(Error::UnknownAuthorizer(_))
    ));
    let bad_path = client
        .call_as(&oa, &call(json!({"path": "/cgi-bin/../x"})))
        .await;
    assert!(
        matches!(bad_path, Err(Error::InvalidPath(_))),
        "{bad_path:?}"
    );
    let credential = client
        .call_as_platform(&call(
            json!({"path": "/cgi-bin/component/api_component_token"}),
        ))
        .await;
    assert!(
        matches!(&credential, Err(Error::Refused { code, .. }) if code == "credential_endpoint"),
        "{credential:?}"
    );
    let spent = client.exchange("queryauthcode@@@never-issued").await;
    assert!(
        matches!(
            spent,
            Err(Error::WeChat {
                errcode: Some(61009),
                ..
            })
        ),
        "{spent:?}"
    );
    let pushed = reqwest::Client::new()
        .post(format!("{}/_sim/push/unauthorized", sim.base_url))
        .json(&json!({"authorizer_appid": MINI_PROGRAM_APPID}))
        .send()
        .await
        .unwrap();
    assert_eq!(pushed.status(), 200);
    assert!(matches!(
        client.authorizer_token(&mp).await,
        Err(Error::AuthorizerRevoked(_))
    ));
    let unknown_op = client.component_op(&json!({"op": "nonsense"})).await;
    assert!(
        matches!(&unknown_op, Err(Error::Service { code, .. }) if code == "invalid_op"),
        "{unknown_op:?}"
    );
}

/// `api_authorizer_token` calls the simulator answered.
fn renewals_at(sim: &Simulator) -> u64 {
    sim.state.lock().unwrap().count("api_authorizer_token")
}

async fn delivered_tickets(sim: &Simulator) -> u64 {
    let status: serde_json::Value = reqwest::get(format!("{}/_sim/status", sim.base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    status["tickets_delivered"].as_u64().unwrap_or(0)
}
