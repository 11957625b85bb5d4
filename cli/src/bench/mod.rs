//! `pia bench`: the performance figures of the README, measured against the emulator on loopback.
//!
//! - cold start of the real `bootstrap` through a local Lambda Runtime API, and its peak memory over a CRUDL run;
//! - warm latency per action, as a ratio to the bare aws-sdk-eks calls the action needs (the floor);
//! - EKS calls per handler path, counted by the emulator;
//! - the agent's credential endpoint under concurrency, against a trivial handler on the same server stack;
//! - scale: List through 5,000 associations against the same pages by bare calls, and the emulator holding 100,000;
//! - the state database: EKS Auth latency with 100 and with 100,000 sessions saved;
//! - beside the peers: the same measures of a Python and a TypeScript handler (`--peer`, `bench/peers/`).
//!
//! Build it in release next to `bootstrap` (`scripts/bench.sh`); timings are printed, never asserted.

mod agent;
mod cold_start;
mod function;
mod peers;
mod report;
mod scale;
mod state_database;
mod warm;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_eks::Client as EksClient;
use clap::Args;
use pia_emulator::{DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY, Emulator, EmulatorConfig};
use pia_provider::{Provider, eks_client};
use pia_testkit::{ROLE, ROLE_2, request};
use serde_json::{Value, json};

use crate::CliError;
use crate::output::Output;
use agent::agent;
use cold_start::cold_start;
use report::Report;
use scale::scale;
use state_database::state_database;
use warm::warm_latency;

#[derive(Args)]
pub struct BenchArgs {
    /// Iterations per measured action.
    #[arg(long, default_value_t = 200)]
    iterations: usize,
    /// Cold starts of `bootstrap` to measure.
    #[arg(long, default_value_t = 20)]
    cold_starts: usize,
    /// The `bootstrap` binary (default: next to this executable).
    #[arg(long)]
    bootstrap: Option<PathBuf>,
    /// The cold start's floor: a trivial Lambda function on `bootstrap`'s stack (default: `trivial-function`
    /// next to this executable; not measured under `--runner`).
    #[arg(long)]
    floor_function: Option<PathBuf>,
    /// A program that runs `bootstrap` (e.g. `qemu-aarch64` for the arm64 build on an x86_64 machine).
    #[arg(long)]
    runner: Option<PathBuf>,
    /// Concurrent connections for the agent benchmark.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Requests for the agent benchmark.
    #[arg(long, default_value_t = 20_000)]
    agent_requests: usize,
    /// A peer's Lambda `bootstrap`, measured beside this provider's in the `peers` section (repeatable;
    /// `scripts/bench.sh --peers` sets up the Python and TypeScript peers of `bench/peers/`).
    #[arg(long = "peer", value_name = "NAME=BOOTSTRAP", value_parser = peers::parse_peer)]
    peers: Vec<peers::Peer>,
    /// Warm iterations per action in the `peers` section (the TypeScript library waits 1 s in every invocation).
    #[arg(long, default_value_t = 30)]
    peer_iterations: usize,
    /// Run only these sections (all when none is given), e.g. `--only warm` under a profiler.
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Section>,
    /// How to print the figures: the README's Markdown tables as each section ends, or one JSON document at the end.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    output: Output,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Section {
    Cold,
    Warm,
    Agent,
    Scale,
    State,
    Peers,
}

