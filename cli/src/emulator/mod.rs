//! `pia emulator`: the emulated EKS Pod Identity world on loopback, until interrupted. One endpoint serves EKS,
//! EKS Auth, IAM, STS, the CloudFormation registry, Cloud Control and the clusters' Kubernetes TokenRequest API (requests
//! signed with a configured key), this project's provider serving `AWS::EKS::PodIdentityAssociation`; the Pod Identity
//! Agent listens on its own port. It prints (or writes) the environment that reaches it, with which `pia pod exec`
//! runs pods on demand.

mod config;
pub mod environment;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use pia_emulator::agent::{Agent, AgentConfig};
use pia_emulator::config::FaultConfig;
use pia_emulator::tokens::TokenRequest;
use pia_emulator::webhook;
use pia_emulator::{Emulator, EmulatorError};
use pia_provider::{Provider, eks_client};
use pia_testkit::provider_type::register_provider;

use self::environment::{Environment, Format};
use crate::CliError;

#[derive(Args)]
pub struct EmulatorArgs {
    /// Port of the AWS APIs; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Port of the Pod Identity Agent (on 127.0.0.1 and [::1]); 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    agent_port: u16,
    /// Port of the agent's probes (`/healthz`, `/readyz`) and Prometheus `/metrics`; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    agent_probe_port: u16,
    /// JSON configuration: clusters, roles, access keys, limits, state file (README: "Configuration reference";
    /// `--config-schema` prints its JSON Schema). Every problem is reported with its key.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Print the configuration's JSON Schema (every key, type, default and meaning) and exit.
    #[arg(long)]
    config_schema: bool,
    /// Print only the environment, in this form, on standard output (the rest goes to standard error): `sh`
    /// (`export` lines for `eval`) or `json` (one object).
    #[arg(long, value_enum)]
    print_env: Option<Format>,
    /// Also write the environment to FILE as `export` lines (0600) once everything listens, removed on exit:
    /// `. FILE` then reaches the emulator.
    #[arg(long)]
    env_file: Option<PathBuf>,
    /// Mint a token for one pod at start, as NAMESPACE/SERVICE_ACCOUNT/POD (in the agent's cluster), and add its two
    /// variables to the environment as PIA_POD_… (`pia pod exec` makes pods on demand instead).
    #[arg(long)]
    pod: Option<String>,
    /// Where to write that token (default: a file in the system's temporary directory).
    #[arg(long, requires = "pod")]
    token_file: Option<PathBuf>,
    /// Inject a fault from the start (repeatable; added to the configuration's `faults`). FAULT: throttle,
    /// server-error, unavailable, drop-after-apply, hang or latency-<N>ms; TIMES: how many requests (default 1, 0
    /// every one). E.g. `--fault CreatePodIdentityAssociation:throttle:2`, `--fault '*:latency-200ms:0'`.
    #[arg(long = "fault", value_name = "OPERATION:FAULT[:TIMES]", value_parser = FaultConfig::parse)]
    faults: Vec<FaultConfig>,
}

