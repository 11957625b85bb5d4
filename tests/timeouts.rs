//! Timeouts: every outbound call has a deadline well inside the Lambda's, so that a hung EKS endpoint (a TCP listener
//! that accepts and never answers, or the emulator with a hang fault) gives FAILED NetworkFailure for every action
//! (a create first sends itself again for up to a minute: it may have been applied), never a Lambda timeout. Outcomes
//! only are asserted; the generous outer timeout just makes sure an answer comes at all.

use std::time::Duration;

use pia_emulator::{Emulator, EmulatorConfig, Fault};
use pia_provider::{Provider, eks_client};
use pia_testkit::*;
use serde_json::{Value, json};

/// CloudFormation's Lambda timeouts: 60 s for Read and List, twice that for the others.
const LAMBDA_TIMEOUT_READ_LIST: Duration = Duration::from_secs(60);
const LAMBDA_TIMEOUT_OTHERS: Duration = Duration::from_secs(120);
/// Long enough for any answer; the provider's own deadlines are far shorter.
const OUTER: Duration = Duration::from_secs(300);

const ARN: &str = "arn:aws:eks:us-east-1:111122223333:podidentityassociation/demo/a-0123456789abcdefg";

#[test]
fn every_deadline_fits_inside_the_lambda_timeouts() {
    use eks_client::{ATTEMPT_TIMEOUT, CALL_TIMEOUT, CONNECT_TIMEOUT};
    assert!(CONNECT_TIMEOUT < ATTEMPT_TIMEOUT && ATTEMPT_TIMEOUT < CALL_TIMEOUT);
    // Read and List make one call, Delete one, Create one, Update up to four.
    assert!(
        CALL_TIMEOUT * 2 < LAMBDA_TIMEOUT_READ_LIST,
        "one call, with room to answer"
    );
    assert!(
        CALL_TIMEOUT * 5 < LAMBDA_TIMEOUT_OTHERS,
        "an update's four calls, with room to answer"
    );
    // A create starts no attempt after its window, and its last attempt is one call.
    assert!(
        pia_handlers::Pacing::default().window + CALL_TIMEOUT * 2 < LAMBDA_TIMEOUT_OTHERS,
        "a create's resends, with room to answer"
    );
}

/// One of each action, as CloudFormation sends them.
fn requests() -> Vec<(&'static str, Value)> {
    let mut update = desired();
    update["AssociationArn"] = json!(ARN);
    let mut previous = update.clone();
    previous["RoleArn"] = json!(ROLE_2);
    vec![
        ("CREATE", request("CREATE", desired())),
        ("READ", request("READ", json!({"AssociationArn": ARN}))),
        ("UPDATE", update_request(update, previous)),
        ("DELETE", request("DELETE", json!({"AssociationArn": ARN}))),
        ("LIST", request("LIST", json!({"ClusterName": "demo"}))),
    ]
}

/// Every action at once against `provider`; each must answer NetworkFailure.
async fn every_action_fails_with_network_failure(provider: &std::sync::Arc<Provider>) {
    let calls = requests().into_iter().map(|(what, request)| {
        let provider = provider.clone();
        async move {
            let event = tokio::time::timeout(OUTER, provider.invoke(request.to_string().as_bytes()))
                .await
                .unwrap_or_else(|_| panic!("{what}: no answer at all"));
            (what, serde_json::to_value(event).unwrap())
        }
    });
    for (what, event) in futures_join_all(calls).await {
        assert_eq!(event["status"], "FAILED", "{what}: {event}");
        assert_eq!(event["errorCode"], "NetworkFailure", "{what}: {event}");
    }
}

/// Joins futures without an extra dependency: each is spawned, then awaited in order.
async fn futures_join_all<F, T>(futures: impl IntoIterator<Item = F>) -> Vec<T>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.expect("the task completes"));
    }
    out
}

#[tokio::test]
async fn a_listener_that_never_answers_is_network_failure_for_every_action() {
    // Accepts every connection, reads what comes, never writes a byte.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let provider = Provider::new(eks_client::base_config_for(Some(endpoint)).await);
    every_action_fails_with_network_failure(&provider).await;
}

#[tokio::test]
async fn an_emulator_that_hangs_is_network_failure_for_every_action() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    emulator.inject("*", Fault::Hang, u32::MAX);
    let provider = Provider::new(eks_client::base_config_for(Some(emulator.endpoint())).await);
    every_action_fails_with_network_failure(&provider).await;
    assert!(
        emulator.faults_injected()["Hang"] >= 6,
        "{:?}",
        emulator.faults_injected()
    );
    assert_eq!(emulator.association_count("demo"), 0, "a hung request is never applied");
}
