//! The built bundle, started as Lambda starts it: its table against the function crates and the
//! template's handlers, `_HANDLER` (or the name it was started by) reaching the named function's
//! own start-up (its configuration checked with `--check-config`, so no runtime is needed), and a
//! wrong handler stopping it with the choices.

use std::collections::BTreeSet;
use std::process::{Command, Output};
use wxopen_lambda::testing::test_vars;

const BUNDLE: &str = env!("CARGO_BIN_EXE_bundle");
const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn start(program: &str, handler: Option<&str>, extra: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(program);
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

fn bundled() -> BTreeSet<String> {
    let out = Command::new(BUNDLE).arg("--functions").output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_function_crate_is_bundled_and_nothing_else() {
    let crates: BTreeSet<String> = std::fs::read_dir(format!("{ROOT}/functions"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(bundled(), crates);
}

/// Each `AWS::Serverless::Function` resource's `Handler`, read from the template's text (its
/// CloudFormation tags are not plain YAML).
fn template_handlers() -> Vec<(String, Option<String>)> {
    let text = std::fs::read_to_string(format!("{ROOT}/template.yaml")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if lines.get(i + 1) != Some(&"    Type: AWS::Serverless::Function") {
            continue;
        }
        let resource = line.trim().trim_end_matches(':').to_owned();
        let handler = lines[i + 2..]
            .iter()
            .take_while(|l| !(l.starts_with("  ") && !l.starts_with("   ") && l.ends_with(':')))
            .find_map(|l| l.strip_prefix("      Handler: "))
            .map(|h| h.trim().to_owned());
        found.push((resource, handler));
    }
    found
}

#[test]
fn every_function_of_the_template_names_a_bundled_function_and_each_is_deployed() {
    let handlers = template_handlers();
    let bundled = bundled();
    assert_eq!(handlers.len(), bundled.len(), "{handlers:?}");
    let named: BTreeSet<String> = handlers
        .into_iter()
        .map(|(resource, handler)| handler.unwrap_or_else(|| panic!("{resource} has no Handler")))
        .collect();
    assert_eq!(named, bundled);
}

#[test]
fn the_handler_starts_its_function() {
    for handler in ["authorize", "events", "refresher", "notifier"] {
        let out = start(BUNDLE, Some(handler), &[("EVENT_BUS_NAME", "bus")]);
        assert_eq!(out.status.code(), Some(0), "{handler}: {}", stderr(&out));
    }
    // Only the function named checks the message crypto's key: the handler chose it.
    let short = [("WECHAT_ENCODING_AES_KEY", "short")];
    let out = start(BUNDLE, Some("events"), &short);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("WECHAT_ENCODING_AES_KEY"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        start(BUNDLE, Some("authorize"), &short).status.code(),
        Some(0)
    );
}

#[test]
fn without_a_handler_the_name_it_was_started_by_chooses() {
    let dir = std::env::temp_dir().join(format!("bundle-link-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join("messages");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(BUNDLE, &link).unwrap();
    let out = start(
        link.to_str().unwrap(),
        None,
        &[("WECHAT_ENCODING_AES_KEY", "short")],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "messages checks its key: {}",
        stderr(&out)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_unknown_or_missing_handler_stops_with_the_choices() {
    for (handler, says) in [
        (Some("authorise"), "\"authorise\""),
        (Some("  "), "no function chosen"),
        (None, "no function chosen"),
    ] {
        let out = start(BUNDLE, handler, &[]);
        assert_eq!(out.status.code(), Some(2), "{handler:?}");
        let why = stderr(&out);
        assert!(why.starts_with("bundle: "), "{why}");
        assert!(why.contains(says), "{why}");
        assert!(why.contains("authorize, callback, exchange"), "{why}");
    }
}
