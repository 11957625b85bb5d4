//! The agent's HTTP surface as the real agent's, over raw HTTP: the Host check, any method on `/v1/credentials`,
//! Go's 404 elsewhere, the probe port (`/healthz`, `/readyz`, `/metrics`), the rate limit, and IPv6 loopback with
//! the real SDK's container credentials provider.

mod pod_identity_support;

use aws_config::BehaviorVersion;
use aws_credential_types::provider::ProvideCredentials;
use aws_types::os_shim_internal::Env;
use pia_emulator::agent::{Agent, AgentConfig};
use pia_emulator::tokens::TokenRequest;
use pia_emulator::{Emulator, EmulatorConfig};
use pod_identity_support::*;

async fn start(config: AgentConfig) -> (Emulator, Agent) {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let agent = emulator.start_agent(config).await.unwrap();
    associate(&emulator, "ns", "sa", ROLE, None, false).await;
    (emulator, agent)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn only_requests_addressed_to_the_agent_are_answered() {
    let (emulator, agent) = start(AgentConfig::default()).await;
    let token = token(&emulator, "ns", "sa", "p");
    let auth = [("Authorization", token.as_str())];
    let port = agent.local_addr().port();

    let (status, headers, body) = http_to_host(
        agent.local_addr(),
        "attacker.example",
        "GET",
        "/v1/credentials",
        &auth,
        "",
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(header(&headers, "content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(header(&headers, "x-content-type-options"), Some("nosniff"));
    assert!(
        body.starts_with("Access Denied. Called agent through invalid address, please use either [169.254.170.23 fd00:ec2::23 127.0.0.1")
            && body.ends_with(" address not attacker.example\n"),
        "{body}"
    );

    // The real agent's addresses and the ones it listens on, with or without the port.
    let mut hosts = vec![
        "169.254.170.23".to_owned(),
        "[fd00:ec2::23]:80".to_owned(),
        format!("127.0.0.1:{port}"),
    ];
    if agent.local_addr_ipv6().is_some() {
        hosts.push(format!("[::1]:{port}"));
    }
    for host in hosts {
        let (status, _, body) = http_to_host(agent.local_addr(), &host, "GET", "/v1/credentials", &auth, "").await;
        assert_eq!(status, 200, "Host {host}: {body}");
    }
}

#[tokio::test]
async fn any_method_gets_credentials_and_other_paths_are_go_404s() {
    let (emulator, agent) = start(AgentConfig::default()).await;
    let token = token(&emulator, "ns", "sa", "p");
    for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
        let (status, headers, body) = http(
            agent.local_addr(),
            method,
            "/v1/credentials",
            &[("Authorization", &token)],
            "",
        )
        .await;
        assert_eq!(status, 200, "{method}: {body}");
        assert_eq!(header(&headers, "content-type"), Some("application/json"));
    }
    for path in ["/", "/v1/credentials/x", "/healthz", "/metrics"] {
        let (status, headers, body) = http(agent.local_addr(), "GET", path, &[], "").await;
        assert_eq!((status, body.as_str()), (404, "404 page not found\n"), "{path}");
        assert_eq!(header(&headers, "content-type"), Some("text/plain; charset=utf-8"));
    }
}

#[tokio::test]
async fn the_probe_port_answers_health_readiness_and_metrics() {
    let (emulator, agent) = start(AgentConfig::default()).await;
    assert_ne!(agent.probe_addr().port(), agent.local_addr().port());
    assert!(agent.health_uri().ends_with("/healthz") && agent.readiness_uri().ends_with("/readyz"));
    for path in ["/healthz", "/readyz"] {
        let (status, _, body) = http(agent.probe_addr(), "GET", path, &[], "").await;
        assert_eq!((status, body.as_str()), (200, ""), "{path}");
    }

    // A miss, a hit, an EKS Auth refusal and a bad request, as the counters show them.
    let pod = token(&emulator, "ns", "sa", "p");
    let nobody = token(&emulator, "ns", "nobody", "p");
    for token in [pod.as_str(), pod.as_str(), nobody.as_str(), ""] {
        http(
            agent.local_addr(),
            "GET",
            "/v1/credentials",
            &[("Authorization", token)],
            "",
        )
        .await;
    }
    let (status, headers, metrics) = http(agent.probe_addr(), "GET", "/metrics", &[], "").await;
    assert_eq!(status, 200);
    assert!(header(&headers, "content-type").is_some_and(|t| t.starts_with("text/plain")));
    for line in [
        "# TYPE pod_identity_http_response counter",
        r#"pod_identity_http_response{code="200"} 2"#,
        r#"pod_identity_http_response{code="404"} 1"#,
        r#"pod_identity_http_response{code="400"} 1"#,
        r#"pod_identity_cache_state{state="hit"} 1"#,
        r#"pod_identity_cache_state{state="miss"} 2"#,
        r#"pod_identity_eks_auth_errors{code="ResourceNotFoundException"} 1"#,
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in:\n{metrics}");
    }
    assert!(!metrics.contains(&pod), "no token in the metrics");
}

#[tokio::test]
async fn requests_over_the_rate_limit_are_429() {
    // One request per second, bursts of one: of several requests in a row, some are refused.
    let (_emulator, agent) = start(AgentConfig {
        requests_per_second: 1,
        ..AgentConfig::default()
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..10 {
        let (status, headers, body) = http(agent.local_addr(), "GET", "/v1/credentials", &[], "").await;
        if status == 429 {
            assert_eq!(body, "Too Many Requests\n");
            assert_eq!(header(&headers, "content-type"), Some("text/plain; charset=utf-8"));
        }
        statuses.push(status);
    }
    assert_eq!(statuses[0], 400, "the first is past the limit (and has no token)");
    assert!(statuses.contains(&429), "{statuses:?}");
}

#[tokio::test]
async fn a_pod_gets_credentials_over_ipv6_loopback() {
    let (emulator, agent) = start(AgentConfig::default()).await;
    let Some(uri) = agent.credentials_uri_ipv6() else {
        eprintln!("this host has no IPv6 loopback: nothing to test");
        return;
    };
    assert!(uri.starts_with("http://[::1]:"), "{uri}");
    let token_file = temp_path("ipv6-token");
    emulator
        .write_token_file(&TokenRequest::new(CLUSTER, "ns", "sa", "p6"), &token_file)
        .unwrap();
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
    let credentials = config
        .credentials_provider()
        .unwrap()
        .provide_credentials()
        .await
        .expect("credentials over [::1]");
    assert!(credentials.access_key_id().starts_with("ASIA"));
    assert_eq!(emulator.pod_identity_grants()[0].pod_name, "p6");
    std::fs::remove_file(&token_file).ok();
}
