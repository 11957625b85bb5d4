//! `pia pod exec`: runs a command as a pod of the running emulator runs: the webhook mutates the pod, a token is
//! minted for it through the cluster's Kubernetes TokenRequest API (authenticated as EKS authenticates kubectl, with
//! the caller's credentials), and the command gets the pod's environment and nothing of the host's: no keys, no
//! `~/.aws`, no instance metadata.

mod bearer;
mod mutation;
mod sandbox;

use std::process::ExitCode;

use aws_credential_types::provider::ProvideCredentials;
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use thiserror::Error;

use self::mutation::ProjectedToken;
use self::sandbox::Sandbox;
use crate::CliError;
use crate::emulator::environment::{self, service_endpoints};
use crate::http_client::{self, HttpError};

/// The agent's link-local addresses, as the webhook writes them into pods; here the agent listens on loopback.
const LINK_LOCAL_AGENTS: [&str; 2] = ["http://169.254.170.23", "http://[fd00:ec2::23]"];

#[derive(Subcommand)]
pub enum PodCommand {
    /// Run COMMAND as a new pod of NAMESPACE/SERVICE_ACCOUNT would run in the emulator's cluster: the webhook's
    /// variables, a freshly minted token file, the region and the emulator's endpoints, nothing else of this
    /// environment (PATH aside). Exits with COMMAND's exit code.
    Exec(ExecArgs),
}

#[derive(Args)]
pub struct ExecArgs {
    /// NAMESPACE/SERVICE_ACCOUNT[/POD]; without POD, a new name SERVICE_ACCOUNT-xxxxx, as a ReplicaSet names pods.
    pod: String,
    /// The emulator's endpoint (as `pia emulator` prints it).
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    endpoint_url: Option<String>,
    /// The Pod Identity Agent's base URL (as `pia emulator` prints it).
    #[arg(long, env = environment::AGENT_URL)]
    agent_url: Option<String>,
    /// The cluster the pod runs in (the agent's; `pia emulator` prints it).
    #[arg(long, env = environment::CLUSTER)]
    cluster: Option<String>,
    /// The region of the cluster (AWS_DEFAULT_REGION when AWS_REGION is not set).
    #[arg(long, env = "AWS_REGION")]
    region: Option<String>,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true)]
    command: Vec<String>,
}

#[derive(Debug, Error)]
pub enum PodError {
    #[error("no {what}: set {variable} (as `pia emulator` prints it) or pass {flag}")]
    Missing {
        what: &'static str,
        variable: &'static str,
        flag: &'static str,
    },
    #[error("{0:?} is not a region name")]
    Region(String),
    #[error("{0:?} is not NAMESPACE/SERVICE_ACCOUNT[/POD]")]
    PodName(String),
    #[error(
        "no AWS credentials to sign the Kubernetes API's bearer token with: set AWS_ACCESS_KEY_ID and \
         AWS_SECRET_ACCESS_KEY (as `pia emulator` prints them)"
    )]
    NoCredentials,
    #[error("cannot sign the Kubernetes API's bearer token: {0}")]
    Sign(String),
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("the webhook at {url} {message}")]
    Webhook { url: String, message: String },
    #[error("the Kubernetes API at {url} refused the TokenRequest ({status}): {message}")]
    TokenRequest { url: String, status: u16, message: String },
    #[error("cannot {what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

impl From<PodError> for CliError {
    fn from(error: PodError) -> Self {
        CliError::Call(error.to_string())
    }
}

pub async fn run(command: PodCommand) -> Result<ExitCode, CliError> {
    let PodCommand::Exec(args) = command;
    Ok(exec(args).await?)
}

async fn exec(args: ExecArgs) -> Result<ExitCode, PodError> {
    let (namespace, service_account, pod) = split_pod(&args.pod)?;
    let missing = |what, variable, flag| PodError::Missing { what, variable, flag };
    let endpoint = args
        .endpoint_url
        .ok_or_else(|| missing("emulator endpoint", "AWS_ENDPOINT_URL", "--endpoint-url"))?;
    let agent_url = args
        .agent_url
        .ok_or_else(|| missing("agent URL", environment::AGENT_URL, "--agent-url"))?;
    let agent_url = agent_url.trim_end_matches('/');
    let cluster = args
        .cluster
        .ok_or_else(|| missing("cluster", environment::CLUSTER, "--cluster"))?;
    let region = args
        .region
        .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
        .ok_or_else(|| missing("region", "AWS_REGION", "--region"))?;
    if !pia_trust::arn::is_region_name(&region) {
        return Err(PodError::Region(region));
    }

    let mutated = mutation::mutate(&format!("{agent_url}/webhook/mutate"), namespace, service_account, &pod).await?;
    let sandbox = Sandbox::new(&pod)?;
    if let Some(token) = &mutated.token {
        let bearer = caller_bearer(&cluster, &region).await?;
        let api = pia_emulator::kubernetes::api_server(&endpoint, &cluster);
        let minted = request_token(&api, &bearer, namespace, service_account, &pod, token).await?;
        sandbox.write_file(&token.container_path, &minted)?;
    } else {
        eprintln!("webhook: no association for {namespace}/{service_account}, pod {pod} left as is");
    }

    let mut variables: Vec<(String, String)> = service_endpoints(&endpoint);
    variables.push(("AWS_REGION".into(), region.clone()));
    variables.push(("AWS_DEFAULT_REGION".into(), region));
    variables.push(("AWS_EC2_METADATA_DISABLED".into(), "true".into()));
    // Empty files rather than missing ones, which the SDKs warn about: no profile, no key of the host's.
    for name in ["AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"] {
        variables.push((name.into(), "/dev/null".into()));
    }
    variables.push(("HOME".into(), sandbox.root()));
    if let Some(path) = std::env::var_os("PATH") {
        variables.push(("PATH".into(), path.to_string_lossy().into_owned()));
    }
    for (name, value) in mutated.env {
        variables.push((name, pod_value(&value, agent_url, &sandbox, mutated.token.as_ref())));
    }
    let status = sandbox.run(&args.command, variables).await?;
    Ok(exit_code(status))
}

