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

async fn run() -> String {
    let mut b = setup::Bench::setup().await;
    let mut r = report::Report::new();
    phases::cold::run(&mut b, &mut r).await;
    phases::warm::run(&mut b, &mut r).await;
    phases::calls::run(&mut b, &mut r).await;
    phases::messages::run(&mut b, &mut r).await;
    phases::passthrough::run(&mut b, &mut r).await;
    phases::storm::run(&mut b, &mut r).await;
    phases::scale::run(&mut b, &mut r).await;
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
    let path = format!("{}/docs/BENCHMARKS.md", setup::ROOT);
    std::fs::create_dir_all(format!("{}/docs", setup::ROOT)).unwrap();
    std::fs::write(&path, &report).unwrap();
    eprintln!("[bench] written to docs/BENCHMARKS.md");
}
