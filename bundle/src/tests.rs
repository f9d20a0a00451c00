//! The bundle's table against the function crates and the template's handlers, and how it
//! chooses a function.

use super::{chosen, FUNCTIONS};
use std::collections::BTreeSet;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn bundled() -> BTreeSet<String> {
    FUNCTIONS.iter().map(|(name, _)| name.to_string()).collect()
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
    assert_eq!(handlers.len(), FUNCTIONS.len(), "{handlers:?}");
    let mut named = BTreeSet::new();
    for (resource, handler) in handlers {
        let handler = handler.unwrap_or_else(|| panic!("{resource} has no Handler"));
        assert!(
            chosen(Some(&handler), None).is_ok(),
            "{resource}: {handler}"
        );
        named.insert(handler);
    }
    assert_eq!(named, bundled());
}

#[test]
fn the_handler_chooses_the_function() {
    let run = chosen(Some("events"), Some("/var/task/bootstrap")).unwrap();
    let events = FUNCTIONS.iter().find(|(n, _)| *n == "events").unwrap().1;
    assert!(std::ptr::fn_addr_eq(run, events));
    let notifier = FUNCTIONS.iter().find(|(n, _)| *n == "notifier").unwrap().1;
    assert!(!std::ptr::fn_addr_eq(run, notifier));
}

#[test]
fn an_unknown_handler_is_refused_with_the_choices_even_if_started_by_a_known_name() {
    let why = chosen(Some("authorise"), Some("/opt/authorize"))
        .err()
        .unwrap();
    assert!(why.contains("\"authorise\""), "{why}");
    assert!(why.contains("authorize, callback, exchange"), "{why}");
}

#[test]
fn without_a_handler_the_name_it_was_started_by_chooses() {
    assert!(chosen(None, Some("/opt/bin/messages")).is_ok());
    assert!(chosen(Some("  "), Some("refresher")).is_ok());
    let why = chosen(None, Some("/var/task/bootstrap")).err().unwrap();
    assert!(why.starts_with("no function chosen"), "{why}");
    assert!(chosen(None, None).is_err());
}
