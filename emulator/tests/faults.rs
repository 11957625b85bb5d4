//! Injected faults as the SDK sees them, call counting, and shutdown.

mod common;

use std::time::{Duration, Instant};

use aws_sdk_eks::error::{ProvideErrorMetadata, SdkError};
use common::*;
use pia_emulator::{ChaosConfig, Fault};

const CREATE: &str = "CreatePodIdentityAssociation";
const DESCRIBE: &str = "DescribePodIdentityAssociation";

#[tokio::test]
async fn throttle_server_error_and_unavailable_reach_the_sdk_unapplied() {
    let emu = start().await;
    let eks = client(&emu);
    for (fault, status, code) in [
        (Fault::Throttle, 429, "ThrottlingException"),
        (Fault::ServerError, 500, "ServerException"),
        (Fault::Unavailable, 503, "ServiceUnavailableException"),
    ] {
        emu.inject(CREATE, fault, 1);
        let e = eks
            .create_pod_identity_association()
            .cluster_name(CLUSTER)
            .namespace("ns")
            .service_account("sa")
            .role_arn(ROLE)
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(status), "{fault:?}");
        let e = e.into_service_error();
        assert_eq!(e.code(), Some(code), "{fault:?}");
        if fault == Fault::ServerError {
            assert!(e.is_server_exception());
        }
        assert_eq!(emu.association_count(CLUSTER), 0, "{fault:?} must not apply the write");
    }
    assert_eq!(emu.calls(CREATE), 3);
    // The faults are used up: the next create works.
    create(&eks, "ns", "sa").await;
    assert_eq!(emu.calls(CREATE), 4);
}

#[tokio::test]
async fn retrying_client_rides_out_throttles_and_server_errors() {
    let emu = start().await;
    let eks = retrying_client(&emu, 4);
    emu.inject(CREATE, Fault::Throttle, 2);
    emu.inject(CREATE, Fault::Unavailable, 1);
    create(&eks, "ns", "sa").await;
    assert_eq!(emu.calls(CREATE), 4);
    assert_eq!(emu.association_count(CLUSTER), 1);

    // More faults than attempts: the last one surfaces.
    emu.inject(DESCRIBE, Fault::ServerError, 10);
    let e = eks
        .describe_pod_identity_association()
        .cluster_name(CLUSTER)
        .association_id("a-0123456789abcdefg")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_server_exception(), "{e:?}");
    assert_eq!(emu.calls(DESCRIBE), 4);
}

#[tokio::test]
async fn latency_delays_the_answer() {
    let emu = start().await;
    let eks = client(&emu);
    let id = create(&eks, "ns", "sa").await.association_id.unwrap();
    emu.inject(DESCRIBE, Fault::Latency(Duration::from_millis(400)), 1);
    let started = Instant::now();
    let out = eks
        .describe_pod_identity_association()
        .cluster_name(CLUSTER)
        .association_id(&id)
        .send()
        .await;
    assert!(out.is_ok(), "{out:?}");
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );

    // Used up after one request: the next one is answered (no upper bound on time is asserted).
    eks.describe_pod_identity_association()
        .cluster_name(CLUSTER)
        .association_id(&id)
        .send()
        .await
        .unwrap();

    // Past the client's timeout it is a timeout error.
    emu.inject(DESCRIBE, Fault::Latency(Duration::from_secs(2)), 1);
    let impatient = impatient_client(&emu, Duration::from_millis(200));
    let e = impatient
        .describe_pod_identity_association()
        .cluster_name(CLUSTER)
        .association_id(&id)
        .send()
        .await;
    assert!(matches!(e, Err(SdkError::TimeoutError(_))), "{e:?}");
}

#[tokio::test]
async fn drop_after_apply_applies_the_write_but_the_client_sees_a_dispatch_failure() {
    let emu = start().await;
    let eks = client(&emu);
    emu.inject(CREATE, Fault::DropAfterApply, 1);
    let e = eks
        .create_pod_identity_association()
        .cluster_name(CLUSTER)
        .namespace("ns")
        .service_account("sa")
        .role_arn(ROLE)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(e, SdkError::DispatchFailure(_)), "{e:?}");
    assert_eq!(emu.association_count(CLUSTER), 1, "the write was applied");

    // The same for delete: gone, though the client was not told.
    let id = emu.associations(CLUSTER)[0].association_id.clone();
    emu.inject("DeletePodIdentityAssociation", Fault::DropAfterApply, 1);
    let e = eks
        .delete_pod_identity_association()
        .cluster_name(CLUSTER)
        .association_id(&id)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(e, SdkError::DispatchFailure(_)), "{e:?}");
    assert_eq!(emu.association_count(CLUSTER), 0);

    // The server keeps serving new connections.
    create(&eks, "ns", "sa").await;
}

/// The SDK retries the dropped create with the same clientRequestToken, so the retry replays the
/// association instead of failing with ResourceInUseException.
#[tokio::test]
async fn dropped_create_retried_by_the_sdk_is_idempotent() {
    let emu = start().await;
    let eks = retrying_client(&emu, 3);
    emu.inject(CREATE, Fault::DropAfterApply, 1);
    let association = create(&eks, "ns", "sa").await;
    assert_eq!(emu.calls(CREATE), 2);
    assert_eq!(emu.association_count(CLUSTER), 1);
    assert_eq!(
        emu.associations(CLUSTER)[0].association_id,
        association.association_id.unwrap()
    );
}

