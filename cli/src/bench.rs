//! `pia bench`: the performance figures of the README, measured against the emulator on loopback.
//!
//! - cold start of the real `bootstrap` through a local Lambda Runtime API, and its peak memory over a CRUDL run;
//! - warm latency per action, as a ratio to the bare aws-sdk-eks calls the action needs (the floor);
//! - EKS calls per handler path, counted by the emulator;
//! - the agent's credential endpoint under concurrency, against a trivial handler on the same server stack;
//! - scale: List through 5,000 associations, and the emulator holding 100,000.
//!
//! Build it in release next to `bootstrap` (`scripts/bench.sh`); timings are printed, never asserted.

use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_eks::Client as EksClient;
use clap::Args;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use pia_emulator::agent::AgentConfig;
use pia_emulator::lambda_runtime_api::{InvocationOutcome, LambdaRuntimeApi};
use pia_emulator::tokens::TokenRequest;
use pia_emulator::{DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY, Emulator, EmulatorConfig};
use pia_testkit::{request, update_request};
use serde_json::{Value, json};
use tokio::net::TcpStream;

use crate::CliError;
use pia_provider::Provider;
use pia_provider::eks_client;

const ROLE: &str = "arn:aws:iam::111122223333:role/demo-pod-role";
const ROLE_2: &str = "arn:aws:iam::111122223333:role/demo-pod-role-2";

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
    /// A program that runs `bootstrap` (e.g. `qemu-aarch64` for the arm64 build on an x86_64 machine).
    #[arg(long)]
    runner: Option<PathBuf>,
    /// Concurrent connections for the agent benchmark.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Requests for the agent benchmark.
    #[arg(long, default_value_t = 20_000)]
    agent_requests: usize,
    /// Run only these sections (all when none is given), e.g. `--only warm` under a profiler.
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Section>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Section {
    Cold,
    Warm,
    Agent,
    Scale,
}

pub async fn run(args: BenchArgs) -> Result<ExitCode, CliError> {
    let bootstrap = match args.bootstrap {
        Some(path) => path,
        None => std::env::current_exe()
            .map_err(|source| CliError::Read {
                what: "this executable".into(),
                source,
            })?
            .with_file_name("bootstrap"),
    };
    println!(
        "# pia bench ({} build, {} CPUs)\n",
        if cfg!(debug_assertions) { "debug" } else { "release" },
        num_cpus()
    );
    let wanted = |section| args.only.is_empty() || args.only.contains(&section);
    if wanted(Section::Cold) {
        cold_start(&bootstrap, args.runner.as_deref(), args.cold_starts).await?;
    }
    if wanted(Section::Warm) {
        warm_latency(args.iterations).await?;
    }
    if wanted(Section::Agent) {
        agent(args.concurrency, args.agent_requests).await?;
    }
    if wanted(Section::Scale) {
        scale().await?;
    }
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

// ---- cold start -------------------------------------------------------------------------------------------

async fn cold_start(
    bootstrap: &std::path::Path,
    runner: Option<&std::path::Path>,
    runs: usize,
) -> Result<(), CliError> {
    if !bootstrap.is_file() {
        println!("(no bootstrap at {}: cold start skipped)\n", bootstrap.display());
        return Ok(());
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
    println!("## Cold start of `bootstrap` ({runs} runs{how})\n");
    println!("| metric | value |\n|---|---|");
    println!("| process start → first answered invocation, median | {} |", ms(p50));
    println!("| same, worst | {} |", ms(p99));
    println!(
        "| peak RSS over a full CRUDL run | {:.1} MiB |",
        peak_kib as f64 / 1024.0
    );
    println!("| the CRUDL run's answers | {} |", crudl.join(", "));
    println!(
        "| `bootstrap` size | {:.1} MiB |\n",
        std::fs::metadata(bootstrap).map(|m| m.len()).unwrap_or(0) as f64 / 1048576.0
    );
    Ok(())
}

fn peak_rss_kib(pid: u32) -> u64 {
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

// ---- warm latency and call counts -------------------------------------------------------------------------

/// The provider and the floor's client run on one thread, as in the Lambda (`bootstrap` is single-threaded); the
/// emulator, standing in for EKS, serves from this process's other runtime.
async fn warm_latency(iterations: usize) -> Result<(), CliError> {
    let emulator = start_emulator().await?;
    let (done, outcome) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let result = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| CliError::Start(e.to_string()))
            .and_then(|lambda_like| {
                lambda_like.block_on(async move { measure_warm_latency(&World::on(emulator).await, iterations).await })
            });
        let _ = done.send(result);
    });
    outcome
        .await
        .map_err(|_| CliError::Call("the warm-latency thread stopped".into()))?
}

