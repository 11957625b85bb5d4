//! A Lambda function's process, started as Lambda starts one and invoked through a local Lambda Runtime API: what
//! the cold-start and the peers' sections both measure.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use pia_emulator::IssuedCredentials;
use pia_emulator::lambda_runtime_api::{InvocationOutcome, LambdaRuntimeApi};
use pia_testkit::secrets::{session, with_credentials};
use serde_json::Value;

use super::World;
use crate::CliError;

/// The PATH Lambda gives a function: the peers' `bootstrap` scripts find `node` through it.
const LAMBDA_PATH: &str = "/usr/local/bin:/usr/bin/:/bin:/opt/bin";

/// Longer than any one invocation takes here; a function that hangs fails the benchmark instead of stalling it.
const INVOCATION_LIMIT: Duration = Duration::from_secs(60);

/// A function's process, started as Lambda starts one: its `bootstrap`, Lambda's environment only.
pub(super) struct Function {
    name: String,
    child: tokio::process::Child,
    /// When the process was started: the Runtime API is already listening, so a cold start is timed from here.
    pub(super) spawned: Instant,
    runtime: LambdaRuntimeApi,
    credentials: IssuedCredentials,
    log: PathBuf,
}

impl Function {
    /// Starts `bootstrap` (through `runner`, e.g. qemu, when given) against `world`'s emulator.
    pub(super) async fn start(
        name: &str,
        bootstrap: &Path,
        runner: Option<&Path>,
        world: &World,
    ) -> Result<Self, CliError> {
        let runtime = LambdaRuntimeApi::start()
            .await
            .map_err(|e| CliError::Start(e.to_string()))?;
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
        let log = std::env::temp_dir().join(format!("pia-bench-function-{}.log", std::process::id()));
        let log_file = std::fs::File::create(&log).map_err(|source| CliError::Read {
            what: log.display().to_string(),
            source,
        })?;
        let spawned = Instant::now();
        let child = command
            .env_clear()
            .envs(runner_settings)
            .envs(runtime.function_environment())
            .env("PATH", LAMBDA_PATH)
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
        Ok(Self {
            name: name.to_owned(),
            child,
            spawned,
            runtime,
            credentials: session(&world.emulator),
            log,
        })
    }

    /// Sends one request and returns its ProgressEvent, which must be SUCCESS.
    pub(super) async fn invoke(&mut self, request: &Value, what: &str) -> Result<Value, CliError> {
        let payload = with_credentials(request.clone(), &self.credentials).to_string();
        let outcome = tokio::select! {
            outcome = tokio::time::timeout(INVOCATION_LIMIT, self.runtime.invoke(payload)) => outcome,
            exit = self.child.wait() => {
                let exit = exit.map_or_else(|error| error.to_string(), |status| status.to_string());
                return Err(self.failed(what, &format!("the process stopped ({exit})")));
            }
        };
        let event: Value = match outcome {
            Ok(Some(InvocationOutcome::Response(body))) => serde_json::from_slice(&body).unwrap_or_default(),
            Ok(Some(InvocationOutcome::Error(body))) => {
                return Err(self.failed(what, &format!("a Lambda error: {}", String::from_utf8_lossy(&body))));
            }
            Ok(None) => return Err(self.failed(what, "no answer")),
            Err(_) => return Err(self.failed(what, &format!("no answer within {INVOCATION_LIMIT:?}"))),
        };
        if event["status"] != "SUCCESS" {
            return Err(self.failed(what, &format!("the answer {event}")));
        }
        Ok(event)
    }

    /// As [`Self::invoke`], timed from the request queued to the answer received, as CloudFormation would see it.
    pub(super) async fn timed(&mut self, request: &Value, what: &str) -> Result<(Duration, Value), CliError> {
        let started = Instant::now();
        let event = self.invoke(request, what).await?;
        Ok((started.elapsed(), event))
    }

    fn failed(&self, what: &str, how: &str) -> CliError {
        let said = std::fs::read_to_string(&self.log).unwrap_or_default();
        let said = if said.trim().is_empty() {
            String::new()
        } else {
            format!("; it logged:\n{}", said.trim())
        };
        CliError::Demo(format!("{}: {what}: {how}{said}", self.name))
    }

    /// The process's peak resident memory so far (0 where /proc does not say).
    pub(super) fn peak_rss_kib(&self) -> u64 {
        self.child.id().map(peak_rss_kib).unwrap_or(0)
    }

    pub(super) async fn stop(mut self) {
        let _ = self.child.kill().await;
        let _ = std::fs::remove_file(&self.log);
    }
}

/// A process's peak resident memory (VmHWM), 0 where /proc does not say.
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
