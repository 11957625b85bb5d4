//! This provider beside the peers a user would otherwise pick (`bench/peers/`: a Python and a TypeScript handler
//! from the CloudFormation CLI's own templates). Each runs as Lambda runs it: a process polling a local Lambda
//! Runtime API, against its own fresh emulator, sent the same requests, with caller credentials as CloudFormation
//! passes them (a session, with its token: the Python library refuses credentials without one). Cold start, peak
//! memory and warm latency per action are printed beside `bootstrap`'s of the same run, as ratios to it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use pia_testkit::{request, update_request};
use serde_json::json;

use super::function::Function;
use super::report::Table;
use super::{ROLE, ROLE_2, World, model, ms, percentiles, us};
use crate::CliError;

/// A Lambda function's `bootstrap` to measure, and the name its column gets.
#[derive(Clone)]
pub struct Peer {
    name: String,
    bootstrap: PathBuf,
}

/// `NAME=PATH`, as `--peer` takes it.
pub fn parse_peer(value: &str) -> Result<Peer, String> {
    let (name, path) = value
        .split_once('=')
        .filter(|(name, path)| !name.is_empty() && !path.is_empty())
        .ok_or_else(|| format!("expected NAME=PATH, got `{value}`"))?;
    Ok(Peer {
        name: name.to_owned(),
        bootstrap: PathBuf::from(path),
    })
}

const ACTIONS: [&str; 7] = [
    "create",
    "read",
    "update: role",
    "update: tags only",
    "update: no change",
    "list",
    "delete",
];

struct Figures {
    cold_starts: Vec<Duration>,
    peak_kib: u64,
    /// Per entry of [`ACTIONS`]: the warm latencies, and the EKS calls of its last invocation.
    warm: Vec<(Vec<Duration>, String)>,
    list_page: usize,
}

pub(super) async fn peers(
    bootstrap: &Path,
    runner: Option<&Path>,
    peers: &[Peer],
    cold_starts: usize,
    iterations: usize,
) -> Result<Table, CliError> {
    if peers.is_empty() {
        let mut table = Table::new("Beside the peers", &[]);
        table.note("(no --peer given: the peers are skipped; `scripts/bench.sh --peers` sets them up)");
        return Ok(table);
    }
    let mut functions = vec![Peer {
        name: "`bootstrap`".into(),
        bootstrap: bootstrap.to_owned(),
    }];
    functions.extend(peers.iter().cloned());
    let mut figures = Vec::new();
    for (index, function) in functions.iter().enumerate() {
        // Only this provider's own build may need an emulating runner; the peers run on this machine's runtimes.
        let runner = if index == 0 { runner } else { None };
        figures.push(measure(function, runner, cold_starts.max(1), iterations.max(1)).await?);
    }
    Ok(report(&functions, &mut figures, cold_starts.max(1), iterations.max(1)))
}

async fn measure(
    function: &Peer,
    runner: Option<&Path>,
    cold_starts: usize,
    iterations: usize,
) -> Result<Figures, CliError> {
    if !function.bootstrap.is_file() {
        return Err(CliError::Config(format!(
            "{}: no bootstrap at {}",
            function.name,
            function.bootstrap.display()
        )));
    }
    let world = World::start().await?;
    let probe = world.invoke(&request("CREATE", model("cold", ROLE, json!([])))).await;
    let first = request(
        "READ",
        json!({"AssociationArn": probe["resourceModel"]["AssociationArn"]}),
    );
    let mut figures = Figures {
        cold_starts: Vec::new(),
        peak_kib: 0,
        warm: Vec::new(),
        list_page: 0,
    };
    for run in 0..cold_starts {
        let mut process = Function::start(&function.name, &function.bootstrap, runner, &world).await?;
        process.invoke(&first, "the first READ").await?;
        figures.cold_starts.push(process.spawned.elapsed());
        if run == 0 {
            warm(&mut process, &world, iterations, &mut figures).await?;
            figures.peak_kib = process.peak_rss_kib();
        }
        process.stop().await;
    }
    Ok(figures)
}

