//! Logs to stdout as Lambda expects: JSON lines with `AWS_LAMBDA_LOG_FORMAT=JSON` (the
//! template's `LogFormat: JSON`), the level from `AWS_LAMBDA_LOG_LEVEL` (the template's
//! `LogLevel`, INFO by default). The level applies to this project's crates only; every
//! dependency is capped at INFO, since below it the AWS SDK dumps requests and responses (tokens
//! in DynamoDB items) and the Lambda runtime prints each raw event (codes and states in a query).
//! `RUST_LOG` is not read: no setting turns those dumps back on in a deployed function.

use lambda_http::tracing::subscriber::filter::{EnvFilter, LevelFilter};
use std::str::FromStr;

/// Our crates' targets, besides the function's own.
const OWN_TARGETS: [&str; 3] = ["wxopen", "wxopen_lambda", "wxopen_models"];

/// The level every dependency is held to, whatever the configured level.
const DEPENDENCY_CAP: LevelFilter = LevelFilter::INFO;

/// The filter for `function` (its crate name) at `level` (Lambda's names: TRACE, DEBUG, INFO,
/// WARN, ERROR, FATAL; anything else is INFO).
pub fn filter(level: Option<&str>, function: &str) -> String {
    let level = match level.map(str::trim) {
        Some(l) if l.eq_ignore_ascii_case("fatal") => LevelFilter::ERROR,
        Some(l) => LevelFilter::from_str(l).unwrap_or(LevelFilter::INFO),
        None => LevelFilter::INFO,
    };
    let mut directives = vec![DEPENDENCY_CAP.min(level).to_string()];
    let function = function.replace('-', "_");
    for target in OWN_TARGETS.iter().copied().chain([function.as_str()]) {
        directives.push(format!("{target}={level}"));
    }
    directives.join(",").to_lowercase()
}

/// Installs the subscriber for `function` (call once, at cold start).
pub fn init(function: &str) {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL").ok();
    let filter = EnvFilter::new(filter(level.as_deref(), function));
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let fmt = lambda_http::tracing::subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_env_filter(filter);
    if json {
        fmt.json().init()
    } else {
        fmt.init()
    }
}

#[cfg(test)]
mod tests {
    use super::filter;

    #[test]
    fn the_level_reaches_our_crates_and_dependencies_stop_at_info() {
        assert_eq!(
            filter(Some("TRACE"), "authorizer-api"),
            "info,wxopen=trace,wxopen_lambda=trace,wxopen_models=trace,authorizer_api=trace"
        );
        assert_eq!(
            filter(Some("WARN"), "events"),
            "warn,wxopen=warn,wxopen_lambda=warn,wxopen_models=warn,events=warn"
        );
        assert!(filter(None, "events").starts_with("info,wxopen=info"));
        assert!(filter(Some("nonsense"), "events").starts_with("info,"));
        assert!(filter(Some("FATAL"), "events").starts_with("error,"));
    }
}
