//! Cold start of the real `bootstrap` through a local Lambda Runtime API, and its peak memory over a CRUDL run.

use std::process::Stdio;
use std::time::Instant;

use pia_emulator::lambda_runtime_api::{InvocationOutcome, LambdaRuntimeApi};
use pia_testkit::{request, update_request};
use serde_json::{Value, json};

use super::report::Table;
use super::{ROLE, ROLE_2, World, model, ms, percentiles};
use crate::CliError;

pub(super) async fn cold_start(
    bootstrap: &std::path::Path,
    runner: Option<&std::path::Path>,
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
    let mut starts = Vec::new();
    let mut peak_kib = 0u64;
    let mut crudl = Vec::new();
    for run in 0..runs {
        let runtime = LambdaRuntimeApi::start()
            .await
            .map_err(|e| CliError::Start(e.to_string()))?;
        let started = Instant::now();
        let mut command = match runner {
            Some(runner) => {
                let mut command = tokio::process::Command::new(runner);
                command.arg(bootstrap);
                command
            }
            None => tokio::process::Command::new(bootstrap),
        };
        // Lambda's environment only, and the runner's own settings (QEMU_LD_PREFIX: where qemu finds a glibc).
        let runner_settings = std::env::vars().filter(|(name, _)| runner.is_some() && name.starts_with("QEMU_"));
        let log = std::env::temp_dir().join(format!("pia-bench-bootstrap-{}.log", std::process::id()));
        let log_file = std::fs::File::create(&log).map_err(|source| CliError::Read {
            what: log.display().to_string(),
            source,
        })?;
        let mut child = command
            .env_clear()
            .envs(runner_settings)
            .envs(runtime.function_environment())
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ENDPOINT_URL_EKS", world.emulator.endpoint())
            .stdout(Stdio::null())
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| CliError::Read {
                what: runner.unwrap_or(bootstrap).display().to_string(),
                source,
            })?;
        let first = tokio::select! {
            first = runtime.invoke(request("READ", json!({"AssociationArn": arn})).to_string()) => first,
            exit = child.wait() => {
                let said = std::fs::read_to_string(&log).unwrap_or_default();
                let _ = std::fs::remove_file(&log);
                let exit = exit.map_or_else(|error| error.to_string(), |status| status.to_string());
                let said = if said.trim().is_empty() { String::new() } else { format!(": {}", said.trim()) };
                return Err(CliError::Demo(format!("cold start {run}: bootstrap stopped ({exit}) before answering{said}")));
            }
        };
        starts.push(started.elapsed());
        if !matches!(first, Some(InvocationOutcome::Response(_))) {
            return Err(CliError::Demo(format!("cold start {run}: no answer from bootstrap")));
        }
        if run == 0 {
            // One full CRUDL sequence, then the peak resident memory of the process.
            let sa = "cold-crudl";
            let created = runtime
                .invoke(request("CREATE", model(sa, ROLE, json!([{"Key": "k", "Value": "v"}]))).to_string())
                .await;
            let Some(InvocationOutcome::Response(body)) = created else {
                return Err(CliError::Demo("bootstrap CREATE failed".into()));
            };
            let created: Value = serde_json::from_slice(&body).unwrap_or_default();
            crudl.push(format!("CREATE {}", created["status"].as_str().unwrap_or("?")));
            let model_v = created["resourceModel"].clone();
            let mut updated = model_v.clone();
            updated["RoleArn"] = json!(ROLE_2);
            for step in [
                request("READ", model_v.clone()),
                update_request(updated, model_v.clone()),
                request("LIST", json!({"ClusterName": "demo"})),
                request("DELETE", model_v),
            ] {
                let action = step["action"].as_str().unwrap_or_default().to_owned();
                let status = match runtime.invoke(step.to_string()).await {
                    Some(InvocationOutcome::Response(body)) => serde_json::from_slice::<Value>(&body)
                        .unwrap_or_default()["status"]
                        .as_str()
                        .unwrap_or("?")
                        .to_owned(),
                    _ => "no answer".to_owned(),
                };
                crudl.push(format!("{action} {status}"));
            }
            peak_kib = child.id().map(peak_rss_kib).unwrap_or(0);
        }
        let _ = child.kill().await;
        let _ = std::fs::remove_file(&log);
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

pub(super) fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .and_then(|line| line.split_whitespace().nth(1).and_then(|kib| kib.parse().ok()))
        })
        .unwrap_or(0)
}