async fn measure_warm_latency(world: &World, iterations: usize) -> Result<(), CliError> {
    let eks = &world.eks;
    println!(
        "## Warm latency per action ({iterations} iterations each; floor = the bare aws-sdk-eks calls the action needs)\n"
    );
    println!("| action | EKS calls | handler median | floor median | ratio |\n|---|---|---|---|---|");

    // Create: a fresh service account each time.
    let mut handler = Vec::new();
    let mut floor = Vec::new();
    let mut created = Vec::new();
    for i in 0..iterations {
        let (elapsed, event) = world
            .timed(&request("CREATE", model(&format!("h-{i}"), ROLE, json!([]))))
            .await;
        handler.push(elapsed);
        created.push(event["resourceModel"].clone());
        let started = Instant::now();
        eks.create_pod_identity_association()
            .cluster_name("demo")
            .namespace("bench")
            .service_account(format!("f-{i}"))
            .role_arn(ROLE)
            .send()
            .await
            .map_err(|e| CliError::Call(e.to_string()))?;
        floor.push(started.elapsed());
    }
    report(
        world,
        "create",
        &request("CREATE", model("probe-c", ROLE, json!([]))),
        &mut handler,
        &mut floor,
    )
    .await;

    let first = created[0].clone();
    let arn = first["AssociationArn"].as_str().unwrap_or_default().to_owned();
    // The floor works on an association of its own, so that the handler's view of its own stays true.
    let floor_association = world
        .emulator
        .associations("demo")
        .into_iter()
        .find(|a| a.service_account == "f-0")
        .ok_or_else(|| CliError::Demo("the floor's association is missing".into()))?;
    let id = floor_association.association_id;
    let floor_arn = floor_association.association_arn;
    let (mut handler, mut floor) = (Vec::new(), Vec::new());
    for _ in 0..iterations {
        handler.push(world.timed(&request("READ", json!({"AssociationArn": arn}))).await.0);
        let started = Instant::now();
        floor_describe(eks, &id).await?;
        floor.push(started.elapsed());
    }
    report(
        world,
        "read",
        &request("READ", json!({"AssociationArn": arn})),
        &mut handler,
        &mut floor,
    )
    .await;

    // Update, role change: Describe + Update.
    let (mut handler, mut floor) = (Vec::new(), Vec::new());
    let mut current = first.clone();
    for i in 0..iterations {
        let mut wanted = current.clone();
        wanted["RoleArn"] = json!(if i % 2 == 0 { ROLE_2 } else { ROLE });
        let (elapsed, event) = world.timed(&update_request(wanted, current.clone())).await;
        handler.push(elapsed);
        current = event["resourceModel"].clone();
        let started = Instant::now();
        floor_describe(eks, &id).await?;
        eks.update_pod_identity_association()
            .cluster_name("demo")
            .association_id(&id)
            .role_arn(if i % 2 == 0 { ROLE_2 } else { ROLE })
            .send()
            .await
            .map_err(|e| CliError::Call(e.to_string()))?;
        floor.push(started.elapsed());
    }
    let mut probe = current.clone();
    probe["RoleArn"] = json!(if current["RoleArn"] == ROLE { ROLE_2 } else { ROLE });
    report(
        world,
        "update: role",
        &update_request(probe, current.clone()),
        &mut handler,
        &mut floor,
    )
    .await;

    // Update, tags only: Describe + TagResource.
    let (mut handler, mut floor) = (Vec::new(), Vec::new());
    let mut current = world.read(&arn).await;
    for i in 0..iterations {
        let mut wanted = current.clone();
        wanted["Tags"] = json!([{"Key": "rev", "Value": i.to_string()}]);
        let (elapsed, event) = world.timed(&update_request(wanted, current.clone())).await;
        handler.push(elapsed);
        current = event["resourceModel"].clone();
        let started = Instant::now();
        floor_describe(eks, &id).await?;
        eks.tag_resource()
            .resource_arn(&floor_arn)
            .tags("rev", format!("f{i}"))
            .send()
            .await
            .map_err(|e| CliError::Call(e.to_string()))?;
        floor.push(started.elapsed());
    }
    let mut probe = current.clone();
    probe["Tags"] = json!([{"Key": "rev", "Value": "probe"}]);
    report(
        world,
        "update: tags only",
        &update_request(probe, current.clone()),
        &mut handler,
        &mut floor,
    )
    .await;
    // Update, nothing changed: Describe only.
    let (mut handler, mut floor) = (Vec::new(), Vec::new());
    let current = world.read(&arn).await;
    for _ in 0..iterations {
        handler.push(world.timed(&update_request(current.clone(), current.clone())).await.0);
        let started = Instant::now();
        floor_describe(eks, &id).await?;
        floor.push(started.elapsed());
    }
    report(
        world,
        "update: no change",
        &update_request(current.clone(), current.clone()),
        &mut handler,
        &mut floor,
    )
    .await;

    // Update, role and tags: Describe + Update + TagResource (Update takes no tags).
    let (mut handler, mut floor) = (Vec::new(), Vec::new());
    let mut current = world.read(&arn).await;
    let mut floor_role = world
        .emulator
        .associations("demo")
        .into_iter()
        .find(|a| a.association_id == id)
        .map(|a| a.role_arn)
        .unwrap_or_default();
    for i in 0..iterations {
        let role = if current["RoleArn"] == ROLE { ROLE_2 } else { ROLE };
        floor_role = if floor_role == ROLE {
            ROLE_2.to_owned()
        } else {
            ROLE.to_owned()
        };
        let mut wanted = current.clone();
        wanted["RoleArn"] = json!(role);
        wanted["Tags"] = json!([{"Key": "rev", "Value": format!("both-{i}")}]);
        let (elapsed, event) = world.timed(&update_request(wanted, current.clone())).await;
        handler.push(elapsed);
        current = event["resourceModel"].clone();
        let started = Instant::now();
        floor_describe(eks, &id).await?;
        eks.update_pod_identity_association()
            .cluster_name("demo")
            .association_id(&id)
            .role_arn(&floor_role)
            .send()
            .await
            .map_err(|e| CliError::Call(e.to_string()))?;
        eks.tag_resource()
            .resource_arn(&floor_arn)
            .tags("rev", format!("both-{i}"))
            .send()
            .await
            .map_err(|e| CliError::Call(e.to_string()))?;
        floor.push(started.elapsed());
    }
    let mut probe = current.clone();
    probe["RoleArn"] = json!(if current["RoleArn"] == ROLE { ROLE_2 } else { ROLE });
    probe["Tags"] = json!([{"Key": "rev", "Value": "both"}]);
    report(
        world,
        "update: role and tags",
        &update_request(probe, current.clone()),
        &mut handler,
        &mut floor,
    )
    .await;

    // Update, tags removed: Describe + UntagResource. Each round first puts a tag back, untimed.
    let (mut handler, mut floor) = (Vec::new(), Vec::new());
    let handler_arn = world.read(&arn).await["AssociationArn"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for _ in 0..iterations {
        for resource in [&handler_arn, &floor_arn] {
            eks.tag_resource()
                .resource_arn(resource)
                .tags("rev", "to-remove")
                .send()
                .await
                .map_err(|e| CliError::Call(e.to_string()))?;
        }
        let current = world.read(&arn).await;
        let mut wanted = current.clone();
        wanted["Tags"] = json!([]);
        handler.push(world.timed(&update_request(wanted, current)).await.0);
        let started = Instant::now();
        floor_describe(eks, &id).await?;
        eks.untag_resource()
            .resource_arn(&floor_arn)
            .tag_keys("rev")
            .send()
            .await
            .map_err(|e| CliError::Call(e.to_string()))?;
        floor.push(started.elapsed());
    }
    eks.tag_resource()
        .resource_arn(&handler_arn)
        .tags("rev", "to-remove")
        .send()
        .await
        .map_err(|e| CliError::Call(e.to_string()))?;
    let current = world.read(&arn).await;
    let mut probe = current.clone();
    probe["Tags"] = json!([]);
    report(
        world,
        "update: tags removed",
        &update_request(probe, current),
        &mut handler,
        &mut floor,
    )
    .await;

    // Create with tags: one CreatePodIdentityAssociation carrying them.
    let (mut handler, mut floor) = (Vec::new(), Vec::new());
    for i in 0..iterations {
        let tagged = model(&format!("ht-{i}"), ROLE, json!([{"Key": "team", "Value": "platform"}]));
        handler.push(world.timed(&request("CREATE", tagged)).await.0);
        let started = Instant::now();
        eks.create_pod_identity_association()
            .cluster_name("demo")
            .namespace("bench")
            .service_account(format!("ft-{i}"))
            .role_arn(ROLE)
            .tags("team", "platform")
            .send()
            .await
            .map_err(|e| CliError::Call(e.to_string()))?;
        floor.push(started.elapsed());
    }
    let tagged = model("probe-tagged", ROLE, json!([{"Key": "team", "Value": "platform"}]));
    report(
        world,
        "create with tags",
        &request("CREATE", tagged),
        &mut handler,
        &mut floor,
    )
    .await;

    let (mut handler, mut floor) = (Vec::new(), Vec::new());
    for _ in 0..iterations {
        handler.push(world.timed(&request("LIST", json!({"ClusterName": "demo"}))).await.0);
        let started = Instant::now();
        eks.list_pod_identity_associations()
            .cluster_name("demo")
            .max_results(100)
            .send()
            .await
            .map_err(|e| CliError::Call(e.to_string()))?;
        floor.push(started.elapsed());
    }
    report(
        world,
        "list (page of 100)",
        &request("LIST", json!({"ClusterName": "demo"})),
        &mut handler,
        &mut floor,
    )
    .await;
    // The part of List's extra that no provider can skip: encoding the page as the JSON CloudFormation receives.
    let page = world
        .provider
        .invoke(request("LIST", json!({"ClusterName": "demo"})).to_string().as_bytes())
        .await;
    let list_encoding = median_of(iterations, || serde_json::to_vec(&page).unwrap_or_default());
    let page_bytes = serde_json::to_vec(&page).map_or(0, |bytes| bytes.len());
    // The parts of Create's extra that are the provider's own work, not the EKS call's.
    let create_payload = request("CREATE", model("probe-d", ROLE, json!([]))).to_string();
    let validator = pia_provider::schema::ModelValidator::new();
    let create_decoding = median_of(iterations, || {
        pia_provider::protocol::decode(create_payload.as_bytes(), &validator).is_ok()
    });
    let create_answer = world.provider.invoke(create_payload.as_bytes()).await;
    let create_encoding = median_of(iterations, || serde_json::to_vec(&create_answer).unwrap_or_default());

    // Delete: the handler deletes the ones it created, the floor the ones it created.
    let floor_ids: Vec<String> = world
        .emulator
        .associations("demo")
        .into_iter()
        .filter(|a| a.service_account.starts_with("f-") && a.service_account != "f-0")
        .map(|a| a.association_id)
        .collect();
    let (mut handler, mut floor) = (Vec::new(), Vec::new());
    for (model_v, floor_id) in created.iter().skip(1).zip(&floor_ids) {
        handler.push(world.timed(&request("DELETE", model_v.clone())).await.0);
        let started = Instant::now();
        eks.delete_pod_identity_association()
            .cluster_name("demo")
            .association_id(floor_id)
            .send()
            .await
            .map_err(|e| CliError::Call(e.to_string()))?;
        floor.push(started.elapsed());
    }
    report(world, "delete", &request("DELETE", first), &mut handler, &mut floor).await;
    println!(
        "\nOf List's extra, encoding the page of 100 models ({:.1} KB of JSON) takes {} (median).",
        page_bytes as f64 / 1000.0,
        us(list_encoding)
    );
    println!(
        "Of Create's extra, decoding and validating the request takes {}, encoding the answer {} (median).\n",
        us(create_decoding),
        us(create_encoding)
    );
    Ok(())
}

/// The median time of `iterations` runs of `work` (its result kept from being optimised away).
fn median_of<T>(iterations: usize, mut work: impl FnMut() -> T) -> Duration {
    let mut times: Vec<Duration> = (0..iterations.max(1))
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(work());
            started.elapsed()
        })
        .collect();
    percentiles(&mut times).0
}

