//! Every function as deployed: built and run by `cargo lambda watch` (the Lambda runtime
//! emulator) with its environment wired, invoked with `cargo lambda invoke`. This proves the
//! binaries, their event parsing and their cold-start wiring, not just the handlers.

use integration_tests::dynamo;
use integration_tests::functions::*;
use integration_tests::watch::{warm, watch_vars, Watch};
use integration_tests::wechat_stub::StubWeChat;
use serde_json::{json, Value};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_function_runs_under_cargo_lambda_watch_and_answers_cargo_lambda_invoke() {
    let client = dynamo::client().await;
    let table = dynamo::create_table(&client).await;
    let stub = StubWeChat::start().await;
    let key = integration_tests::kms::create_key().await;
    let vars = watch_vars(
        &table,
        &stub.base_url,
        &key,
        &[
            ("AUTH_CALLBACK_URL", CALLBACK_URL),
            ("AUTH_STATE_SECRET", STATE_SECRET),
            ("AUTH_ANONYMOUS", "true"),
            ("EVENT_BUS_NAME", "wxopen-watch-bus"),
        ],
    );
    let watch = tokio::task::spawn_blocking(move || Watch::start(&vars))
        .await
        .unwrap();
    let invoke = |function: &'static str, payload: Value| {
        let watch = &watch;
        async move { tokio::task::block_in_place(|| watch.invoke(function, &payload)) }
    };
    let appid = "wxf8b4f85f3a794e77";

    // events: an API Gateway POST carrying a push sealed by wechatpy.
    let post_push = |xml: String| {
        let push = seal_with_wechatpy(&xml, COMPONENT);
        let event = http_event_json(
            "POST",
            "/wechat/events",
            &push.query(),
            &[("content-type", "text/xml")],
            Some(&push.body),
        );
        let watch = &watch;
        async move {
            invoke("events", event)
                .await
                .unwrap_or_else(|e| panic!("events: {e}\n{}", watch.log_text()))
        }
    };
    let ticket = push_xml(
        "component_verify_ticket",
        &[("ComponentVerifyTicket", "ticket@@@watch")],
    );
    let resp = post_push(ticket).await;
    assert_eq!(
        (resp["statusCode"].clone(), resp["body"].clone()),
        (json!(200), json!("success")),
        "{resp}"
    );
    // Any other push is published; the bus this run names is not reachable, so the push is not
    // acknowledged (503) and WeChat would deliver it again rather than see it dropped.
    let resp = post_push(push_xml("notify_3rd_wxa_wxverify", &[("appid", "wxa")])).await;
    assert_eq!(resp["statusCode"], json!(503), "{resp}");
    assert!(
        resp["body"].as_str().unwrap().contains("publish_failed"),
        "{resp}"
    );

    // authorize: a 302 to the authorization page.
    let resp = invoke(
        "authorize",
        http_event_json("GET", "/wechat/authorize", &[("auth_type", "3")], &[], None),
    )
    .await
    .unwrap();
    assert_eq!(resp["statusCode"], 302, "{resp}");
    let location = resp["headers"]["location"].as_str().unwrap().to_owned();
    let page = url::Url::parse(&location).unwrap();
    let redirect_uri = page
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .unwrap()
        .1
        .into_owned();
    let state = url::Url::parse(&redirect_uri)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();

    // callback: the exchange, stored, and the result page.
    let resp = invoke(
        "callback",
        http_event_json(
            "GET",
            "/wechat/callback",
            &[("auth_code", "queryauthcode@@@watch"), ("state", &state)],
            &[("accept", "text/html")],
            None,
        ),
    )
    .await
    .unwrap();
    assert_eq!(resp["statusCode"], 200, "{resp}");
    assert!(resp["body"].as_str().unwrap().contains(appid));

    // exchange: a direct invocation returns the record, never a token.
    let resp = invoke(
        "exchange",
        json!({"authorization_code": "queryauthcode@@@again"}),
    )
    .await
    .unwrap();
    assert_eq!(
        (resp["authorizer_appid"].clone(), resp["status"].clone()),
        (json!(appid), json!("authorized"))
    );
    assert!(!resp.to_string().contains("QXjUqNqf"));

    // authorizer-info: the HTTP API route with its path parameter...
    let mut event = http_event_json("GET", &format!("/authorizers/{appid}"), &[], &[], None);
    event["pathParameters"] = json!({"appid": appid});
    let resp = invoke("authorizer-info", event).await.unwrap();
    assert_eq!(resp["statusCode"], 200, "{resp}");
    let body: Value = serde_json::from_str(resp["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["account_kind"], "official_account");
    // ...and plain HTTP where `cargo lambda watch` mounts it, whatever the prefix.
    let url = format!(
        "http://127.0.0.1:{}/lambda-url/authorizer-info/{appid}?max_age_seconds=600",
        watch.port
    );
    let answer: Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
    assert_eq!(
        (
            answer["authorizer_appid"].clone(),
            answer["info_source"].clone()
        ),
        (json!(appid), json!("snapshot"))
    );

    // authorizer-token: a direct invocation.
    let resp = invoke("authorizer-token", json!({"authorizer_appid": appid}))
        .await
        .unwrap();
    assert_eq!(resp["authorizer_appid"], appid);
    assert!(resp["expires_at"].as_i64().unwrap() > wxopen::clock::now_secs());
    let err = invoke("authorizer-token", json!({"authorizer_appid": "wxnobody"}))
        .await
        .unwrap_err();
    assert!(err.contains("unknown_authorizer"), "{err}");

    // refresher: a scheduled event.
    let scheduled = json!({"version": "0", "id": "e1", "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": "2026-11-21T12:00:00Z", "region": "us-east-1", "resources": [], "detail": {}});
    let resp = invoke("refresher", scheduled).await.unwrap();
    assert_eq!(resp["authorizers_listed"], 0, "{resp}");
    assert!(resp["component_token_expires_at"].as_i64().is_some());

    // notifier: a stream batch with nothing to publish reports no failure.
    let resp = invoke("notifier", json!({"Records": []})).await.unwrap();
    assert_eq!(resp, json!({"batchItemFailures": []}));

    // messages: a message without a signature is refused by the contract.
    let resp = invoke(
        "messages",
        http_event_json(
            "POST",
            &format!("/wechat/messages/{appid}"),
            &[],
            &[],
            Some("<xml/>"),
        ),
    )
    .await
    .unwrap();
    assert_eq!(resp["statusCode"], 401, "{resp}");

    // The functions logged JSON lines (AWS_LAMBDA_LOG_FORMAT=JSON), at TRACE, and no token,
    // code, state or secret the test used.
    let log = watch.log_text();
    assert!(log.contains("\"authorization stored\""), "{log}");
    for secret in [
        APPSECRET,
        MSG_TOKEN,
        AES_KEY,
        "ticket@@@",
        "QXjUqNqf",
        "dTo-YCXPL4llX",
        "queryauthcode@@@",
        "preauthcode@@@",
        "sim-component-token-",
        "sim-authorizer-token-",
        "sim-refresh-",
        state.as_str(),
    ] {
        assert!(
            !log.contains(secret),
            "{secret:?} in the cargo lambda watch log"
        );
    }
}

/// POSTs to `url` until the function behind it answers at all (`cargo lambda watch` builds and
/// starts a function on its first request), for at most two minutes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulators_release_test_passes_for_every_group_against_messages_under_watch() {
    use wechat_sim::release::ReleaseReport;
    use wechat_sim::Simulator;
    let client = dynamo::client().await;
    let table = dynamo::create_table(&client).await;
    let sim_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim_url = format!("http://{}", sim_listener.local_addr().unwrap());
    let key = integration_tests::kms::create_key().await;
    let vars = watch_vars(&table, &sim_url, &key, &[]);
    let watch = tokio::task::spawn_blocking(move || Watch::start(&vars))
        .await
        .unwrap();
    let base = format!("http://127.0.0.1:{}/lambda-url", watch.port);
    warm(&format!("{base}/messages/wx570bc396a51b8ff8")).await;
    warm(&format!("{base}/events")).await;
    let sim = Simulator::start(
        integration_tests::functions::sim_config(
            Some(format!("{base}/events")),
            Some(format!("{base}/messages/$APPID$")),
        ),
        sim_listener,
    )
    .await;
    let http = reqwest::Client::new();
    for group in 1..=5u8 {
        let format = if group % 2 == 0 { "xml" } else { "json" };
        let report: ReleaseReport = http
            .post(format!("{}/_sim/release-test", sim.base_url))
            .json(&json!({"group": group, "mini_program_format": format}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            report.passed,
            "group {group}: {report:#?}\n{}",
            watch.log_text()
        );
        assert_eq!(report.cases.len(), 5);
        for case in &report.cases {
            assert!(case.elapsed_ms < 5000, "{case:?}");
        }
    }
    // The API cases stored every test account as an authorization.
    let store = wxopen::store::DynamoStore::new(
        client,
        table,
        component(),
        integration_tests::kms::vault_on(&key).await,
    );
    for account in wxopen_models::release_test::TEST_ACCOUNTS {
        let appid = wxopen_models::AuthorizerAppid::parse(account.appid).unwrap();
        assert_eq!(
            dynamo::stored(&store, &appid).await.record.status,
            wxopen_models::records::AuthorizerStatus::Authorized
        );
    }
    let log = watch.log_text();
    for secret in [
        APPSECRET,
        MSG_TOKEN,
        AES_KEY,
        "sim-component-token-",
        "sim-authorizer-token",
        "sim-refresh-",
        "queryauthcode@@@",
    ] {
        assert!(
            !log.contains(secret),
            "{secret:?} in the cargo lambda watch log"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_functions_call_wechat_through_authorizer_api_and_component_api_under_watch() {
    use base64::Engine as _;
    use wechat_sim::accounts::{MINI_PROGRAM_APPID, OFFICIAL_ACCOUNT_APPID};
    use wechat_sim::Simulator;
    use wxopen::store::TicketStore;
    let client = dynamo::client().await;
    let table = dynamo::create_table(&client).await;
    let sim = Simulator::start(
        integration_tests::functions::sim_config(None, None),
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
    )
    .await;
    sim.state.lock().unwrap().latest_ticket = Some("ticket@@@watch-api".into());
    let key = integration_tests::kms::create_key().await;
    let store = wxopen::store::DynamoStore::new(
        client,
        table.clone(),
        component(),
        integration_tests::kms::vault_on(&key).await,
    );
    store
        .save_ticket(
            &wxopen_models::VerifyTicket::new("ticket@@@watch-api"),
            wxopen::clock::Timestamp::now(),
        )
        .await
        .unwrap();
    let vars = watch_vars(&table, &sim.base_url, &key, &[]);
    let watch = tokio::task::spawn_blocking(move || Watch::start(&vars))
        .await
        .unwrap();
    let invoke = |function: &'static str, payload: Value| {
        let watch = &watch;
        async move { tokio::task::block_in_place(|| watch.invoke(function, &payload)) }
    };
    let calls = |endpoint: &str| {
        sim.state
            .lock()
            .unwrap()
            .calls()
            .get(endpoint)
            .copied()
            .unwrap_or(0)
    };
    // Both accounts authorize (their codes exchanged by the exchange function).
    for appid in [OFFICIAL_ACCOUNT_APPID, MINI_PROGRAM_APPID] {
        let code = sim.state.lock().unwrap().authorize(appid);
        let record = invoke("exchange", json!({"authorization_code": code}))
            .await
            .unwrap_or_else(|e| panic!("exchange: {e}"));
        assert_eq!(record["status"], "authorized");
    }

    // A customer-service message, as the Official Account.
    let answer = invoke("authorizer-api", json!({"authorizer_appid": OFFICIAL_ACCOUNT_APPID,
        "path": "/cgi-bin/message/custom/send",
        "body": {"touser": "o-watch-user", "msgtype": "text", "text": {"content": "hello from authorizer-api"}}}))
        .await
        .unwrap_or_else(|e| panic!("authorizer-api: {e}\n{}", watch.log_text()));
    assert_eq!(
        answer,
        json!({"status": 200, "body": {"errcode": 0, "errmsg": "ok"}})
    );
    let sent = sim.state.lock().unwrap().sent_messages();
    assert_eq!(
        (
            sent[0].appid.as_str(),
            sent[0].touser.as_str(),
            sent[0].content.as_str()
        ),
        (
            OFFICIAL_ACCOUNT_APPID,
            "o-watch-user",
            "hello from authorizer-api"
        )
    );

    // A Mini Program code: binary, base64 with its content type.
    let answer = invoke(
        "authorizer-api",
        json!({"authorizer_appid": MINI_PROGRAM_APPID,
        "path": "/wxa/getwxacode", "body": {"path": "pages/index/index", "width": 280}}),
    )
    .await
    .unwrap();
    assert_eq!(answer["content_type"], "image/jpeg", "{answer}");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(answer["body_base64"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        bytes,
        wechat_sim::account_api::qr_code_bytes(MINI_PROGRAM_APPID)
    );

    // WeChat refuses the token once: the call still succeeds, with exactly one refresh.
    let refreshes = calls("api_authorizer_token");
    assert!(sim
        .state
        .lock()
        .unwrap()
        .refuse_authorizer_token(OFFICIAL_ACCOUNT_APPID));
    let answer = invoke("authorizer-api", json!({"authorizer_appid": OFFICIAL_ACCOUNT_APPID,
        "path": "/cgi-bin/user/info", "method": "GET", "query": {"openid": "o-watch-user", "lang": "zh_CN"}}))
        .await
        .unwrap();
    assert_eq!(answer["body"]["errcode"], 0, "{answer}");
    assert_eq!(answer["body"]["query"]["openid"], "o-watch-user");
    assert_eq!(calls("api_authorizer_token"), refreshes + 1);

    // WeChat's business errors come back in the body, as sent.
    sim.state.lock().unwrap().add_fault(wechat_sim::Fault {
        endpoint: "account:datacube/getusersummary".into(),
        errcode: Some(61500),
        delay_ms: None,
        count: 1,
    });
    let answer = invoke("authorizer-api", json!({"authorizer_appid": OFFICIAL_ACCOUNT_APPID,
        "path": "/datacube/getusersummary", "body": {"begin_date": "2026-11-01", "end_date": "2026-11-07"}}))
        .await
        .unwrap();
    assert_eq!(answer["body"]["errcode"], 61500);

    // A refused call comes back as the Lambda error naming the contract's code, and reaches no
    // WeChat API (each code is pinned by the handlers' and services' own tests).
    let before = sim.state.lock().unwrap().total_calls();
    let hostile = json!({"authorizer_appid": OFFICIAL_ACCOUNT_APPID, "path": "https://evil.example/cgi-bin/x"});
    let err = invoke("authorizer-api", hostile).await.unwrap_err();
    assert!(err.contains("invalid_path"), "{err}");
    assert_eq!(
        sim.state.lock().unwrap().total_calls(),
        before,
        "nothing reached WeChat"
    );

    // Mini Program login and web OAuth, with the component token.
    let session = invoke(
        "component-api",
        json!({"op": "jscode2session", "appid": MINI_PROGRAM_APPID, "js_code": "jscode-watch-1"}),
    )
    .await
    .unwrap_or_else(|e| panic!("jscode2session: {e}\n{}", watch.log_text()));
    assert_eq!(session["openid"], "o-mp-jscode-watch-1");
    assert!(session["session_key"]
        .as_str()
        .unwrap()
        .starts_with("sim-session-key-"));
    let err = invoke(
        "component-api",
        json!({"op": "jscode2session", "appid": MINI_PROGRAM_APPID, "js_code": "jscode-watch-1"}),
    )
    .await
    .unwrap_err();
    assert!(
        err.contains("40029"),
        "a used code is WeChat's error: {err}"
    );
    let grant = invoke("component-api", json!({"op": "oauth_exchange", "appid": OFFICIAL_ACCOUNT_APPID, "code": "oauthcode-watch-1"}))
        .await
        .unwrap();
    assert_eq!(
        (grant["openid"].clone(), grant["scope"].clone()),
        (json!("o-oa-oauthcode-watch-1"), json!("snsapi_base"))
    );
    assert!(grant["access_token"]
        .as_str()
        .unwrap()
        .starts_with("sim-oauth-access-"));
    let url = invoke(
        "component-api",
        json!({"op": "oauth_url", "appid": OFFICIAL_ACCOUNT_APPID,
        "redirect_uri": "https://shop.example/back", "scope": "snsapi_userinfo", "state": "s42"}),
    )
    .await
    .unwrap();
    assert!(
        url["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("component_appid={COMPONENT}#wechat_redirect")),
        "{url}"
    );
    let option = invoke("component-api", json!({"op": "get_option", "authorizer_appid": OFFICIAL_ACCOUNT_APPID, "option_name": "voice_recognize"}))
        .await
        .unwrap();
    assert_eq!(option["option_value"], "1");

    // The component token refused once: the raw call still succeeds.
    sim.state.lock().unwrap().refuse_component_tokens();
    let answer = invoke("component-api", json!({"path": "/cgi-bin/component/api_get_authorizer_option", "body": {"authorizer_appid": OFFICIAL_ACCOUNT_APPID, "option_name": "voice_recognize"}}))
        .await
        .unwrap();
    assert_eq!(answer["body"]["option_value"], "1", "{answer}");

    // The quota runbook: a reset for one account, one for the platform; a bad AppID sends none.
    let reset = invoke(
        "component-api",
        json!({"op": "clear_quota", "appid": MINI_PROGRAM_APPID}),
    )
    .await
    .unwrap();
    assert_eq!(reset, json!({"errcode": 0, "errmsg": "ok"}));
    invoke("component-api", json!({"op": "clear_quota"}))
        .await
        .unwrap();
    let err = invoke(
        "component-api",
        json!({"op": "clear_quota", "appid": "not an appid"}),
    )
    .await
    .unwrap_err();
    assert!(err.contains("invalid_appid"), "{err}");
    assert_eq!(
        sim.state.lock().unwrap().quota_resets,
        vec![MINI_PROGRAM_APPID.to_owned(), String::new()]
    );
    assert!(watch.log_text().contains("\"daily API quotas reset\""));

    // Each call was audited; no token, code or secret is in any log line.
    let log = watch.log_text();
    assert!(log.contains("\"WeChat API called\""), "{log}");
    assert!(log.contains("/cgi-bin/message/custom/send"));
    for secret in [
        APPSECRET,
        MSG_TOKEN,
        AES_KEY,
        "ticket@@@watch-api",
        "sim-authorizer-token-",
        "sim-component-token-",
        "sim-refresh-",
        "sim-session-key-",
        "sim-oauth-access-",
        "sim-oauth-refresh-",
        "jscode-watch-1",
        "oauthcode-watch-1",
        "queryauthcode@@@",
        "hello from authorizer-api",
    ] {
        assert!(
            !log.contains(secret),
            "{secret:?} in the cargo lambda watch log"
        );
    }
}

/// The embedded-metric documents among a log's lines, each checked against CloudWatch's
/// specification of the format: the `_aws` metadata, every dimension and metric a member of the
/// document, values numbers or at most 100 numbers.
fn emf_documents(log: &str) -> Vec<Value> {
    let docs: Vec<Value> = log
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(&line[line.find('{')?..]).ok())
        .filter(|doc| doc.get("_aws").is_some())
        .collect();
    for doc in &docs {
        let aws = &doc["_aws"];
        assert!(aws["Timestamp"].as_u64().is_some(), "Timestamp: {doc}");
        let directives = aws["CloudWatchMetrics"].as_array().expect("directives");
        assert!(!directives.is_empty(), "{doc}");
        for directive in directives {
            assert!(directive["Namespace"]
                .as_str()
                .is_some_and(|n| !n.is_empty()));
            for set in directive["Dimensions"].as_array().expect("dimension sets") {
                let set = set.as_array().expect("a dimension set");
                assert!(set.len() <= 30, "{doc}");
                for name in set {
                    let name = name.as_str().expect("dimension name");
                    assert!(
                        doc[name].is_string(),
                        "dimension {name} has no value: {doc}"
                    );
                }
            }
            for metric in directive["Metrics"].as_array().expect("metrics") {
                let name = metric["Name"].as_str().expect("metric name");
                let value = &doc[name];
                let numbers = match value.as_array() {
                    Some(values) => values.len() <= 100 && values.iter().all(Value::is_number),
                    None => value.is_number(),
                };
                assert!(numbers, "metric {name} is not a number: {doc}");
            }
        }
    }
    docs
}

/// The values of `metric` recorded by `function` with `labels` among its dimensions, with the
/// metric's unit.
fn metric<'a>(
    docs: &'a [Value],
    function: &str,
    metric: &str,
    labels: &[(&str, &str)],
) -> Vec<(&'a Value, Option<&'a str>)> {
    docs.iter()
        .filter(|d| d["Function"] == function && labels.iter().all(|(k, v)| d[*k] == *v))
        .filter_map(|d| {
            let directive = &d["_aws"]["CloudWatchMetrics"][0];
            let declared = directive["Metrics"]
                .as_array()?
                .iter()
                .find(|m| m["Name"] == metric)?;
            Some((&d[metric], declared["Unit"].as_str()))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_refresher_writes_the_tickets_age_and_wechat_errors_as_embedded_metrics() {
    use wxopen::store::TicketStore;
    let client = dynamo::client().await;
    let table = dynamo::create_table(&client).await;
    let sim = integration_tests::functions::start_simulator().await;
    let namespace = "WxOpen/metrics-test";
    let key = integration_tests::kms::create_key().await;
    let vars = watch_vars(
        &table,
        &sim.base_url,
        &key,
        &[("METRICS_NAMESPACE", namespace)],
    );
    let watch = tokio::task::spawn_blocking(move || Watch::start(&vars))
        .await
        .unwrap();
    let invoke = |payload: Value| {
        let watch = &watch;
        async move { tokio::task::block_in_place(|| watch.invoke("refresher", &payload)) }
    };

    // No ticket stored: the run fails, asks WeChat for a push, and says so in its metrics.
    let err = invoke(json!({"job": "component_token"})).await.unwrap_err();
    assert!(err.contains("ticket_missing"), "{err}");
    let docs = emf_documents(&watch.log_text());
    assert!(
        docs.iter()
            .all(|d| d["_aws"]["CloudWatchMetrics"][0]["Namespace"] == namespace),
        "{docs:?}"
    );
    assert_eq!(
        metric(&docs, "refresher", "TicketMissing", &[]),
        vec![(&json!(1), Some("Count"))],
        "{docs:#?}"
    );
    let age = metric(&docs, "refresher", "TicketAge", &[]);
    assert_eq!(age.len(), 1, "{docs:#?}");
    assert_eq!(age[0].1, Some("Seconds"));
    assert!(
        age[0]
            .0
            .as_array()
            .is_some_and(|v| v.len() == 1 && v[0].as_f64() < Some(60.0)),
        "the wait began with this run: {age:?}"
    );
    let calls: Value = reqwest::get(format!("{}/_sim/calls", sim.base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(calls["api_start_push_ticket"], 1, "{calls}");

    // A ticket from ten minutes ago, and WeChat refusing the caller's IP: 61004 is counted.
    let store = wxopen::store::DynamoStore::new(
        client,
        table,
        component(),
        integration_tests::kms::vault_on(&key).await,
    );
    let created = wxopen::clock::Timestamp::now().minus(Duration::from_secs(600));
    store
        .save_ticket(
            &wxopen_models::VerifyTicket::new("ticket@@@metrics"),
            created,
        )
        .await
        .unwrap();
    reqwest::Client::new()
        .post(format!("{}/_sim/faults", sim.base_url))
        .json(&json!({"endpoint": "api_component_token", "errcode": 61004, "count": 1}))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let first_run = docs.len();
    let err = invoke(json!({"job": "component_token"})).await.unwrap_err();
    assert!(err.contains("61004"), "{err}");
    let docs = emf_documents(&watch.log_text())[first_run..].to_vec();
    assert_eq!(
        metric(&docs, "refresher", "WeChatErrors", &[("ErrCode", "61004")]),
        vec![(&json!(1), Some("Count"))],
        "{docs:#?}"
    );
    assert_eq!(
        metric(
            &docs,
            "refresher",
            "TokenRefreshes",
            &[("Kind", "component"), ("Outcome", "failed")]
        ),
        vec![(&json!(1), Some("Count"))],
        "{docs:#?}"
    );
    let ages: Vec<f64> = metric(&docs, "refresher", "TicketAge", &[])
        .iter()
        .filter_map(|(v, _)| v.as_array()?.first()?.as_f64())
        .collect();
    assert!(
        ages.len() == 1 && (600.0..700.0).contains(&ages[0]),
        "the stored ticket's age: {ages:?}"
    );
    // Neither the ticket nor the secret is in the metrics or the log.
    let log = watch.log_text();
    assert!(!log.contains("ticket@@@metrics") && !log.contains(APPSECRET));
}
