//! Timeouts on the Pod Identity side: the agent's call to EKS Auth has a deadline of its own, so that a hung EKS Auth
//! (the emulator with a hang fault, or a listener that never answers) gives the pod a 5xx answer, never a request
//! that hangs with it (in the real agent's words: unable to fetch credentials from EKS Auth). Outcomes only; the outer timeout just makes sure an answer comes at all.

mod pod_identity_support;

use std::time::Duration;

use pia_emulator::agent::AgentConfig;
use pia_emulator::{Emulator, EmulatorConfig, Fault};
use pod_identity_support::{ROLE, associate, http, token};

const OUTER: Duration = Duration::from_secs(120);

async fn pod_asks(agent: &pia_emulator::agent::Agent, token: &str) -> (u16, String) {
    let (status, _, body) = tokio::time::timeout(
        OUTER,
        http(
            agent.local_addr(),
            "GET",
            "/v1/credentials",
            &[("Authorization", token)],
            "",
        ),
    )
    .await
    .expect("the agent answers in time");
    (status, body)
}

#[tokio::test]
async fn a_hung_eks_auth_gives_the_pod_a_5xx_not_a_hang() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    associate(&emulator, "ns", "sa", ROLE, None, false).await;
    let pod_token = token(&emulator, "ns", "sa", "p");

    // The emulator hangs on AssumeRoleForPodIdentity; another agent talks to a listener that never answers.
    emulator.inject("AssumeRoleForPodIdentity", Fault::Hang, u32::MAX);
    let hanging = emulator
        .start_agent(AgentConfig {
            max_attempts: 1,
            ..AgentConfig::default()
        })
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let deaf = emulator
        .start_agent(AgentConfig {
            max_attempts: 1,
            eks_auth_endpoint: Some(silent),
            ..AgentConfig::default()
        })
        .await
        .unwrap();

    let (first, second) = tokio::join!(pod_asks(&hanging, &pod_token), pod_asks(&deaf, &pod_token));
    for (status, body) in [first, second] {
        assert_eq!(status, 500, "{body}");
        assert!(
            body.contains("unable to fetch credentials from EKS Auth") && body.contains("timeout"),
            "{body}"
        );
    }
    assert_eq!(emulator.faults_injected()["Hang"], 1);

    // Once EKS Auth answers again, so does the agent.
    emulator.clear_faults();
    let (status, body) = pod_asks(&hanging, &pod_token).await;
    assert_eq!(status, 200, "{body}");
}
