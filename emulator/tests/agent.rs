//! The Pod Identity Agent over the wire: the AWS SDK's own credential chain (container credentials
//! provider) fed the agent's URI and a token file, raw HTTP for the agent's errors, the cache, faults.

mod pod_identity_support;

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_credential_types::provider::ProvideCredentials;
use aws_types::os_shim_internal::Env;
use pia_emulator::agent::{Agent, AgentConfig};
use pia_emulator::tokens::{SigningKey, TokenRequest};
use pia_emulator::{Emulator, EmulatorConfig, Fault};
use pod_identity_support::*;
use serde_json::Value;

async fn start() -> (Emulator, Agent) {
    let emulator = Emulator::start(EmulatorConfig::default())
        .await
        .expect("emulator starts");
    let agent = emulator
        .start_agent(AgentConfig {
            max_attempts: 1,
            ..AgentConfig::default()
        })
        .await
        .expect("agent starts");
    (emulator, agent)
}

/// The SDK's default credential chain as a pod sees it: only the two variables the webhook injects (and
/// no shared config files).
async fn pod_credentials_provider(
    agent: &Agent,
    token_file: &std::path::Path,
) -> aws_credential_types::provider::SharedCredentialsProvider {
    let uri = agent.credentials_uri();
    let missing = temp_path("no-such-file");
    let missing = missing.to_str().unwrap();
    let env = Env::from_slice(&[
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri.as_str()),
        ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token_file.to_str().unwrap()),
        ("AWS_CONFIG_FILE", missing),
        ("AWS_SHARED_CREDENTIALS_FILE", missing),
    ]);
    let config = aws_config::defaults(BehaviorVersion::latest())
        .env(env)
        .region("us-east-1")
        .load()
        .await;
    config.credentials_provider().expect("a credential chain")
}

async fn get_credentials(agent: &Agent, token: Option<&str>) -> (u16, Value) {
    let headers: Vec<(&str, &str)> = token.map(|t| ("Authorization", t)).into_iter().collect();
    let (status, _, body) = http(agent.local_addr(), "GET", "/v1/credentials", &headers, "").await;
    (status, serde_json::from_str(&body).unwrap_or(Value::String(body)))
}

#[tokio::test]
async fn the_sdk_container_provider_gets_role_credentials_through_the_agent() {
    let (emulator, agent) = start().await;
    associate(&emulator, "shop", "cart", ROLE, None, false).await;
    let token_file = temp_path("token");
    emulator
        .write_token_file(&TokenRequest::new(CLUSTER, "shop", "cart", "cart-0"), &token_file)
        .unwrap();

    let provider = pod_credentials_provider(&agent, &token_file).await;
    let credentials = provider
        .provide_credentials()
        .await
        .expect("credentials from the agent");
    assert!(credentials.access_key_id().starts_with("ASIA"));
    assert!(credentials.session_token().is_some());
    assert!(credentials.expiry().is_some());
    assert_eq!(credentials.account_id().map(|a| a.as_str()), Some(ACCOUNT));

    let identity = sts_client(&emulator, credentials.clone())
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity with the pod's credentials");
    let arn = identity.arn().unwrap();
    assert!(
        arn.starts_with("arn:aws:sts::111122223333:assumed-role/demo-pod-role/eks-demo-cart-0-"),
        "{arn}"
    );
    assert_eq!(emulator.pod_identity_grants()[0].assumed_role_arn, arn);
    std::fs::remove_file(&token_file).ok();
}

