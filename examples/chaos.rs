//! Prints the chaos report: `cargo run --example chaos [-- RUNS [SEED]]`. The same harness runs in
//! `tests/chaos.rs`, which asserts that no run leaves an orphan or a duplicate and every answer is a correct one.

#[path = "../tests/chaos_support/mod.rs"]
mod chaos_support;

use chaos_support::{ChaosSettings, run_chaos};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let mut settings = ChaosSettings::standard();
    let mut args = std::env::args().skip(1);
    if let Some(runs) = args.next().and_then(|a| a.parse().ok()) {
        settings.runs = runs;
    }
    if let Some(seed) = args.next().and_then(|a| a.parse().ok()) {
        settings.seed = seed;
    }
    let report = run_chaos(&settings).await;
    println!("{report}");
    let clean = report.violations.is_empty() && report.orphans == 0 && report.duplicates == 0;
    if clean {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