pub async fn run(args: EmulatorArgs) -> Result<ExitCode, CliError> {
    if args.config_schema {
        println!(
            "{}",
            serde_json::to_string_pretty(&pia_emulator::config::json_schema()).unwrap_or_default()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut config = config::load(args.config.as_deref())?;
    let pod = args.pod.as_deref().map(split_pod).transpose()?;
    config.port = args.port;
    config.faults.extend(args.faults);
    let key = config.access_keys.first().cloned();
    let region = config
        .clusters
        .first()
        .map_or_else(|| pia_emulator::DEFAULT_REGION.to_owned(), |c| c.region.clone());
    let connection_limits = config.connection_limits;
    let emulator = Emulator::start(config)
        .await
        .map_err(|e| start_error(e, &[(args.port, "--port")]))?;
    let provider = Provider::new(eks_client::base_config_for(Some(emulator.endpoint())).await);
    register_provider(&emulator, provider)
        .ok_or_else(|| CliError::Start("the bundled resource schema has no typeName".into()))?;
    let agent = emulator
        .start_agent(AgentConfig {
            port: args.agent_port,
            probe_port: args.agent_probe_port,
            connection_limits,
            ..AgentConfig::default()
        })
        .await
        .map_err(|e| {
            start_error(
                e,
                &[
                    (args.agent_port, "--agent-port"),
                    (args.agent_probe_port, "--agent-probe-port"),
                ],
            )
        })?;

    let mut environment = Environment::default();
    environment.set_endpoints(&emulator.endpoint());
    if let Some(key) = key {
        environment.set("AWS_ACCESS_KEY_ID", key.access_key_id);
        environment.set("AWS_SECRET_ACCESS_KEY", key.secret_access_key);
    }
    environment.set_region(&region);
    environment.set(environment::CLUSTER, agent.cluster());
    environment.set(environment::AGENT_URL, agent_url(&agent));
    let mut pod_line = None;
    if let Some((namespace, service_account, pod)) = pod {
        let token_file = args.token_file.clone().unwrap_or_else(|| {
            std::env::temp_dir()
                .join(format!("pia-emulator-{}", std::process::id()))
                .join(webhook::TOKEN_PATH)
        });
        mint_pod_token(&emulator, &agent, (namespace, service_account, pod), &token_file)?;
        let prefixed = |name: &str| format!("{}{name}", environment::POD_PREFIX);
        environment.set(prefixed(webhook::ENV_FULL_URI), agent.credentials_uri());
        environment.set(prefixed(webhook::ENV_TOKEN_FILE), token_file.display().to_string());
        pod_line = Some(format!(
            "# An SDK acting as pod {namespace}/{pod} (service account {service_account}) uses, instead of the keys, the \
             PIA_POD_ variables without their prefix."
        ));
    }

    let banner = banner(&emulator, &agent);
    if let Some(path) = &args.env_file {
        write_private(path, &environment.render(Format::Sh))?;
    }
    match args.print_env {
        Some(format) => {
            eprint!("{banner}");
            print!("{}", environment.render(format));
        }
        None => {
            print!("{banner}{}", environment.render(Format::Sh));
            if let Some(line) = pod_line {
                println!("{line}");
            }
            println!("# Pods on demand: pia pod exec NAMESPACE/SERVICE_ACCOUNT -- COMMAND (with the variables above).");
        }
    }
    let _ = tokio::signal::ctrl_c().await;
    agent.shutdown();
    emulator.shutdown();
    if let Some(path) = &args.env_file {
        let _ = std::fs::remove_file(path);
    }
    Ok(ExitCode::SUCCESS)
}

/// What listens where, for people.
fn banner(emulator: &Emulator, agent: &Agent) -> String {
    let mut text = format!("EKS association API on {}\n", emulator.endpoint());
    text.push_str(
        "  (the same endpoint serves EKS Auth, IAM, STS, the CloudFormation registry and Cloud Control, \
         AWS::EKS::PodIdentityAssociation run by this provider)\n",
    );
    text.push_str(&format!(
        "Kubernetes API (TokenRequest) of cluster {} on {}\n",
        agent.cluster(),
        pia_emulator::kubernetes::api_server(&emulator.endpoint(), agent.cluster())
    ));
    text.push_str(&format!(
        "Pod Identity Agent on {} (cluster {})\n",
        agent.credentials_uri(),
        agent.cluster()
    ));
    if let Some(ipv6) = agent.credentials_uri_ipv6() {
        text.push_str(&format!("  (also on {ipv6})\n"));
    }
    text.push_str(&format!(
        "Agent probes on {} and {}\n",
        agent.health_uri(),
        agent.readiness_uri()
    ));
    text.push_str(&format!("Agent metrics on {}\n", agent.metrics_uri()));
    text.push_str(&format!("Webhook on {}\n", agent.webhook_uri()));
    text
}

/// The agent's base URL: its credentials URI without the path.
fn agent_url(agent: &Agent) -> String {
    let uri = agent.credentials_uri();
    uri.strip_suffix("/v1/credentials").unwrap_or(&uri).to_owned()
}

/// A busy port is named with the flag that chose it; other failures to start as they are.
fn start_error(error: EmulatorError, flags: &[(u16, &'static str)]) -> CliError {
    match error {
        EmulatorError::Bind { addr, source } if source.kind() == std::io::ErrorKind::AddrInUse => {
            let flag = flags
                .iter()
                .find(|(port, _)| *port == addr.port())
                .map_or("a listener", |(_, flag)| flag);
            CliError::Start(format!(
                "port {} is in use ({flag}); pick another, or 0 for a free one",
                addr.port()
            ))
        }
        other => CliError::Start(other.to_string()),
    }
}

fn mint_pod_token(
    emulator: &Emulator,
    agent: &Agent,
    (namespace, service_account, pod): (&str, &str, &str),
    token_file: &Path,
) -> Result<(), CliError> {
    if let Some(directory) = token_file.parent() {
        // The directories made here are their owner's alone (0700), as the token in them is a credential.
        std::os::unix::fs::DirBuilderExt::mode(std::fs::DirBuilder::new().recursive(true), 0o700)
            .create(directory)
            .map_err(|source| CliError::Read {
                what: directory.display().to_string(),
                source,
            })?;
    }
    emulator
        .write_token_file(
            &TokenRequest::new(agent.cluster(), namespace, service_account, pod),
            token_file,
        )
        .map(drop)
        .map_err(|e| CliError::Start(e.to_string()))
}

/// Writes `text` to `path` as its owner's alone (it holds a secret key), whole or not at all: written beside it,
/// then renamed, so that a reader waiting for the file never sees half of it.
fn write_private(path: &Path, text: &str) -> Result<(), CliError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let io = |source| CliError::Read {
        what: path.display().to_string(),
        source,
    };
    let partial = path.with_extension(format!("partial-{}", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&partial)
        .map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)?;
    std::fs::rename(&partial, path).map_err(io)
}

fn split_pod(pod: &str) -> Result<(&str, &str, &str), CliError> {
    let mut parts = pod.split('/');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(ns), Some(sa), Some(name), None) if !ns.is_empty() && !sa.is_empty() && !name.is_empty() => {
            Ok((ns, sa, name))
        }
        _ => Err(CliError::Config(format!(
            "--pod {pod:?} is not NAMESPACE/SERVICE_ACCOUNT/POD"
        ))),
    }
}