/// A webhook value as it holds here: the agent's link-local URI points at the agent's loopback address, the token
/// file's container path at the sandbox's file.
fn pod_value(value: &str, agent_url: &str, sandbox: &Sandbox, token: Option<&ProjectedToken>) -> String {
    if let Some(rest) = LINK_LOCAL_AGENTS.iter().find_map(|address| value.strip_prefix(address)) {
        return format!("{agent_url}{rest}");
    }
    match token {
        Some(token) if token.container_path == value => sandbox.path(value),
        _ => value.to_owned(),
    }
}

/// The caller's bearer token for the cluster, signed with the standard credential chain's credentials.
async fn caller_bearer(cluster: &str, region: &str) -> Result<String, PodError> {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
    let provider = config.credentials_provider().ok_or(PodError::NoCredentials)?;
    let credentials = provider
        .provide_credentials()
        .await
        .map_err(|_| PodError::NoCredentials)?;
    bearer::token(&credentials, cluster, region).map_err(PodError::Sign)
}

/// A token for the pod through the Kubernetes API's TokenRequest, with what the webhook's volume asks for.
async fn request_token(
    api: &str,
    bearer: &str,
    namespace: &str,
    service_account: &str,
    pod: &str,
    token: &ProjectedToken,
) -> Result<String, PodError> {
    let url = format!("{api}/api/v1/namespaces/{namespace}/serviceaccounts/{service_account}/token");
    let body = json!({
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenRequest",
        "spec": {
            "audiences": [token.audience],
            "expirationSeconds": token.expiration_seconds,
            "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": pod},
        },
    });
    let authorization = format!("Bearer {bearer}");
    let answer = http_client::send(
        "POST",
        &url,
        &[("content-type", "application/json"), ("authorization", &authorization)],
        body.to_string().into_bytes(),
    )
    .await?;
    let answer_json: Value = serde_json::from_str(&answer.body).unwrap_or(Value::Null);
    match answer_json["status"]["token"].as_str() {
        Some(token) if answer.status == 201 => Ok(token.to_owned()),
        _ => Err(PodError::TokenRequest {
            url,
            status: answer.status,
            message: answer_json["message"]
                .as_str()
                .map_or_else(|| answer.body.trim().to_owned(), str::to_owned),
        }),
    }
}

fn split_pod(text: &str) -> Result<(&str, &str, String), PodError> {
    let parts: Vec<&str> = text.split('/').collect();
    match parts[..] {
        [namespace, service_account] if !namespace.is_empty() && !service_account.is_empty() => Ok((
            namespace,
            service_account,
            format!("{service_account}-{}", pod_suffix()),
        )),
        [namespace, service_account, pod]
            if !namespace.is_empty() && !service_account.is_empty() && !pod.is_empty() =>
        {
            Ok((namespace, service_account, pod.to_owned()))
        }
        _ => Err(PodError::PodName(text.to_owned())),
    }
}

/// Five characters of Kubernetes' generated-name alphabet (no vowels), from the clock and the process id.
fn pod_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut seed = nanos ^ (u128::from(std::process::id()) << 64);
    (0..5)
        .map(|_| {
            let index = (seed % ALPHABET.len() as u128) as usize;
            seed /= ALPHABET.len() as u128;
            ALPHABET[index] as char
        })
        .collect()
}

/// COMMAND's exit code; killed by a signal, 128 + the signal, as shells report it.
fn exit_code(status: std::process::ExitStatus) -> ExitCode {
    use std::os::unix::process::ExitStatusExt;
    let code = status
        .code()
        .or_else(|| status.signal().map(|signal| 128 + signal))
        .unwrap_or(1);
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