/// Every action `iterations` times on one warm process, each answer checked for SUCCESS.
async fn warm(process: &mut Function, world: &World, iterations: usize, figures: &mut Figures) -> Result<(), CliError> {
    let record = |figures: &mut Figures, samples: Vec<Duration>| {
        figures.warm.push((samples, world.emulator.call_log().join(" + ")));
    };
    let mut samples = Vec::new();
    let mut created = Vec::new();
    for i in 0..iterations {
        world.emulator.reset_calls();
        let (elapsed, event) = process
            .timed(&request("CREATE", model(&format!("w-{i}"), ROLE, json!([]))), "create")
            .await?;
        samples.push(elapsed);
        created.push(event["resourceModel"].clone());
    }
    record(figures, samples);

    let arn = created[0]["AssociationArn"].clone();
    let mut samples = Vec::new();
    for _ in 0..iterations {
        world.emulator.reset_calls();
        samples.push(
            process
                .timed(&request("READ", json!({"AssociationArn": arn})), "read")
                .await?
                .0,
        );
    }
    record(figures, samples);

    let mut current = created[0].clone();
    let mut samples = Vec::new();
    for i in 0..iterations {
        let mut wanted = current.clone();
        wanted["RoleArn"] = json!(if i % 2 == 0 { ROLE_2 } else { ROLE });
        world.emulator.reset_calls();
        let (elapsed, event) = process.timed(&update_request(wanted, current), "update: role").await?;
        samples.push(elapsed);
        current = event["resourceModel"].clone();
    }
    record(figures, samples);

    let mut samples = Vec::new();
    for i in 0..iterations {
        let mut wanted = current.clone();
        wanted["Tags"] = json!([{"Key": "rev", "Value": i.to_string()}]);
        world.emulator.reset_calls();
        let (elapsed, event) = process
            .timed(&update_request(wanted, current), "update: tags only")
            .await?;
        samples.push(elapsed);
        current = event["resourceModel"].clone();
    }
    record(figures, samples);

    let mut samples = Vec::new();
    for _ in 0..iterations {
        world.emulator.reset_calls();
        let unchanged = update_request(current.clone(), current.clone());
        samples.push(process.timed(&unchanged, "update: no change").await?.0);
    }
    record(figures, samples);

    let mut samples = Vec::new();
    for _ in 0..iterations {
        world.emulator.reset_calls();
        let (elapsed, event) = process
            .timed(&request("LIST", json!({"ClusterName": "demo"})), "list")
            .await?;
        samples.push(elapsed);
        figures.list_page = event["resourceModels"].as_array().map_or(0, Vec::len);
    }
    record(figures, samples);

    let mut samples = Vec::new();
    for created in created {
        world.emulator.reset_calls();
        samples.push(process.timed(&request("DELETE", created), "delete").await?.0);
    }
    record(figures, samples);
    Ok(())
}

fn report(functions: &[Peer], figures: &mut [Figures], cold_starts: usize, iterations: usize) -> Table {
    let mut columns = vec!["metric (median / p99)".to_owned()];
    for (index, function) in functions.iter().enumerate() {
        columns.push(function.name.clone());
        if index > 0 {
            columns.push(format!("{} ratio", function.name));
        }
    }
    let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
    let mut table = Table::new(
        format!(
            "Beside the peers ({cold_starts} cold starts, {iterations} warm iterations per action; ratios to `bootstrap`)"
        ),
        &columns,
    );
    let cold: Vec<Vec<f64>> = figures
        .iter_mut()
        .map(|figures| seconds_at(&mut figures.cold_starts))
        .collect();
    table.row(row("cold start", &cold, time));
    let peaks: Vec<Vec<f64>> = figures
        .iter()
        .map(|figures| vec![figures.peak_kib as f64 / 1024.0])
        .collect();
    table.row(row("peak RSS after the warm run", &peaks, |mib| {
        format!("{mib:.1} MiB")
    }));
    for (index, action) in ACTIONS.iter().enumerate() {
        let label = if *action == "list" {
            format!("list (page of {})", figures[0].list_page)
        } else {
            (*action).to_owned()
        };
        let warm: Vec<Vec<f64>> = figures
            .iter_mut()
            .map(|figures| seconds_at(&mut figures.warm[index].0))
            .collect();
        table.row(row(&label, &warm, time));
    }
    // The ratios compare like with like only where every function makes the same EKS calls: say where one does not.
    for (index, action) in ACTIONS.iter().enumerate() {
        let own = &figures[0].warm[index].1;
        for (function, figures) in functions.iter().zip(figures.iter()).skip(1) {
            let theirs = &figures.warm[index].1;
            if theirs != own {
                table.note(format!(
                    "{} makes other EKS calls on {action}: {theirs} (`bootstrap`: {own}).",
                    function.name
                ));
            }
        }
    }
    table.note("Warm latency is from the request queued on the Runtime API to the answer received.");
    table
}

/// The median and 99th percentile, in seconds.
fn seconds_at(samples: &mut [Duration]) -> Vec<f64> {
    let (p50, p99) = percentiles(samples);
    vec![p50.as_secs_f64(), p99.as_secs_f64()]
}

/// One table row: the first function's values as they are, each other one's with their ratios to the first's.
fn row(label: &str, values: &[Vec<f64>], show: impl Fn(f64) -> String) -> Vec<String> {
    let joined = |parts: Vec<String>| parts.join(" / ");
    let mut cells = vec![label.to_owned()];
    for (index, these) in values.iter().enumerate() {
        cells.push(joined(these.iter().map(|value| show(*value)).collect()));
        if index > 0 {
            let ratios = these.iter().zip(&values[0]).map(|(value, own)| {
                let ratio = value / own;
                if ratio < 10.0 {
                    format!("{ratio:.1}×")
                } else {
                    format!("{ratio:.0}×")
                }
            });
            cells.push(joined(ratios.collect()));
        }
    }
    cells
}

/// µs below a millisecond, ms above.
fn time(seconds: f64) -> String {
    let duration = Duration::from_secs_f64(seconds);
    if duration < Duration::from_millis(1) {
        us(duration)
    } else {
        ms(duration)
    }
}
