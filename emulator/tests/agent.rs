//! The Pod Identity Agent over the wire: the AWS SDK's own credential chain (container credentials
//! provider) fed the agent's URI and a token file, raw HTTP for the agent's errors (text/plain, in the real agent's
//! words), the cache, faults, and the node role it signs with.

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
    pod_credentials_provider_at(&agent.credentials_uri(), token_file).await
}

async fn pod_credentials_provider_at(
    uri: &str,
    token_file: &std::path::Path,
) -> aws_credential_types::provider::SharedCredentialsProvider {
    let missing = temp_path("no-such-file");
    let missing = missing.to_str().unwrap();
    let env = Env::from_slice(&[
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri),
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

/// `GET /v1/credentials`: the status and the answer, JSON credentials or the error's text line.
async fn get_credentials(agent: &Agent, token: Option<&str>) -> (u16, Value) {
    let headers: Vec<(&str, &str)> = token.map(|t| ("Authorization", t)).into_iter().collect();
    let (status, headers, body) = http(agent.local_addr(), "GET", "/v1/credentials", &headers, "").await;
    let content_type = headers
        .iter()
        .find(|(name, _)| name == "content-type")
        .map(|(_, value)| value.as_str());
    if status == 200 {
        assert_eq!(content_type, Some("application/json"));
        return (status, serde_json::from_str(&body).expect("JSON credentials"));
    }
    // Errors are Go's http.Error: one line of text/plain.
    assert_eq!(content_type, Some("text/plain; charset=utf-8"), "{body}");
    let line = body.strip_suffix('\n').unwrap_or_else(|| panic!("a line: {body:?}"));
    (status, Value::String(line.to_owned()))
}

fn text(body: &Value) -> &str {
    body.as_str().unwrap_or_else(|| panic!("an error text, got {body}"))
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
async fn a_missing_unparsable_or_expired_token_is_a_400_from_the_agent_itself() {
    let (emulator, agent) = start().await;
    associate(&emulator, "ns", "sa", ROLE, None, false).await;
    emulator.reset_calls();
    for token in [None, Some(""), Some("   ")] {
        let (status, body) = get_credentials(&agent, token).await;
        assert_eq!(
            (status, text(&body)),
            (400, "Service account token cannot be empty"),
            "{token:?}"
        );
    }
    let (status, body) = get_credentials(&agent, Some("not-a-jwt")).await;
    assert_eq!(
        (status, text(&body)),
        (
            400,
            "Service account token cannot be parsed: token is malformed: token contains an invalid number of segments"
        )
    );

    // Expired (signed by the cluster, so only the agent's own check refuses it).
    let mut expired = TokenRequest::new(CLUSTER, "ns", "sa", "p");
    expired.issued_at = Some(std::time::SystemTime::now() - Duration::from_secs(3 * 86_400));
    let (status, body) = get_credentials(&agent, Some(&emulator.mint_token(&expired).unwrap())).await;
    assert_eq!(
        (status, text(&body)),
        (
            400,
            "Service account token failed basic claim validations: token has invalid claims: token is expired"
        )
    );
    assert_eq!(emulator.calls("AssumeRoleForPodIdentity"), 0, "EKS Auth is not asked");
}

#[tokio::test]
async fn eks_auth_refusals_keep_their_status_and_reason() {
    let (emulator, agent) = start().await;
    associate(&emulator, "ns", "sa", ROLE, None, false).await;

    // A forged token: EKS Auth's InvalidTokenException comes back as a 400, worded as the real agent words it.
    let claims = emulator
        .token_claims(&TokenRequest::new(CLUSTER, "ns", "sa", "p"))
        .unwrap();
    let forged = SigningKey::generate().unwrap().sign(&claims).unwrap();
    let (status, body) = get_credentials(&agent, Some(&forged)).await;
    assert_eq!(status, 400, "{body}");
    let message = text(&body);
    assert!(message.starts_with('['), "[request id]: {message}");
    assert!(
        message.contains("]: (InvalidTokenException): ") && message.contains("signature"),
        "{message}"
    );
    assert!(message.ends_with(", fault: client"), "{message}");

    // No association: 404.
    let (status, body) = get_credentials(&agent, Some(&token(&emulator, "ns", "nobody", "p"))).await;
    assert_eq!(status, 404, "{body}");
    assert!(text(&body).contains("(ResourceNotFoundException)"), "{body}");

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
    assert_eq!(status, 500, "{body}");
    assert!(
        text(&body).contains("(InternalServerException)") && text(&body).ends_with(", fault: server"),
        "{body}"
    );

    emulator.inject("AssumeRoleForPodIdentity", Fault::Unavailable, 1);
    let (status, body) = get_credentials(&agent, Some(&token)).await;
    assert_eq!(status, 503, "{body}");
    assert!(text(&body).contains("(ServiceUnavailableException)"), "{body}");

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
    assert_eq!(status, 500, "{body}");
    assert!(
        text(&body).starts_with("error getting credentials to cache: unable to fetch credentials from EKS Auth: "),
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

/// A configuration with its own access keys (none of the default ones): the agent still works, since it signs with
/// sessions of the node role, which the emulator seeds as an IAM role trusting EC2.
#[tokio::test]
async fn the_agent_signs_as_the_node_role_whatever_the_access_keys() {
    let config = EmulatorConfig {
        access_keys: vec![pia_emulator::AccessKeyConfig::new(
            "AKIAOWNKEY0000000001",
            "own-secret-000000000000000000000000000000",
            "ops",
        )],
        users: vec![pia_emulator::config::UserConfig::with_policy(
            "ops",
            pia_emulator::config::ADMINISTRATOR_ACCESS,
        )],
        ..EmulatorConfig::default()
    };
    let emulator = Emulator::start(config).await.unwrap();
    let agent = emulator.start_agent(AgentConfig::default()).await.unwrap();
    let own = aws_sdk_eks::config::Credentials::new(
        "AKIAOWNKEY0000000001",
        "own-secret-000000000000000000000000000000",
        None,
        None,
        "own",
    );
    let sdk_config = pia_emulator::clients::sdk_config(&emulator.endpoint(), own);
    aws_sdk_eks::Client::new(&sdk_config)
        .create_pod_identity_association()
        .cluster_name(CLUSTER)
        .namespace("ns")
        .service_account("sa")
        .role_arn(ROLE)
        .send()
        .await
        .expect("association created with the config's own key");
    let (status, body) = get_credentials(&agent, Some(&token(&emulator, "ns", "sa", "p"))).await;
    assert_eq!(status, 200, "{body}");

    let role = aws_sdk_iam::Client::new(&sdk_config)
        .get_role()
        .role_name("eks-pod-identity-node")
        .send()
        .await
        .expect("the node role exists")
        .role
        .unwrap();
    assert_eq!(role.arn(), pia_emulator::config::DEFAULT_NODE_ROLE_ARN);
    let trust = percent_encoding::percent_decode_str(role.assume_role_policy_document().unwrap())
        .decode_utf8()
        .unwrap()
        .into_owned();
    assert!(trust.contains("ec2.amazonaws.com"), "{trust}");

    // The option for tests that sign with keys of their own: an unknown key is refused by EKS Auth.
    let unknown = emulator
        .start_agent(AgentConfig {
            credentials: Some(aws_credential_types::Credentials::new(
                "AKIANOTKNOWN00000001",
                "not-a-known-secret-00000000000000000000",
                None,
                None,
                "test",
            )),
            max_attempts: 1,
            ..AgentConfig::default()
        })
        .await
        .unwrap();
    let (status, body) = get_credentials(&unknown, Some(&token(&emulator, "ns", "sa", "p2"))).await;
    assert_eq!(status, 403, "{body}");
}