pub async fn run(args: BenchArgs) -> Result<ExitCode, CliError> {
    let next_to_this = |name: &str| {
        std::env::current_exe()
            .map(|this| this.with_file_name(name))
            .map_err(|source| CliError::Read {
                what: "this executable".into(),
                source,
            })
    };
    let bootstrap = match args.bootstrap {
        Some(path) => path,
        None => next_to_this("bootstrap")?,
    };
    let floor_function = match args.floor_function {
        Some(path) => path,
        None => next_to_this("trivial-function")?,
    };
    let mut report = Report::new(
        args.output,
        format!(
            "pia bench ({} build, {} CPUs)",
            if cfg!(debug_assertions) { "debug" } else { "release" },
            num_cpus()
        ),
    );
    let wanted = |section| args.only.is_empty() || args.only.contains(&section);
    let running = |what: &str| crate::progress::section(format!("bench: {what}"));
    if wanted(Section::Cold) {
        let progress = running("cold start and memory of bootstrap");
        let table = cold_start(&bootstrap, args.runner.as_deref(), &floor_function, args.cold_starts).await?;
        progress.finish_and_clear();
        report.add(table);
    }
    if wanted(Section::Warm) {
        let progress = running("warm latency per action");
        let table = warm_latency(args.iterations).await?;
        progress.finish_and_clear();
        report.add(table);
    }
    if wanted(Section::Agent) {
        let progress = running("agent throughput");
        let table = agent(args.concurrency, args.agent_requests).await?;
        progress.finish_and_clear();
        report.add(table);
    }
    if wanted(Section::Scale) {
        let progress = running("scale (5,000 and 100,000 associations)");
        let table = scale().await?;
        progress.finish_and_clear();
        report.add(table);
    }
    if wanted(Section::State) {
        let progress = running("state database");
        let table = state_database(args.iterations).await?;
        progress.finish_and_clear();
        report.add(table);
    }
    if wanted(Section::Peers) {
        let progress = running("beside the peers");
        let table = peers::peers(
            &bootstrap,
            args.runner.as_deref(),
            &args.peers,
            args.cold_starts,
            args.peer_iterations,
        )
        .await?;
        progress.finish_and_clear();
        report.add(table);
    }
    report.finish();
    Ok(ExitCode::SUCCESS)
}

fn num_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

struct World {
    emulator: Emulator,
    provider: Arc<Provider>,
    eks: EksClient,
}

impl World {
    async fn start() -> Result<Self, CliError> {
        Ok(Self::on(start_emulator().await?).await)
    }

    /// The provider and a bare client of this emulator, on the calling task's runtime.
    async fn on(emulator: Emulator) -> Self {
        let base = eks_client::base_config_for(Some(emulator.endpoint())).await;
        let provider = Provider::new(base.clone());
        let eks = EksClient::from_conf(
            aws_sdk_eks::config::Builder::from(&base)
                .credentials_provider(aws_credential_types::Credentials::new(
                    DEFAULT_ACCESS_KEY_ID,
                    DEFAULT_SECRET_ACCESS_KEY,
                    None,
                    None,
                    "bench",
                ))
                .build(),
        );
        Self {
            emulator,
            provider,
            eks,
        }
    }

    async fn invoke(&self, request: &Value) -> Value {
        self.timed(request).await.1
    }

    /// The model as the Read handler returns it.
    async fn read(&self, arn: &str) -> Value {
        self.invoke(&request("READ", json!({"AssociationArn": arn}))).await["resourceModel"].clone()
    }

    /// Times what the Lambda does with a payload: decode, handle, serialize the ProgressEvent to bytes. The request
    /// is built before the clock starts and the answer parsed after it stops, as they are outside a Lambda.
    async fn timed(&self, request: &Value) -> (Duration, Value) {
        let payload = request.to_string();
        let started = Instant::now();
        let event = self.provider.invoke(payload.as_bytes()).await;
        let bytes = serde_json::to_vec(&event).unwrap_or_default();
        let elapsed = started.elapsed();
        (elapsed, serde_json::from_slice(&bytes).unwrap_or_default())
    }
}

async fn start_emulator() -> Result<Emulator, CliError> {
    Emulator::start(EmulatorConfig::default())
        .await
        .map_err(|e| CliError::Start(e.to_string()))
}

fn model(service_account: &str, role: &str, tags: Value) -> Value {
    json!({"ClusterName": "demo", "Namespace": "bench", "ServiceAccount": service_account, "RoleArn": role, "Tags": tags})
}

/// Median and 99th percentile.
fn percentiles(samples: &mut [Duration]) -> (Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    (at(0.5), at(0.99))
}

fn us(duration: Duration) -> String {
    let micros = duration.as_secs_f64() * 1e6;
    if micros < 10.0 {
        format!("{micros:.1} µs")
    } else {
        format!("{micros:.0} µs")
    }
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1e3)
}
