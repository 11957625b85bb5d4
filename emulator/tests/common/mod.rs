//! Shared helpers: an emulator with the default config and real aws-sdk-eks, aws-sdk-iam and
//! aws-sdk-sts clients pointed at it, signing with the default access key.

#![allow(dead_code)]

use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_eks::Client;
use aws_sdk_eks::config::retry::RetryConfig;
use aws_sdk_eks::config::timeout::TimeoutConfig;
use aws_sdk_eks::operation::create_pod_identity_association::CreatePodIdentityAssociationOutput;
use aws_sdk_eks::types::PodIdentityAssociation;
use pia_emulator::{Emulator, EmulatorConfig};

#[path = "../raw_http/mod.rs"]
pub mod raw_http;

pub const CLUSTER: &str = "demo";
pub const ACCOUNT: &str = "111122223333";
pub const ROLE: &str = "arn:aws:iam::111122223333:role/demo-pod-role";
pub const ROLE_2: &str = "arn:aws:iam::111122223333:role/demo-pod-role-2";

pub async fn start() -> Emulator {
    Emulator::start(EmulatorConfig::default())
        .await
        .expect("emulator starts")
}

fn config(emulator: &Emulator, retry: RetryConfig, operation_timeout: Duration) -> aws_sdk_eks::Config {
    aws_sdk_eks::config::Builder::from(&emulator.sdk_config())
        .retry_config(retry)
        .timeout_config(TimeoutConfig::builder().operation_timeout(operation_timeout).build())
        .build()
}

/// The default config's access key (user `admin` of account 111122223333), no session token.
pub fn default_credentials() -> Credentials {
    pia_emulator::clients::admin_credentials()
}

/// The configuration of a one-attempt client of any service, signing with `credentials`.
fn signing_with(emulator: &Emulator, credentials: Credentials) -> aws_types::SdkConfig {
    pia_emulator::clients::sdk_config(&emulator.endpoint(), credentials)
}

/// An EKS client that signs with `credentials` and makes one attempt per call.
pub fn eks_client_with(emulator: &Emulator, credentials: Credentials) -> Client {
    Client::new(&signing_with(emulator, credentials))
}

/// An IAM client (global service: region us-east-1) with one attempt per call.
pub fn iam_client(emulator: &Emulator) -> aws_sdk_iam::Client {
    aws_sdk_iam::Client::new(&emulator.sdk_config())
}

pub fn iam_client_with(emulator: &Emulator, credentials: Credentials) -> aws_sdk_iam::Client {
    aws_sdk_iam::Client::new(&signing_with(emulator, credentials))
}

/// An STS client with one attempt per call.
pub fn sts_client(emulator: &Emulator) -> aws_sdk_sts::Client {
    aws_sdk_sts::Client::new(&emulator.sdk_config())
}

pub fn sts_client_with(emulator: &Emulator, credentials: Credentials) -> aws_sdk_sts::Client {
    aws_sdk_sts::Client::new(&signing_with(emulator, credentials))
}

/// Credentials from an STS `Credentials` shape.
pub fn from_sts(credentials: &aws_sdk_sts::types::Credentials) -> Credentials {
    Credentials::new(
        credentials.access_key_id(),
        credentials.secret_access_key(),
        Some(credentials.session_token().to_owned()),
        None,
        "sts",
    )
}

/// A trust policy that lets principals of `account` assume the role (with or without session tags).
pub fn account_trust_policy(account: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":["sts:AssumeRole","sts:TagSession"]}}]}}"#
    )
}

/// A client that makes exactly one attempt per call.
pub fn client(emulator: &Emulator) -> Client {
    Client::from_conf(config(emulator, RetryConfig::disabled(), Duration::from_secs(20)))
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

pub async fn create(client: &Client, namespace: &str, service_account: &str) -> PodIdentityAssociation {
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

/// One raw HTTP/1.1 exchange (`Connection: close`), signed with the default key as an SDK would sign
/// it: status, headers (lower-case names) and body.
pub async fn raw_request(
    emulator: &Emulator,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> (u16, Vec<(String, String)>, String) {
    let host = emulator.local_addr().to_string();
    let body = body.unwrap_or("");
    let mut headers = vec![
        ("host".to_owned(), host.clone()),
        ("content-type".to_owned(), "application/json".to_owned()),
    ];
    headers.extend(sign(method, &host, path, &headers, body.as_bytes(), "eks"));
    raw_http::exchange(emulator.local_addr(), method, path, &headers, body).await
}

/// SigV4 headers (`authorization`, `x-amz-date`) for a request, signed now with the default key for
/// `service` in us-east-1, by the SDK's signer.
pub fn sign(
    method: &str,
    host: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
    service: &str,
) -> Vec<(String, String)> {
    sign_as(&default_credentials(), method, host, path, headers, body, service)
}

/// [`sign`] with `credentials` (their session token included).
pub fn sign_as(
    credentials: &Credentials,
    method: &str,
    host: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
    service: &str,
) -> Vec<(String, String)> {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let identity = credentials.clone().into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name(service)
        .time(std::time::SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let request = SignableRequest::new(
        method,
        format!("http://{host}{path}"),
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .unwrap();
    let (instructions, _) = sign(request, &params).unwrap().into_parts();
    instructions
        .headers()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}