#[tokio::test]
async fn wildcard_faults_and_clearing() {
    let emu = start().await;
    let eks = client(&emu);
    emu.inject("*", Fault::Throttle, 2);
    emu.inject("ListPodIdentityAssociations", Fault::Unavailable, 1);
    // The operation's own fault comes first, then the wildcard ones.
    let list = || eks.list_pod_identity_associations().cluster_name(CLUSTER).send();
    assert_eq!(
        list().await.unwrap_err().into_service_error().code(),
        Some("ServiceUnavailableException")
    );
    assert_eq!(
        list().await.unwrap_err().into_service_error().code(),
        Some("ThrottlingException")
    );
    let e = eks
        .describe_cluster()
        .name(CLUSTER)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(e.code(), Some("ThrottlingException"));
    assert!(list().await.is_ok());

    emu.inject("*", Fault::ServerError, u32::MAX);
    for _ in 0..3 {
        assert!(list().await.is_err());
    }
    emu.clear_faults();
    assert!(list().await.is_ok());
    assert!(eks.describe_cluster().name(CLUSTER).send().await.is_ok());
}

#[tokio::test]
async fn chaos_mode_injects_seeded_faults_until_cleared() {
    let emu = start().await;
    let eks = client(&emu);
    let mut chaos = ChaosConfig::new(42);
    chaos.throttle = 1.0;
    chaos.operations = vec!["ListPodIdentityAssociations".into()];
    emu.set_chaos(Some(chaos));
    let e = eks
        .list_pod_identity_associations()
        .cluster_name(CLUSTER)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.into_service_error().code(), Some("ThrottlingException"));
    assert!(
        eks.describe_cluster().name(CLUSTER).send().await.is_ok(),
        "other operations untouched"
    );

    // Half the requests fail, reproducibly for the seed.
    let run = async |seed| {
        let mut chaos = ChaosConfig::new(seed);
        chaos.server_error = 0.5;
        emu.set_chaos(Some(chaos));
        let mut outcomes = Vec::new();
        for _ in 0..40 {
            outcomes.push(
                eks.list_pod_identity_associations()
                    .cluster_name(CLUSTER)
                    .send()
                    .await
                    .is_ok(),
            );
        }
        outcomes
    };
    let first = run(7).await;
    assert_eq!(first, run(7).await);
    let ok = first.iter().filter(|ok| **ok).count();
    assert!((8..=32).contains(&ok), "{ok} of 40 succeeded");

    emu.clear_faults();
    for _ in 0..10 {
        assert!(
            eks.list_pod_identity_associations()
                .cluster_name(CLUSTER)
                .send()
                .await
                .is_ok()
        );
    }
}

#[tokio::test]
async fn calls_are_counted_per_operation_including_failures() {
    let emu = start().await;
    let eks = client(&emu);
    let id = create(&eks, "ns", "sa").await.association_id.unwrap();
    let _ = eks
        .create_pod_identity_association()
        .cluster_name(CLUSTER)
        .namespace("ns")
        .service_account("sa")
        .role_arn(ROLE)
        .send()
        .await
        .unwrap_err();
    eks.describe_pod_identity_association()
        .cluster_name(CLUSTER)
        .association_id(&id)
        .send()
        .await
        .unwrap();
    eks.list_pod_identity_associations()
        .cluster_name(CLUSTER)
        .send()
        .await
        .unwrap();
    eks.delete_pod_identity_association()
        .cluster_name(CLUSTER)
        .association_id(&id)
        .send()
        .await
        .unwrap();
    emu.inject("UpdatePodIdentityAssociation", Fault::Throttle, 1);
    let _ = eks
        .update_pod_identity_association()
        .cluster_name(CLUSTER)
        .association_id(&id)
        .role_arn(ROLE_2)
        .send()
        .await
        .unwrap_err();

    let snapshot = emu.calls_snapshot();
    let expected: std::collections::BTreeMap<String, u64> = [
        (CREATE, 2),
        (DESCRIBE, 1),
        ("ListPodIdentityAssociations", 1),
        ("DeletePodIdentityAssociation", 1),
        ("UpdatePodIdentityAssociation", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(snapshot, expected);
    assert_eq!(emu.calls(CREATE), 2);
    assert_eq!(emu.calls("TagResource"), 0);

    emu.reset_calls();
    assert!(emu.calls_snapshot().is_empty());
    eks.describe_cluster().name(CLUSTER).send().await.unwrap();
    assert_eq!(emu.calls("DescribeCluster"), 1);
    assert_eq!(emu.calls(CREATE), 0);
}

#[tokio::test]
async fn clones_share_one_server_and_shutdown_stops_it() {
    let emu = start().await;
    let other = emu.clone();
    let eks = client(&emu);
    create(&eks, "ns", "sa").await;
    assert_eq!(other.association_count(CLUSTER), 1);
    assert_eq!(other.endpoint(), emu.endpoint());
    assert!(emu.endpoint().starts_with("http://127.0.0.1:"));

    other.shutdown();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let fresh = client(&emu);
    let e = fresh
        .list_pod_identity_associations()
        .cluster_name(CLUSTER)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(e, SdkError::DispatchFailure(_)), "{e:?}");
    assert!(
        tokio::net::TcpStream::connect(emu.local_addr()).await.is_err(),
        "nothing listens any more"
    );
}

#[tokio::test]
async fn fixed_port_and_bind_errors() {
    let emu = start().await;
    let taken = emu.local_addr().port();
    let config = pia_emulator::EmulatorConfig {
        port: taken,
        ..Default::default()
    };
    let e = pia_emulator::Emulator::start(config).await.unwrap_err();
    assert!(matches!(e, pia_emulator::EmulatorError::Bind { .. }), "{e:?}");

    let mut config = pia_emulator::EmulatorConfig::default();
    config.clusters.push(pia_emulator::ClusterConfig::new("demo"));
    let e = pia_emulator::Emulator::start(config).await.unwrap_err();
    assert!(matches!(e, pia_emulator::EmulatorError::InvalidConfig(_)), "{e:?}");
}