#[tokio::test]
async fn the_answer_has_the_container_credentials_shape() {
    let (emulator, agent) = start().await;
    associate(&emulator, "ns", "sa", ROLE, None, false).await;
    let token = token(&emulator, "ns", "sa", "p");
    let (status, body) = get_credentials(&agent, Some(&token)).await;
    assert_eq!(status, 200, "{body}");
    let object = body.as_object().unwrap();
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        ["AccessKeyId", "AccountId", "Expiration", "SecretAccessKey", "Token"]
    );
    assert_eq!(body["AccountId"], ACCOUNT);
    let expiration = body["Expiration"].as_str().unwrap();
    // RFC 3339, UTC: 2025-01-02T03:04:05Z
    assert_eq!(expiration.len(), 20, "{expiration}");
    assert!(
        expiration.ends_with('Z') && expiration.as_bytes()[10] == b'T',
        "{expiration}"
    );
    let grant = emulator.pod_identity_grants().pop().unwrap();
    assert_eq!(body["AccessKeyId"], grant.access_key_id);

    let (status, _, body) = http(agent.local_addr(), "GET", "/healthz", &[], "").await;
    assert_eq!((status, body.as_str()), (200, "ok"));
}

#[tokio::test]
async fn credentials_are_cached_per_token() {
    let (emulator, agent) = start().await;
    associate(&emulator, "ns", "sa", ROLE, None, false).await;
    let token_file = temp_path("cached-token");
    emulator
        .write_token_file(&TokenRequest::new(CLUSTER, "ns", "sa", "pod-a"), &token_file)
        .unwrap();
    emulator.reset_calls();

    // Two SDK providers (two processes of the pod) reading the same token file.
    let first = pod_credentials_provider(&agent, &token_file)
        .await
        .provide_credentials()
        .await
        .unwrap();
    let second = pod_credentials_provider(&agent, &token_file)
        .await
        .provide_credentials()
        .await
        .unwrap();
    assert_eq!(first.access_key_id(), second.access_key_id());
    assert_eq!(emulator.calls("AssumeRoleForPodIdentity"), 1);
    assert_eq!(agent.cached_tokens(), 1);

    // Another pod's token is another cache entry.
    let other = token(&emulator, "ns", "sa", "pod-b");
    let (status, body) = get_credentials(&agent, Some(&other)).await;
    assert_eq!(status, 200);
    assert_ne!(body["AccessKeyId"].as_str(), Some(first.access_key_id()));
    assert_eq!(emulator.calls("AssumeRoleForPodIdentity"), 2);

    // After the cache is dropped, EKS Auth is asked again.
    agent.clear_cache();
    let (status, _) = get_credentials(&agent, Some(&other)).await;
    assert_eq!(status, 200);
    assert_eq!(emulator.calls("AssumeRoleForPodIdentity"), 3);
    std::fs::remove_file(&token_file).ok();
}

#[tokio::test]
async fn a_missing_or_unparsable_token_is_a_400_without_calling_eks_auth() {
    let (emulator, agent) = start().await;
    emulator.reset_calls();
    for token in [None, Some(""), Some("   ")] {
        let (status, body) = get_credentials(&agent, token).await;
        assert_eq!(status, 400, "{token:?}");
        assert_eq!(body["message"], "Service account token cannot be empty");
    }
    let (status, body) = get_credentials(&agent, Some("not-a-jwt")).await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("Service account token cannot be parsed"),
        "{body}"
    );
    assert_eq!(emulator.calls("AssumeRoleForPodIdentity"), 0);
}