/// The floor's DescribePodIdentityAssociation, the call Read and every Update path start with.
async fn floor_describe(eks: &EksClient, association_id: &str) -> Result<(), CliError> {
    eks.describe_pod_identity_association()
        .cluster_name("demo")
        .association_id(association_id)
        .send()
        .await
        .map(drop)
        .map_err(|e| CliError::Call(e.to_string()))
}

/// One table row: the calls a probe invocation makes, and the medians.
async fn report(world: &World, action: &str, probe: &Value, handler: &mut [Duration], floor: &mut [Duration]) {
    world.emulator.reset_calls();
    world.invoke(probe).await;
    let calls = world.emulator.call_log().join(" + ");
    let (handler_p50, _) = percentiles(handler);
    let (floor_p50, _) = percentiles(floor);
    println!(
        "| {action} | {calls} | {} | {} | {:.2}× |",
        us(handler_p50),
        us(floor_p50),
        handler_p50.as_secs_f64() / floor_p50.as_secs_f64()
    );
}

// ---- the agent ----------------------------------------------------------------------------------------------

async fn agent(concurrency: usize, requests: usize) -> Result<(), CliError> {
    let world = World::start().await?;
    world
        .invoke(&request(
            "CREATE",
            json!({"ClusterName": "demo", "Namespace": "load", "ServiceAccount": "app", "RoleArn": ROLE}),
        ))
        .await;
    let agent = world
        .emulator
        .start_agent(AgentConfig::default())
        .await
        .map_err(|e| CliError::Start(e.to_string()))?;
    let tokens: Vec<String> = (0..concurrency)
        .map(|pod| {
            world
                .emulator
                .mint_token(&TokenRequest::new("demo", "load", "app", format!("app-{pod}")))
        })
        .collect::<Result<_, _>>()
        .map_err(|e| CliError::Start(e.to_string()))?;
    let address = agent.local_addr();

    // The floor: a trivial handler on the same server stack (axum on hyper), same client, same load.
    let trivial = axum::Router::new().route("/v1/credentials", axum::routing::get(|| async { "{}" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| CliError::Start(e.to_string()))?;
    let floor_address = listener.local_addr().map_err(|e| CliError::Start(e.to_string()))?;
    tokio::spawn(async move { axum::serve(listener, trivial).await });

    println!("## Pod Identity Agent, warm cache ({requests} requests over {concurrency} connections)\n");
    println!("| server | requests/s | p50 | p99 | errors |\n|---|---|---|---|---|");
    for (name, target) in [
        ("agent `/v1/credentials`", address),
        ("trivial handler, same stack (floor)", floor_address),
    ] {
        // Warm the cache: one fetch per token.
        load(target, &tokens, tokens.len(), 1).await?;
        world.emulator.reset_calls();
        let started = Instant::now();
        let (mut latencies, errors) = load(target, &tokens, requests, concurrency).await?;
        let elapsed = started.elapsed();
        let (p50, p99) = percentiles(&mut latencies);
        println!(
            "| {name} | {:.0} | {} | {} | {errors} |",
            requests as f64 / elapsed.as_secs_f64(),
            us(p50),
            us(p99)
        );
    }
    println!(
        "\nEKS Auth calls during the measured agent run (cache hits make none): {}\n",
        world.emulator.calls("AssumeRoleForPodIdentity")
    );
    Ok(())
}

/// `requests` GETs of `/v1/credentials` spread over `concurrency` keep-alive connections.
async fn load(
    target: std::net::SocketAddr,
    tokens: &[String],
    requests: usize,
    concurrency: usize,
) -> Result<(Vec<Duration>, usize), CliError> {
    let mut workers = Vec::new();
    for worker in 0..concurrency {
        let token = tokens[worker % tokens.len()].clone();
        let count = requests / concurrency + usize::from(worker < requests % concurrency);
        workers.push(tokio::spawn(async move {
            let stream = TcpStream::connect(target).await.map_err(|e| e.to_string())?;
            let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|e| e.to_string())?;
            tokio::spawn(connection);
            let mut latencies = Vec::with_capacity(count);
            let mut errors = 0;
            for _ in 0..count {
                let request = hyper::Request::get("/v1/credentials")
                    .header("host", "127.0.0.1")
                    .header("authorization", &token)
                    .body(Empty::<Bytes>::new())
                    .map_err(|e| e.to_string())?;
                let started = Instant::now();
                let response = sender.send_request(request).await.map_err(|e| e.to_string())?;
                let ok = response.status().is_success();
                let _ = response.into_body().collect().await;
                latencies.push(started.elapsed());
                errors += usize::from(!ok);
            }
            Ok::<_, String>((latencies, errors))
        }));
    }
    let mut all = Vec::with_capacity(requests);
    let mut errors = 0;
    for worker in workers {
        let (latencies, failed) = worker
            .await
            .map_err(|e| CliError::Call(e.to_string()))?
            .map_err(CliError::Call)?;
        all.extend(latencies);
        errors += failed;
    }
    Ok((all, errors))
}

// ---- scale --------------------------------------------------------------------------------------------------

async fn scale() -> Result<(), CliError> {
    let world = World::start().await?;
    println!("## Scale\n");
    println!("| measurement | value |\n|---|---|");
    world.emulator.seed_associations("demo", "scale", "sa", 5_000, ROLE);
    world.emulator.reset_calls();
    let started = Instant::now();
    let mut next_token: Option<Value> = None;
    let mut listed = 0;
    loop {
        let mut list = request("LIST", json!({"ClusterName": "demo"}));
        if let Some(token) = &next_token {
            list["nextToken"] = token.clone();
        }
        let event = world.invoke(&list).await;
        listed += event["resourceModels"].as_array().map_or(0, Vec::len);
        match event.get("nextToken") {
            Some(token) => next_token = Some(token.clone()),
            None => break,
        }
    }
    println!(
        "| List through 5,000 associations via the handler | {listed} models, {} pages, {} |",
        world.emulator.calls("ListPodIdentityAssociations"),
        ms(started.elapsed())
    );

    let started = Instant::now();
    world.emulator.seed_associations("demo", "scale", "big", 95_000, ROLE);
    println!(
        "| Seed the emulator to 100,000 associations | {} |",
        ms(started.elapsed())
    );
    let last = world
        .emulator
        .associations("demo")
        .pop()
        .map(|a| a.association_id)
        .unwrap_or_default();
    let mut describe = Vec::new();
    let mut page = Vec::new();
    for _ in 0..200 {
        let started = Instant::now();
        world
            .eks
            .describe_pod_identity_association()
            .cluster_name("demo")
            .association_id(&last)
            .send()
            .await
            .map_err(|e| CliError::Call(e.to_string()))?;
        describe.push(started.elapsed());
        let started = Instant::now();
        world
            .eks
            .list_pod_identity_associations()
            .cluster_name("demo")
            .namespace("scale")
            .max_results(100)
            .send()
            .await
            .map_err(|e| CliError::Call(e.to_string()))?;
        page.push(started.elapsed());
    }
    println!(
        "| Describe with 100,000 present, median | {} |",
        us(percentiles(&mut describe).0)
    );
    println!(
        "| List page (filtered) with 100,000 present, median | {} |",
        us(percentiles(&mut page).0)
    );
    println!(
        "| RSS of this process with 100,000 associations | {:.0} MiB |\n",
        peak_rss_kib(std::process::id()) as f64 / 1024.0
    );
    Ok(())
}
