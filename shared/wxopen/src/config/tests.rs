use super::*;

const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

fn base() -> HashMap<&'static str, String> {
    HashMap::from([
        ("WECHAT_COMPONENT_APPID", "wx_component".to_owned()),
        ("WECHAT_COMPONENT_APPSECRET", "appsecret-value".to_owned()),
        ("WECHAT_MSG_TOKEN", "msg-token".to_owned()),
        ("WECHAT_ENCODING_AES_KEY", KEY.to_owned()),
        ("TABLE_NAME", "table".to_owned()),
        ("AUTH_STATE_SECRET", "s".repeat(32)),
    ])
}

fn load(vars: &HashMap<&'static str, String>) -> Result<Config, ConfigError> {
    Config::from_lookup(|n| vars.get(n).cloned(), None)
}

#[test]
fn defaults_apply_and_optional_variables_stay_unset() {
    let c = load(&base()).unwrap();
    assert_eq!(
        c.core.api_base.as_str().trim_end_matches('/'),
        DEFAULT_API_BASE
    );
    assert_eq!(
        c.auth.auth_page_base.as_str().trim_end_matches('/'),
        DEFAULT_AUTH_PAGE_BASE
    );
    assert!(c.auth.callback_url.is_none());
    assert_eq!(
        c.auth
            .require_callback_url()
            .unwrap_err()
            .to_string()
            .split(' ')
            .next(),
        Some("AUTH_CALLBACK_URL")
    );
}

#[test]
fn each_missing_variable_is_named() {
    for name in [
        "WECHAT_COMPONENT_APPID",
        "WECHAT_COMPONENT_APPSECRET",
        "WECHAT_MSG_TOKEN",
        "WECHAT_ENCODING_AES_KEY",
        "TABLE_NAME",
        "AUTH_STATE_SECRET",
    ] {
        let mut vars = base();
        vars.insert(name, "  ".into());
        let err = load(&vars).unwrap_err();
        assert!(
            matches!(err, ConfigError::Missing { name: n, .. } if n == name),
            "{name}: {err}"
        );
        assert!(err.to_string().starts_with(name));
    }
}

#[test]
fn each_part_asks_only_for_its_own_variables() {
    let mut vars = base();
    for secret in [
        "WECHAT_MSG_TOKEN",
        "WECHAT_ENCODING_AES_KEY",
        "AUTH_STATE_SECRET",
    ] {
        vars.remove(secret);
    }
    let env = Env::from_lookup(|n| vars.get(n).cloned(), None);
    let core = env
        .core()
        .expect("the core needs none of the message or state secrets");
    assert_eq!(core.component_appid.as_str(), "wx_component");
    assert!(matches!(
        env.push(),
        Err(ConfigError::Missing {
            name: "WECHAT_MSG_TOKEN",
            ..
        })
    ));
    assert!(matches!(
        env.auth(),
        Err(ConfigError::Missing {
            name: "AUTH_STATE_SECRET",
            ..
        })
    ));
}

#[test]
fn malformed_values_are_named_without_echoing_secrets() {
    let cases = [
        ("WECHAT_ENCODING_AES_KEY", "too-short-secret-key"),
        ("WECHAT_ENCODING_AES_KEY_PREVIOUS", "previous-KEY-value"),
        ("WECHAT_API_BASE", "not a url"),
        ("AUTH_CALLBACK_URL", "ftp://example.com/cb"),
        ("WECHAT_COMPONENT_APPID", "wx bad id"),
        ("AUTH_STATE_SECRET", "short-secret"),
    ];
    for (name, value) in cases {
        let mut vars = base();
        vars.insert(name, value.into());
        let err = load(&vars).unwrap_err();
        assert!(
            matches!(err, ConfigError::Malformed { name: n, .. } if n == name),
            "{name}: {err}"
        );
        if name.contains("KEY") || name.contains("SECRET") {
            assert!(!err.to_string().contains(value), "{err}");
        }
    }
}

#[test]
fn a_secret_bundle_overrides_the_four_secrets() {
    let mut vars = base();
    vars.remove("WECHAT_COMPONENT_APPSECRET");
    let bundle = SecretBundle {
        component_appsecret: Some(Secret::new("from-secrets-manager")),
        msg_token: Some(Secret::new("token-from-sm")),
        encoding_aes_key: None,
        state_secret: Some(Secret::new("t".repeat(40))),
        success_signing_key: Some(Secret::new("success-from-sm")),
        encoding_aes_key_previous: Some(Secret::new(KEY)),
    };
    let c = Config::from_lookup(|n| vars.get(n).cloned(), Some(bundle)).unwrap();
    assert_eq!(c.core.component_appsecret.expose(), "from-secrets-manager");
    assert_eq!(c.auth.pages().success_key.expose(), "success-from-sm");
    assert!(
        c.push.encoding_aes_key_previous.is_some(),
        "the previous key of a rotation comes from the secret too"
    );
    assert_eq!(c.push.msg_token.expose(), "token-from-sm");
    assert_eq!(c.auth.state_secret.expose(), "t".repeat(40));
    let debug = format!("{c:?}");
    assert!(
        !debug.contains("from-secrets-manager") && !debug.contains(KEY),
        "{debug}"
    );
}

