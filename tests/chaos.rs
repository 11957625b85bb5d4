//! Faults: CloudFormation lifecycles under seeded chaos (throttling, 5xx, 503, latency, responses lost after the
//! write), with CloudFormation's re-invocations and rollbacks modelled; and the create that EKS applied but whose
//! answer was lost, scripted. The figures: `cargo run --example chaos`.

mod chaos_support;

use chaos_support::{ChaosSettings, fast_retry_provider, run_chaos};
use pia_emulator::Fault;
use pia_handlers::create::TRANSIENT_RETRIES;
use pia_testkit::*;
use serde_json::{Value, json};

const CREATE: &str = "CreatePodIdentityAssociation";

#[tokio::test]
async fn chaos_lifecycles_end_in_success_or_a_correct_code_and_leave_nothing_behind() {
    let settings = ChaosSettings::standard();
    let report = run_chaos(&settings).await;
    println!("{report}");

    assert!(report.violations.is_empty(), "{report}");
    assert_eq!(report.orphans, 0, "{report}");
    assert_eq!(report.duplicates, 0, "{report}");
    assert_eq!(report.runs, settings.runs);
    // Every kind of fault was met, and so were CloudFormation's re-invocations.
    for kind in ["Throttle", "ServerError", "Unavailable", "DropAfterApply", "Latency"] {
        assert!(
            report.faults.get(kind).copied().unwrap_or(0) > 0,
            "no {kind} injected: {report}"
        );
    }
    assert!(report.lost_invocations > 0, "{report}");
    // The orphan risk itself was met: creates that EKS applied while every retry of the call failed.
    assert!(report.creates_recovered > 0, "{report}");
    let lifecycles: u64 = [
        "create FAILED (nothing to roll back)",
        "delete SUCCESS",
        "delete SUCCESS after a retried stack delete",
    ]
    .iter()
    .map(|k| report.lifecycles.get(*k).copied().unwrap_or(0))
    .sum();
    assert_eq!(lifecycles, settings.runs as u64, "every run ends: {report}");
}

/// The emulated EKS, its demo cluster in `region`, and a provider with the production retry policy but millisecond
/// backoff.
async fn fast_world(region: &str) -> World {
    let emulator = pia_emulator::Emulator::start(config_in(region))
        .await
        .expect("emulator starts");
    let provider = fast_retry_provider(emulator.endpoint()).await;
    World { emulator, provider }
}

/// The default world with its demo cluster in `region`, where requests of that region reach it.
fn config_in(region: &str) -> pia_emulator::EmulatorConfig {
    pia_emulator::EmulatorConfig {
        clusters: vec![pia_emulator::ClusterConfig {
            region: region.to_owned(),
            ..pia_emulator::ClusterConfig::new("demo")
        }],
        ..pia_emulator::EmulatorConfig::default()
    }
}

/// A request in a region of its own: the SDK's retry quota is per service and region and process-wide, so
/// tests that exhaust retries on purpose must not drain each other's.
fn request_in(region: &str, action: &str, properties: Value) -> Value {
    let mut request = request(action, properties);
    request["region"] = json!(region);
    request
}

#[tokio::test]
async fn a_create_applied_with_its_answer_lost_then_failing_is_sent_again_not_leaked() {
    let world = fast_world("ap-south-1").await;
    // The write is applied, its answer lost; every retry the client makes then meets a 500.
    world.emulator.inject(CREATE, Fault::DropAfterApply, 1);
    world.emulator.inject(CREATE, Fault::ServerError, 3);
    let create = request_in("ap-south-1", "CREATE", desired());
    let (done, made) = world.invoke_counting(&create).await;
    assert_eq!(
        done["status"], "SUCCESS",
        "a FAILED here would leak the association: {done}"
    );
    // One client call (four attempts), then the handler's resend with the same token.
    assert_eq!(made, calls(&[(CREATE, 5)]));
    let held = world.emulator.associations("demo");
    assert_eq!(
        held.len(),
        1,
        "EKS answered the resend with the association the lost write made"
    );
    assert_eq!(
        done["resourceModel"]["AssociationArn"],
        held[0].association_arn.as_str()
    );
}

#[tokio::test]
async fn a_create_that_keeps_failing_gives_up_with_its_code_after_bounded_resends() {
    for (fault, code, region) in [
        (Fault::ServerError, "ServiceInternalError", "sa-east-1"),
        (Fault::Throttle, "Throttling", "ca-central-1"),
        (Fault::Unavailable, "Throttling", "eu-central-1"),
        (Fault::DropAfterApply, "NetworkFailure", "eu-north-1"),
    ] {
        let world = fast_world(region).await;
        world.emulator.inject(CREATE, fault, u32::MAX);
        let (last, made) = world.invoke_counting(&request_in(region, "CREATE", desired())).await;
        assert_eq!(last["status"], "FAILED", "{fault:?}: {last}");
        assert_eq!(last["errorCode"], code, "{fault:?}: {last}");
        let attempts = u64::from(pia_provider::eks_client::MAX_ATTEMPTS);
        assert_eq!(
            made,
            calls(&[(CREATE, attempts * (1 + u64::from(TRANSIENT_RETRIES)))]),
            "{fault:?}: bounded"
        );
        let held = world.emulator.association_count("demo");
        match fault {
            // Not applied: nothing to leak.
            Fault::ServerError | Fault::Throttle | Fault::Unavailable => assert_eq!(held, 0, "{fault:?}"),
            // Applied every time with every answer lost: one association (the token held), and only one.
            _ => assert_eq!(held, 1, "{fault:?}"),
        }
    }
}

#[tokio::test]
async fn a_role_that_appears_while_the_create_is_throttled_is_waited_for_in_one_invocation() {
    let emulator = pia_emulator::Emulator::start(config_in("ap-northeast-1"))
        .await
        .expect("emulator starts");
    let base = pia_provider::eks_client::base_config_for(Some(emulator.endpoint())).await;
    let world = World {
        provider: pia_provider::Provider::with_pacing(base, fast_pacing()),
        emulator,
    };
    let new_role = "arn:aws:iam::111122223333:role/made-in-the-same-stack";
    let mut input = desired();
    input["RoleArn"] = json!(new_role);
    world.emulator.inject(CREATE, Fault::Throttle, 4);
    let emulator = world.emulator.clone();
    let propagation = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        emulator.put_role(new_role, pia_emulator::pod_identity_trust_policy());
    });
    let done = world.invoke(&request_in("ap-northeast-1", "CREATE", input)).await;
    propagation.await.unwrap();
    assert_eq!(done["status"], "SUCCESS", "{done}");
    assert_eq!(done["resourceModel"]["RoleArn"], new_role);
    assert_eq!(world.emulator.association_count("demo"), 1);
}

#[tokio::test]
async fn a_create_without_a_bearer_token_is_not_retried_blindly() {
    let world = fast_world("ap-southeast-2").await;
    world.emulator.inject(CREATE, Fault::ServerError, 4);
    let mut create = request_in("ap-southeast-2", "CREATE", desired());
    create.as_object_mut().unwrap().remove("bearerToken");
    let (event, made) = world.invoke_counting(&create).await;
    assert_eq!(event["errorCode"], "ServiceInternalError", "{event}");
    assert_eq!(made, calls(&[(CREATE, 4)]), "one client call, no resend");
}
