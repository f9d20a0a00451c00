//! The built bundle, started as Lambda starts it: `_HANDLER` reaches the named function's own
//! start-up (its configuration checked with `--check-config`, so no runtime is needed), and a
//! wrong handler stops it with the choices.

use std::process::{Command, Output};
use wxopen_lambda::testing::test_vars;

fn start(handler: Option<&str>, extra: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bundle"));
    cmd.arg("--check-config")
        .env_clear()
        .envs(test_vars("bundle-test", "http://127.0.0.1:9", extra))
        .env("AWS_REGION", "us-east-1");
    if let Some(handler) = handler {
        cmd.env("_HANDLER", handler);
    }
    cmd.output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn the_handler_starts_its_function() {
    for handler in ["authorize", "events", "refresher", "notifier"] {
        let out = start(Some(handler), &[("EVENT_BUS_NAME", "bus")]);
        assert_eq!(out.status.code(), Some(0), "{handler}: {}", stderr(&out));
    }
}

#[test]
fn the_chosen_function_checks_its_own_configuration() {
    let out = start(Some("events"), &[("WECHAT_ENCODING_AES_KEY", "short")]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("WECHAT_ENCODING_AES_KEY"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_unknown_or_missing_handler_stops_with_the_choices() {
    for handler in [Some("authorise"), None] {
        let out = start(handler, &[]);
        assert_eq!(out.status.code(), Some(2), "{handler:?}");
        let why = stderr(&out);
        assert!(why.starts_with("bundle: "), "{why}");
        assert!(why.contains("authorizer-token"), "{why}");
    }
}