#[test]
fn anonymous_authorizations_are_off_unless_auth_anonymous_is_true() {
    let anonymous = |value: Option<&str>| {
        let mut vars = base();
        if let Some(v) = value {
            vars.insert("AUTH_ANONYMOUS", v.to_owned());
        }
        load(&vars).map(|c| c.auth.anonymous)
    };
    assert!(!anonymous(None).unwrap());
    assert!(!anonymous(Some("false")).unwrap());
    assert!(anonymous(Some("true")).unwrap());
    let err = anonymous(Some("yes")).unwrap_err();
    assert!(err.to_string().contains("AUTH_ANONYMOUS"), "{err}");
}

#[test]
fn several_secrets_merge_and_a_key_in_two_is_refused_by_name() {
    let platform = SecretBundle::parse(r#"{"component_appsecret":"app-1"}"#).unwrap();
    let messages = SecretBundle::parse(&format!(
        r#"{{"msg_token":"tok-1","encoding_aes_key":"{KEY}"}}"#
    ))
    .unwrap();
    let merged = platform.clone().merge(messages).unwrap();
    assert_eq!(
        merged.component_appsecret.as_ref().unwrap().expose(),
        "app-1"
    );
    assert_eq!(merged.msg_token.as_ref().unwrap().expose(), "tok-1");

    let again = SecretBundle::parse(r#"{"component_appsecret":"app-LEAK"}"#).unwrap();
    let err = merged.merge(again).unwrap_err();
    assert!(matches!(err, ConfigError::Secrets { .. }), "{err:?}");
    assert!(err.to_string().contains("component_appsecret"), "{err}");
    assert!(!err.to_string().contains("LEAK") && !err.to_string().contains("app-1"));

    let err = SecretBundle::parse(r#"{"state_secret": LEAK}"#).unwrap_err();
    assert!(!err.to_string().contains("LEAK"), "{err}");
}

#[test]
fn the_secrets_variable_is_one_arn_or_a_short_list_of_distinct_ones() {
    let (a, b) = (
        "arn:aws:secretsmanager:r:1:secret:a",
        "arn:aws:secretsmanager:r:1:secret:b",
    );
    assert_eq!(secrets::arns(a).unwrap(), [a]);
    assert_eq!(secrets::arns(&format!(" {a} , {b} ,")).unwrap(), [a, b]);
    let twice = secrets::arns(&format!("{a},{a}")).unwrap_err();
    assert!(matches!(
        twice,
        ConfigError::Malformed {
            name: "WECHAT_SECRETS_ARN",
            ..
        }
    ));
    let many = [a; 5].join(",");
    assert!(secrets::arns(&many).is_err());
}

#[test]
fn a_function_is_told_which_keys_of_its_secrets_it_does_not_use() {
    let bundle = SecretBundle {
        component_appsecret: Some(Secret::new("app")),
        msg_token: Some(Secret::new("tok")),
        encoding_aes_key: Some(Secret::new(KEY)),
        state_secret: Some(Secret::new("s".repeat(32))),
        success_signing_key: Some(Secret::new("")),
        encoding_aes_key_previous: None,
    };
    let env = Env::from_lookup(|n| base().get(n).cloned(), Some(bundle));
    assert_eq!(
        env.secrets_beyond(&[Part::Core]),
        ["msg_token", "encoding_aes_key", "state_secret"]
    );
    assert_eq!(
        env.secrets_beyond(&[Part::Core, Part::Push]),
        ["state_secret"]
    );
    assert!(env
        .secrets_beyond(&[Part::Core, Part::Push, Part::Auth])
        .is_empty());
    let split = SecretBundle::parse(r#"{"component_appsecret":"app"}"#).unwrap();
    let env = Env::from_lookup(|n| base().get(n).cloned(), Some(split));
    assert!(env.secrets_beyond(&[Part::Core]).is_empty());
}

#[test]
fn the_kms_key_sealing_tokens_is_required_by_name() {
    let env = Env::from_lookup(|n| base().get(n).cloned(), None);
    let err = env.token_kms_key_id().unwrap_err();
    assert!(
        err.to_string().starts_with("TOKEN_KMS_KEY_ID is not set"),
        "{err}"
    );
    let mut vars = base();
    vars.insert("TOKEN_KMS_KEY_ID", "alias/tokens".into());
    let env = Env::from_lookup(|n| vars.get(n).cloned(), None);
    assert_eq!(env.token_kms_key_id().unwrap(), "alias/tokens");
}
