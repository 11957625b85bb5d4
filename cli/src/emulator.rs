//! `pia emulator`: the emulated EKS Pod Identity world on loopback, until interrupted. One endpoint serves EKS,
//! EKS Auth, IAM, STS, the CloudFormation registry and Cloud Control (requests signed with a configured key), this
//! project's provider serving `AWS::EKS::PodIdentityAssociation`; the Pod Identity Agent listens on its own port, with
//! a projected token minted for one pod so that an SDK can act as that pod.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use pia_emulator::agent::AgentConfig;
use pia_emulator::tokens::TokenRequest;
use pia_emulator::webhook;
use pia_emulator::{Emulator, EmulatorConfig};
use pia_provider::{Provider, eks_client};
use pia_testkit::provider_type::register_provider;

use crate::{CliError, read_input};

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
    /// JSON configuration: clusters, roles, access keys, limits, state file (see README).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The pod to mint a service-account token for, as NAMESPACE/SERVICE_ACCOUNT/POD (in the agent's cluster).
    #[arg(long, default_value = "default/default/demo-pod")]
    pod: String,
    /// Where to write that token (default: a file in the system's temporary directory).
    #[arg(long)]
    token_file: Option<PathBuf>,
}

pub async fn run(args: EmulatorArgs) -> Result<ExitCode, CliError> {
    let mut config: EmulatorConfig = match &args.config {
        Some(path) => {
            let text = read_input(Some(path))?;
            serde_json::from_slice(&text).map_err(|e| CliError::Config(format!("{}: {e}", path.display())))?
        }
        None => EmulatorConfig::default(),
    };
    let Some((namespace, service_account, pod)) = split_pod(&args.pod) else {
        return Err(CliError::Config(format!(
            "--pod {:?} is not NAMESPACE/SERVICE_ACCOUNT/POD",
            args.pod
        )));
    };
    config.port = args.port;
    let key = config.access_keys.first().cloned();
    let region = config
        .clusters
        .first()
        .map_or_else(|| "us-east-1".to_owned(), |c| c.region.clone());
    let connection_limits = config.connection_limits;
    let emulator = Emulator::start(config)
        .await
        .map_err(|e| CliError::Start(e.to_string()))?;
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
        .map_err(|e| CliError::Start(e.to_string()))?;
    let token_file = args.token_file.unwrap_or_else(|| {
        std::env::temp_dir()
            .join(format!("pia-emulator-{}", std::process::id()))
            .join(webhook::TOKEN_PATH)
    });
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
            &token_file,
        )
        .map_err(|e| CliError::Start(e.to_string()))?;

    println!("EKS association API on {}", emulator.endpoint());
    println!(
        "  (the same endpoint serves EKS Auth, IAM, STS, the CloudFormation registry and Cloud Control, \
         AWS::EKS::PodIdentityAssociation run by this provider)"
    );
    println!(
        "Pod Identity Agent on {} (cluster {})",
        agent.credentials_uri(),
        agent.cluster()
    );
    if let Some(ipv6) = agent.credentials_uri_ipv6() {
        println!("  (also on {ipv6})");
    }
    println!("Agent probes on {} and {}", agent.health_uri(), agent.readiness_uri());
    println!("Agent metrics on {}", agent.metrics_uri());
    println!("Webhook on {}", agent.webhook_uri());
    println!("export AWS_ENDPOINT_URL={}", emulator.endpoint());
    if let Some(key) = key {
        println!("export AWS_ACCESS_KEY_ID={}", key.access_key_id);
        println!("export AWS_SECRET_ACCESS_KEY={}", key.secret_access_key);
    }
    println!("export AWS_REGION={region}");
    println!("unset AWS_SESSION_TOKEN AWS_PROFILE");
    println!(
        "# An SDK acting as pod {namespace}/{pod} (service account {service_account}) uses, instead of the keys above:"
    );
    println!("pod: {}={}", webhook::ENV_FULL_URI, agent.credentials_uri());
    println!("pod: {}={}", webhook::ENV_TOKEN_FILE, token_file.display());
    let _ = tokio::signal::ctrl_c().await;
    agent.shutdown();
    emulator.shutdown();
    Ok(ExitCode::SUCCESS)
}

fn split_pod(pod: &str) -> Option<(&str, &str, &str)> {
    let mut parts = pod.split('/');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(ns), Some(sa), Some(name), None) if !ns.is_empty() && !sa.is_empty() && !name.is_empty() => {
            Some((ns, sa, name))
        }
        _ => None,
    }
}
