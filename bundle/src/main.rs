//! Every function in one executable, as `sam build` ships it. Each function's resource in
//! template.yaml names its function as the `Handler`, which Lambda passes as `_HANDLER`; the
//! bundle runs that function's `run`, the very code its own binary (`functions/<name>`) runs under
//! `cargo lambda watch`. One release build then optimises and links the program once, instead of
//! once per function: fat LTO of one binary, not eleven.

use lambda_http::Error;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;

/// A function's `run`, its future boxed so that every function fits one table.
type Run = fn() -> Pin<Box<dyn Future<Output = Result<(), Error>>>>;

/// Every function, by its binary name (the contract's names, and the template's handlers).
const FUNCTIONS: [(&str, Run); 12] = [
    ("authorize", || Box::pin(authorize::run())),
    ("callback", || Box::pin(callback::run())),
    ("exchange", || Box::pin(exchange::run())),
    ("authorizer-info", || Box::pin(authorizer_info::run())),
    ("authorizer-token", || Box::pin(authorizer_token::run())),
    ("events", || Box::pin(events::run())),
    ("refresher", || Box::pin(refresher::run())),
    ("messages", || Box::pin(messages::run())),
    ("notifier", || Box::pin(notifier::run())),
    ("authorizer-api", || Box::pin(authorizer_api::run())),
    ("component-api", || Box::pin(component_api::run())),
    ("rollouts", || Box::pin(rollouts::run())),
];

/// The function to run: the handler Lambda passes, else the name the executable was started by
/// (a copy or link named after a function), else an error that lists the choices.
fn chosen(handler: Option<&str>, started_as: Option<&str>) -> Result<Run, String> {
    let find = |name: &str| {
        FUNCTIONS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, run)| *run)
    };
    let names = || FUNCTIONS.map(|(n, _)| n).join(", ");
    match handler.map(str::trim).filter(|h| !h.is_empty()) {
        Some(handler) => find(handler).ok_or_else(|| {
            format!(
                "the handler \"{handler}\" (_HANDLER) is not a function of this bundle; set the \
                 function's Handler to one of: {}",
                names()
            )
        }),
        None => started_as
            .and_then(|path| Path::new(path).file_name()?.to_str())
            .and_then(find)
            .ok_or_else(|| {
                format!(
                    "no function chosen: set the function's Handler (_HANDLER) to one of: {}",
                    names()
                )
            }),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    if std::env::args().nth(1).as_deref() == Some("--functions") {
        // What the bundle serves, one per line (its tests compare it with the template).
        FUNCTIONS.iter().for_each(|(name, _)| println!("{name}"));
        return Ok(());
    }
    let handler = std::env::var("_HANDLER").ok();
    let started_as = std::env::args().next();
    match chosen(handler.as_deref(), started_as.as_deref()) {
        Ok(run) => run().await,
        Err(why) => {
            eprintln!("bundle: {why}");
            std::process::exit(2)
        }
    }
}