#[tokio::test]
async fn eks_auth_refusals_are_4xx_with_the_reason() {
    let (emulator, agent) = start().await;
    associate(&emulator, "ns", "sa", ROLE, None, false).await;

    // A forged token: EKS Auth's InvalidTokenException comes back as a 400 with its message.
    let claims = emulator
        .token_claims(&TokenRequest::new(CLUSTER, "ns", "sa", "p"))
        .unwrap();
    let forged = SigningKey::generate().unwrap().sign(&claims).unwrap();
    let (status, body) = get_credentials(&agent, Some(&forged)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "InvalidTokenException");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("InvalidTokenException") && message.contains("signature"),
        "{message}"
    );

    // An expired one.
    let mut expired = TokenRequest::new(CLUSTER, "ns", "sa", "p");
    expired.issued_at = Some(std::time::SystemTime::now() - Duration::from_secs(3 * 86_400));
    let (status, body) = get_credentials(&agent, Some(&emulator.mint_token(&expired).unwrap())).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("ExpiredTokenException")),
        "{body}"
    );

    // No association: 404.
    let (status, body) = get_credentials(&agent, Some(&token(&emulator, "ns", "nobody", "p"))).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("ResourceNotFoundException")),
        "{body}"
    );

    // The SDK's provider reports the refusal as an error (and gets no credentials).
    let token_file = temp_path("forged-token");
    std::fs::write(&token_file, &forged).unwrap();
    let error = pod_credentials_provider(&agent, &token_file)
        .await
        .provide_credentials()
        .await
        .expect_err("no credentials for a forged token");
    let text = format!("{}", aws_smithy_types::error::display::DisplayErrorContext(&error));
    assert!(text.contains("400") || text.contains("InvalidToken"), "{text}");
    std::fs::remove_file(&token_file).ok();
}

#[tokio::test]
async fn upstream_failures_are_5xx() {
    let (emulator, agent) = start().await;
    associate(&emulator, "ns", "sa", ROLE, None, false).await;
    let token = token(&emulator, "ns", "sa", "p");

    emulator.inject("AssumeRoleForPodIdentity", Fault::ServerError, 1);
    let (status, body) = get_credentials(&agent, Some(&token)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (500, Some("InternalServerException")),
        "{body}"
    );

    emulator.inject("AssumeRoleForPodIdentity", Fault::Unavailable, 1);
    let (status, body) = get_credentials(&agent, Some(&token)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("ServiceUnavailableException")),
        "{body}"
    );

    emulator.inject("AssumeRoleForPodIdentity", Fault::Throttle, 1);
    let (status, _) = get_credentials(&agent, Some(&token)).await;
    assert_eq!(status, 429);

    // Nothing was cached on the way: the next fetch succeeds.
    let (status, _) = get_credentials(&agent, Some(&token)).await;
    assert_eq!(status, 200);

    // EKS Auth unreachable (the emulator gone).
    emulator.shutdown();
    let fresh = emulator
        .mint_token(&TokenRequest::new(CLUSTER, "ns", "sa", "p2"))
        .unwrap();
    let (status, body) = get_credentials(&agent, Some(&fresh)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (500, Some("UpstreamFailure")),
        "{body}"
    );
}

#[tokio::test]
async fn the_sdk_retries_through_a_transient_fault() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let agent = emulator
        .start_agent(AgentConfig {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(1),
            ..AgentConfig::default()
        })
        .await
        .unwrap();
    associate(&emulator, "ns", "sa", ROLE, None, false).await;
    emulator.reset_calls();
    emulator.inject("AssumeRoleForPodIdentity", Fault::ServerError, 1);
    let (status, _) = get_credentials(&agent, Some(&token(&emulator, "ns", "sa", "p"))).await;
    assert_eq!(status, 200);
    assert_eq!(emulator.calls("AssumeRoleForPodIdentity"), 2);
}

#[tokio::test]
async fn the_agent_serves_the_configured_cluster() {
    let mut config = EmulatorConfig::default();
    config.clusters.push(pia_emulator::ClusterConfig::new("blue"));
    let emulator = Emulator::start(config).await.unwrap();
    let default = emulator.start_agent(AgentConfig::default()).await.unwrap();
    assert_eq!(default.cluster(), "blue");
    let demo = emulator
        .start_agent(AgentConfig {
            cluster: Some("demo".into()),
            ..AgentConfig::default()
        })
        .await
        .unwrap();
    assert_eq!(demo.cluster(), "demo");
    assert!(demo.credentials_uri().ends_with("/v1/credentials"));
    assert!(
        emulator
            .start_agent(AgentConfig {
                cluster: Some("nope".into()),
                ..AgentConfig::default()
            })
            .await
            .is_err()
    );
}
