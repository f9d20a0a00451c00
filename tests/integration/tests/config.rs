//! `WECHAT_SECRETS_ARN`: the secret is read from Secrets Manager (moto on loopback).

use wxopen::config::{Config, ConfigError};

const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

fn set_base_env(arn: &str) {
    // SAFETY: this test binary has a single test, so no other thread reads the environment.
    unsafe {
        std::env::set_var("WECHAT_COMPONENT_APPID", "wx_component_cfg");
        std::env::set_var("TABLE_NAME", "table");
        std::env::set_var("WECHAT_ENCODING_AES_KEY", KEY);
        std::env::remove_var("WECHAT_COMPONENT_APPSECRET");
        std::env::remove_var("WECHAT_MSG_TOKEN");
        std::env::remove_var("AUTH_STATE_SECRET");
        std::env::set_var("WECHAT_SECRETS_ARN", arn);
    }
}

#[tokio::test]
async fn secrets_come_from_secrets_manager_at_cold_start() {
    let sdk = integration_tests::dynamo::sdk_config().await;
    let sm = aws_sdk_secretsmanager::Client::new(&sdk);
    let secret = serde_json::json!({
        "component_appsecret": "appsecret-from-sm",
        "msg_token": "msg-token-from-sm",
        "encoding_aes_key": KEY,
        "state_secret": "state-secret-from-secrets-manager-0123456789"
    });
    let created = sm
        .create_secret()
        .name(format!("wxopen-test-{}", std::process::id()))
        .secret_string(secret.to_string())
        .send()
        .await
        .unwrap();
    set_base_env(created.arn().unwrap());
    let config = Config::load(&sdk).await.unwrap();
    assert_eq!(
        config.core.component_appsecret.expose(),
        "appsecret-from-sm"
    );
    assert_eq!(config.push.msg_token.expose(), "msg-token-from-sm");
    assert!(
        config
            .auth
            .state_secret
            .expose()
            .starts_with("state-secret-from-sm")
            || config
                .auth
                .state_secret
                .expose()
                .starts_with("state-secret-from-secrets")
    );

    // Split: the platform's secret and the state's, read at once and merged; a key in both is
    // refused by name.
    let create = |name: &str, value: serde_json::Value| {
        let sm = sm.clone();
        let name = format!("wxopen-test-{name}-{}", std::process::id());
        async move {
            let out = sm
                .create_secret()
                .name(name)
                .secret_string(value.to_string());
            out.send().await.unwrap().arn().unwrap().to_owned()
        }
    };
    let platform = create(
        "platform",
        serde_json::json!({"component_appsecret": "appsecret-split", "msg_token": "tok-split"}),
    )
    .await;
    let state = create(
        "state",
        serde_json::json!({"state_secret": "state-secret-split-0123456789-0123456789"}),
    )
    .await;
    set_base_env(&format!("{platform}, {state}"));
    let config = Config::load(&sdk).await.unwrap();
    assert_eq!(config.core.component_appsecret.expose(), "appsecret-split");
    assert_eq!(config.push.msg_token.expose(), "tok-split");
    assert!(config
        .auth
        .state_secret
        .expose()
        .starts_with("state-secret-split"));
    let doubled = create("doubled", serde_json::json!({"msg_token": "tok-LEAK"})).await;
    set_base_env(&format!("{platform},{doubled}"));
    let err = Config::load(&sdk).await.unwrap_err();
    assert!(err.to_string().contains("msg_token is in two"), "{err}");
    assert!(!err.to_string().contains("LEAK"), "{err}");

    // A secret that is not the expected JSON is a clear error that does not quote it.
    let bad = sm
        .create_secret()
        .name(format!("wxopen-test-bad-{}", std::process::id()))
        .secret_string("appsecret-LEAK not json")
        .send()
        .await
        .unwrap();
    set_base_env(bad.arn().unwrap());
    let err = Config::load(&sdk).await.unwrap_err();
    assert!(matches!(err, ConfigError::Secrets { .. }), "{err:?}");
    assert!(!err.to_string().contains("LEAK"), "{err}");

    set_base_env("arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbCdEf");
    assert!(matches!(
        Config::load(&sdk).await.unwrap_err(),
        ConfigError::Secrets { .. }
    ));
}
