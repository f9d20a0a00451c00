//! `make bench`: cold starts, warm latency, calls per operation and a refresh storm, measured
//! on loopback and written to docs/BENCHMARKS.md. Each phase is a module of `phases`; the
//! report and its targets are in `report`.

mod dynamo_proxy;
mod phases;
mod process;
mod report;
mod runtime_api;
mod setup;
mod stats;

/// `BENCH_PHASES=cold,warm` runs only those phases (all when unset), and `BENCH_FUNCTIONS`
/// only those functions' cold starts; the report is then printed
/// but docs/BENCHMARKS.md is left as it is. With `BENCH_BINARIES=<dir>` (default
/// `target/release`) the binaries of another build are measured, such as another release
/// profile's.
fn wanted(phase: &str) -> bool {
    match std::env::var("BENCH_PHASES") {
        Ok(list) => list.split(',').any(|p| p.trim() == phase),
        Err(_) => true,
    }
}

async fn run() -> String {
    let mut b = setup::Bench::setup().await;
    let mut r = report::Report::new();
    if wanted("cold") {
        phases::cold::run(&mut b, &mut r).await;
    }
    if wanted("warm") {
        phases::warm::run(&mut b, &mut r).await;
    }
    if wanted("calls") {
        phases::calls::run(&mut b, &mut r).await;
    }
    if wanted("messages") {
        phases::messages::run(&mut b, &mut r).await;
    }
    if wanted("passthrough") {
        phases::passthrough::run(&mut b, &mut r).await;
    }
    if wanted("storm") {
        phases::storm::run(&mut b, &mut r).await;
    }
    if wanted("rollouts") {
        phases::rollouts::run(&mut b, &mut r).await;
    }
    if wanted("scale") {
        phases::scale::run(&mut b, &mut r).await;
    }
    r.finish()
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let report = runtime.block_on(run());
    println!("{report}");
    if std::env::var_os("BENCH_PHASES").is_some() {
        eprintln!("[bench] some phases only: docs/BENCHMARKS.md left as it is");
        return;
    }
    let path = format!("{}/docs/BENCHMARKS.md", setup::ROOT);
    std::fs::create_dir_all(format!("{}/docs", setup::ROOT)).unwrap();
    std::fs::write(&path, &report).unwrap();
    eprintln!("[bench] written to docs/BENCHMARKS.md");
}
