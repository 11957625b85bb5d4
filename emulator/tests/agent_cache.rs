//! The agent's cache as the real agent's: bounded (the entry stored longest ago evicted), renewed in the background before
//! the credentials expire (pods then get the renewed ones without an EKS Auth call of theirs), and dropped when
//! EKS Auth refuses a renewal for good. Short renewal intervals; outcomes only, waited for within a bound.

mod pod_identity_support;

use std::time::Duration;

use pia_emulator::agent::{Agent, AgentConfig};
use pia_emulator::{Emulator, EmulatorConfig};
use pod_identity_support::*;
use serde_json::Value;

const EKS_AUTH: &str = "AssumeRoleForPodIdentity";

async fn credentials(agent: &Agent, token: &str) -> Value {
    let (status, _, body) = http(
        agent.local_addr(),
        "GET",
        "/v1/credentials",
        &[("Authorization", token)],
        "",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

async fn metrics(agent: &Agent) -> String {
    http(agent.probe_addr(), "GET", "/metrics", &[], "").await.2
}

/// Waits (at most a minute) until `done` holds.
async fn eventually(what: &str, mut done: impl AsyncFnMut() -> bool) {
    for _ in 0..600 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never: {what}");
}

#[tokio::test]
async fn the_cache_is_bounded_and_evicts_the_entry_stored_longest_ago() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let agent = emulator
        .start_agent(AgentConfig {
            max_cache_entries: 2,
            ..AgentConfig::default()
        })
        .await
        .unwrap();
    associate(&emulator, "ns", "sa", ROLE, None, false).await;
    let pods: Vec<String> = (0..3).map(|n| token(&emulator, "ns", "sa", &format!("p{n}"))).collect();
    credentials(&agent, &pods[0]).await;
    credentials(&agent, &pods[1]).await;
    credentials(&agent, &pods[0]).await; // a hit: p0 is still the one stored longest ago
    emulator.reset_calls();
    credentials(&agent, &pods[2]).await;
    assert_eq!(agent.cached_tokens(), 2);
    credentials(&agent, &pods[1]).await;
    assert_eq!(emulator.calls(EKS_AUTH), 1, "p1 stayed cached");
    credentials(&agent, &pods[0]).await;
    assert_eq!(emulator.calls(EKS_AUTH), 2, "p0 was evicted");
    assert!(
        metrics(&agent)
            .await
            .contains(r#"pod_identity_cache_state{state="evicted"} 2"#)
    );
}

#[tokio::test]
async fn cached_credentials_are_renewed_in_the_background() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let agent = emulator
        .start_agent(AgentConfig {
            // Due at once after each fetch: every sweep renews.
            max_retention_before_renewal: Duration::ZERO,
            renewal_interval: Duration::from_millis(50),
            renewal_calls_per_second: 100,
            ..AgentConfig::default()
        })
        .await
        .unwrap();
    associate(&emulator, "ns", "sa", ROLE, None, false).await;
    let pod = token(&emulator, "ns", "sa", "p");
    let first = credentials(&agent, &pod).await;
    eventually("a renewal", async || emulator.calls(EKS_AUTH) >= 2).await;
    let renewed = credentials(&agent, &pod).await;
    assert_ne!(renewed["AccessKeyId"], first["AccessKeyId"], "the renewed credentials");
    assert_eq!(agent.cached_tokens(), 1);
    assert!(
        metrics(&agent)
            .await
            .contains(r#"pod_identity_cache_state{state="refreshed"}"#)
    );
}

#[tokio::test]
async fn a_renewal_refused_for_good_drops_the_entry() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let agent = emulator
        .start_agent(AgentConfig {
            max_retention_before_renewal: Duration::ZERO,
            renewal_interval: Duration::from_millis(50),
            ..AgentConfig::default()
        })
        .await
        .unwrap();
    let association = associate(&emulator, "ns", "sa", ROLE, None, false).await;
    credentials(&agent, &token(&emulator, "ns", "sa", "p")).await;
    eks_client(&emulator)
        .delete_pod_identity_association()
        .cluster_name(CLUSTER)
        .set_association_id(association.association_id().map(str::to_owned))
        .send()
        .await
        .unwrap();
    eventually("the entry dropped", async || agent.cached_tokens() == 0).await;
    let metrics = metrics(&agent).await;
    assert!(
        metrics.contains(r#"pod_identity_cache_errors{code="ResourceNotFoundException",type="NonRecoverable"} 1"#),
        "{metrics}"
    );
}
