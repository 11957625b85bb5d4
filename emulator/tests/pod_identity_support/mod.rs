//! Helpers of the Pod Identity tests (EKS Auth, agent, webhook): an EKS Auth client signing with the
//! node's key, associations made through aws-sdk-eks, token files, and raw HTTP to the agent.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;

use aws_sdk_eks::types::PodIdentityAssociation;
use aws_sdk_eksauth::error::SdkError;
use aws_sdk_eksauth::operation::assume_role_for_pod_identity::{
    AssumeRoleForPodIdentityError, AssumeRoleForPodIdentityOutput,
};
use pia_emulator::Emulator;
use pia_emulator::tokens::TokenRequest;

#[path = "../raw_http/mod.rs"]
mod raw_http;

pub const CLUSTER: &str = "demo";
pub const ACCOUNT: &str = "111122223333";
pub const ROLE: &str = "arn:aws:iam::111122223333:role/demo-pod-role";

/// Lets `role`'s sessions assume `target` and tag the session, as the first role of a chain needs on AWS (across
/// accounts, or when the target's trust policy names only the role's account).
pub fn allow_assuming(emulator: &Emulator, role: &str, target: &str) {
    emulator.put_role_policy(
        role,
        "assume-target",
        &serde_json::json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"], "Resource": target,
        }]}),
    );
}

/// The real EKS Auth client, as the agent uses it: signed with the node's key, one attempt per call.
pub fn eks_auth_client(emulator: &Emulator) -> aws_sdk_eksauth::Client {
    aws_sdk_eksauth::Client::new(&pia_emulator::clients::sdk_config(
        &emulator.endpoint(),
        pia_emulator::clients::node_credentials(),
    ))
}

pub type AssumeResult = Result<AssumeRoleForPodIdentityOutput, SdkError<AssumeRoleForPodIdentityError>>;

pub async fn assume(emulator: &Emulator, cluster: &str, token: &str) -> AssumeResult {
    eks_auth_client(emulator)
        .assume_role_for_pod_identity()
        .cluster_name(cluster)
        .token(token)
        .send()
        .await
}

/// (HTTP status, error code, message) of a refused call.
pub fn refusal(result: AssumeResult) -> (u16, String, String) {
    use aws_sdk_eksauth::error::ProvideErrorMetadata;
    match result {
        Ok(_) => panic!("expected a refusal, got credentials"),
        Err(SdkError::ServiceError(failure)) => (
            failure.raw().status().as_u16(),
            failure.err().code().unwrap_or("").to_owned(),
            failure.err().message().unwrap_or("").to_owned(),
        ),
        Err(other) => panic!("expected a service error, got {other:?}"),
    }
}

/// An association made through aws-sdk-eks with the default admin key.
pub async fn associate(
    emulator: &Emulator,
    namespace: &str,
    service_account: &str,
    role_arn: &str,
    target_role_arn: Option<&str>,
    disable_session_tags: bool,
) -> PodIdentityAssociation {
    let client = eks_client(emulator);
    client
        .create_pod_identity_association()
        .cluster_name(CLUSTER)
        .namespace(namespace)
        .service_account(service_account)
        .role_arn(role_arn)
        .set_target_role_arn(target_role_arn.map(str::to_owned))
        .disable_session_tags(disable_session_tags)
        .send()
        .await
        .expect("association created")
        .association
        .expect("association in the output")
}

pub fn eks_client(emulator: &Emulator) -> aws_sdk_eks::Client {
    aws_sdk_eks::Client::new(&emulator.sdk_config())
}

/// An STS client signing with the given credentials.
pub fn sts_client(emulator: &Emulator, credentials: aws_sdk_sts::config::Credentials) -> aws_sdk_sts::Client {
    aws_sdk_sts::Client::new(&pia_emulator::clients::sdk_config(&emulator.endpoint(), credentials))
}

/// A fresh path in the temp directory for a token file: unique across runs (the pid and the time) and
/// within one (a counter).
pub fn temp_path(name: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::UNIX_EPOCH.elapsed().map_or(0, |d| d.as_nanos());
    std::env::temp_dir().join(format!("pia-{name}-{}-{nanos}-{n}", std::process::id()))
}

/// A token for a pod of the default cluster.
pub fn token(emulator: &Emulator, namespace: &str, service_account: &str, pod: &str) -> String {
    emulator
        .mint_token(&TokenRequest::new(CLUSTER, namespace, service_account, pod))
        .expect("token minted")
}

/// One HTTP/1.1 exchange with `Connection: close`: (status, headers with lower-case names, body).
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Vec<(String, String)>, String) {
    http_to_host(addr, &addr.to_string(), method, path, headers, body).await
}

/// [`http`] with this Host header.
pub async fn http_to_host(
    addr: SocketAddr,
    host: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Vec<(String, String)>, String) {
    let headers: Vec<(&str, &str)> = std::iter::once(("Host", host)).chain(headers.iter().copied()).collect();
    raw_http::exchange(addr, method, path, &headers, body).await
}
