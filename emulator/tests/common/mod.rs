//! Shared helpers: an emulator with the default config and real aws-sdk-eks clients pointed at it.

#![allow(dead_code)]

use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_eks::Client;
use aws_sdk_eks::config::Region;
use aws_sdk_eks::config::retry::RetryConfig;
use aws_sdk_eks::config::timeout::TimeoutConfig;
use aws_sdk_eks::operation::create_pod_identity_association::CreatePodIdentityAssociationOutput;
use aws_sdk_eks::types::PodIdentityAssociation;
use pia_emulator::{Emulator, EmulatorConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const CLUSTER: &str = "demo";
pub const ACCOUNT: &str = "111122223333";
pub const ROLE: &str = "arn:aws:iam::111122223333:role/demo-pod-role";
pub const ROLE_2: &str = "arn:aws:iam::111122223333:role/demo-pod-role-2";

pub async fn start() -> Emulator {
    Emulator::start(EmulatorConfig::default())
        .await
        .expect("emulator starts")
}

fn config(
    emulator: &Emulator,
    retry: RetryConfig,
    operation_timeout: Duration,
) -> aws_sdk_eks::Config {
    aws_sdk_eks::Config::builder()
        .behavior_version_latest()
        .region(Region::new("us-east-1"))
        .endpoint_url(emulator.endpoint())
        .credentials_provider(Credentials::new("AKID", "SECRET", None, None, "test"))
        .retry_config(retry)
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(operation_timeout)
                .build(),
        )
        .build()
}

/// A client that makes exactly one attempt per call.
pub fn client(emulator: &Emulator) -> Client {
    Client::from_conf(config(
        emulator,
        RetryConfig::disabled(),
        Duration::from_secs(20),
    ))
}

/// A client with the SDK's standard retries (`attempts` in all), with millisecond backoff.
pub fn retrying_client(emulator: &Emulator, attempts: u32) -> Client {
    let retry = RetryConfig::standard()
        .with_max_attempts(attempts)
        .with_initial_backoff(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(5));
    Client::from_conf(config(emulator, retry, Duration::from_secs(20)))
}

/// A single-attempt client whose calls time out after `timeout`.
pub fn impatient_client(emulator: &Emulator, timeout: Duration) -> Client {
    Client::from_conf(config(emulator, RetryConfig::disabled(), timeout))
}

pub async fn create(
    client: &Client,
    namespace: &str,
    service_account: &str,
) -> PodIdentityAssociation {
    create_output(client, namespace, service_account)
        .await
        .association
        .expect("association in output")
}

pub async fn create_output(
    client: &Client,
    namespace: &str,
    service_account: &str,
) -> CreatePodIdentityAssociationOutput {
    client
        .create_pod_identity_association()
        .cluster_name(CLUSTER)
        .namespace(namespace)
        .service_account(service_account)
        .role_arn(ROLE)
        .send()
        .await
        .expect("create succeeds")
}

/// One raw HTTP/1.1 exchange (`Connection: close`): status, headers (lower-case names) and body.
pub async fn raw_request(
    emulator: &Emulator,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> (u16, Vec<(String, String)>, String) {
    let mut stream = tokio::net::TcpStream::connect(emulator.local_addr())
        .await
        .expect("connect");
    let body = body.unwrap_or("");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        emulator.local_addr(),
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let text = String::from_utf8(response).expect("utf-8 response");
    let (head, body) = text.split_once("\r\n\r\n").expect("header end");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, body.to_owned())
}

pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}
