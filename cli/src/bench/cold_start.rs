//! Cold start of the real `bootstrap` through a local Lambda Runtime API (from the process's spawn to its first
//! answer) against its floor, a trivial function on the same stack started the same way, and `bootstrap`'s peak
//! memory over a CRUDL run.

use std::path::Path;
use std::time::Duration;

use pia_testkit::{request, update_request};
use serde_json::{Value, json};

use super::function::Function;
use super::report::Table;
use super::{ROLE, ROLE_2, World, model, ms, percentiles};
use crate::CliError;

pub(super) async fn cold_start(
    bootstrap: &Path,
    runner: Option<&Path>,
    floor_function: &Path,
    runs: usize,
) -> Result<Table, CliError> {
    if !bootstrap.is_file() {
        let mut table = Table::new("Cold start of `bootstrap`", &[]);
        table.note(format!("(no bootstrap at {}: cold start skipped)", bootstrap.display()));
        return Ok(table);
    }
    let world = World::start().await?;
    let created = world.invoke(&request("CREATE", model("cold", ROLE, json!([])))).await;
    let arn = created["resourceModel"]["AssociationArn"].clone();
    let first = request("READ", json!({"AssociationArn": arn}));
    // Under a runner (qemu) the floor would measure the runner; it is measured where `bootstrap` runs natively.
    let floor = (runner.is_none() && floor_function.is_file()).then_some(floor_function);
    let mut starts = Vec::new();
    let mut floor_starts = Vec::new();
    let mut peak_kib = 0u64;
    let mut crudl = Vec::new();
    for run in 0..runs {
        // The two alternate which starts first, so that neither gains from the other's warm-up.
        let floor_first = run % 2 == 1;
        if let Some(floor) = floor.filter(|_| floor_first) {
            floor_starts.push(floor_start(floor, &world, &first, run).await?);
        }
        let mut process = Function::start("`bootstrap`", bootstrap, runner, &world).await?;
        process.invoke(&first, &format!("cold start {run}")).await?;
        starts.push(process.spawned.elapsed());
        if run == 0 {
            // One full CRUDL sequence (any answer but SUCCESS fails the benchmark), then the peak resident memory of the process.
            let created = process
                .invoke(
                    &request("CREATE", model("cold-crudl", ROLE, json!([{"Key": "k", "Value": "v"}]))),
                    "CREATE",
                )
                .await?;
            crudl.push(format!("CREATE {}", created["status"].as_str().unwrap_or("?")));
            let model_v = created["resourceModel"].clone();
            let mut updated = model_v.clone();
            updated["RoleArn"] = json!(ROLE_2);
            for (action, step) in [
                ("READ", request("READ", model_v.clone())),
                ("UPDATE", update_request(updated, model_v.clone())),
                ("LIST", request("LIST", json!({"ClusterName": "demo"}))),
                ("DELETE", request("DELETE", model_v)),
            ] {
                let event = process.invoke(&step, action).await?;
                crudl.push(format!("{action} {}", event["status"].as_str().unwrap_or("?")));
            }
            peak_kib = process.peak_rss_kib();
        }
        process.stop().await;
        if let Some(floor) = floor.filter(|_| !floor_first) {
            floor_starts.push(floor_start(floor, &world, &first, run).await?);
        }
    }
    let (p50, p99) = percentiles(&mut starts);
    let how = runner
        .map(|runner| format!(", run by `{}`", runner.display()))
        .unwrap_or_default();
    let mut table = Table::new(
        format!("Cold start of `bootstrap` ({runs} runs{how})"),
        &["metric", "value"],
    );
    table.row(["process start → first answered invocation, median".to_owned(), ms(p50)]);
    table.row(["same, worst".to_owned(), ms(p99)]);
    if floor_starts.is_empty() {
        table.note(match runner {
            Some(_) => {
                "(the floor, a trivial function on the same stack, is measured only without a runner)".to_owned()
            }
            None => format!(
                "(no trivial function at {}: the floor was not measured)",
                floor_function.display()
            ),
        });
    } else {
        let (floor_p50, _) = percentiles(&mut floor_starts);
        table.row([
            "the same for a trivial function on the same stack (floor), median".to_owned(),
            ms(floor_p50),
        ]);
        table.row([
            "`bootstrap` over the floor (medians)".to_owned(),
            format!("{:.2}×", p50.as_secs_f64() / floor_p50.as_secs_f64()),
        ]);
    }
    table.row([
        "peak RSS over a full CRUDL run".to_owned(),
        format!("{:.1} MiB", peak_kib as f64 / 1024.0),
    ]);
    table.row(["the CRUDL run's answers".to_owned(), crudl.join(", ")]);
    table.row([
        "`bootstrap` size".to_owned(),
        format!(
            "{:.1} MiB",
            std::fs::metadata(bootstrap).map(|m| m.len()).unwrap_or(0) as f64 / 1048576.0
        ),
    ]);
    Ok(table)
}

/// One cold start of the trivial function: spawned, then invoked with the request `bootstrap` first answers.
async fn floor_start(floor: &Path, world: &World, first: &Value, run: usize) -> Result<Duration, CliError> {
    let mut process = Function::start("the trivial function", floor, None, world).await?;
    process.invoke(first, &format!("cold start {run}")).await?;
    let started = process.spawned.elapsed();
    process.stop().await;
    Ok(started)
}
