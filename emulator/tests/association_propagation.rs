//! `association_propagation_seconds`: EKS documents its associations as eventually consistent (a create or update
//! takes a few seconds to be effective). Over the wire with aws-sdk-eks and aws-sdk-eksauth: until then EKS Auth
//! answers as for a service account without an association, or with the association as it was; a delete is
//! effective at once.

mod pod_identity_support;

use std::time::{Duration, Instant};

use pia_emulator::{Emulator, EmulatorConfig};
use pod_identity_support::*;

const ROLE_2: &str = "arn:aws:iam::111122223333:role/demo-pod-role-2";
/// Far longer than any test: every answer while it applies is the one before propagation.
const FOREVER: f64 = 3_600.0;

async fn start(association_propagation_seconds: f64) -> Emulator {
    Emulator::start(EmulatorConfig {
        association_propagation_seconds,
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts")
}

/// The name of the role whose session a pod of payments/api gets, or the refusal's (status, code).
async fn pod_role(emulator: &Emulator) -> Result<String, (u16, String)> {
    match assume(emulator, CLUSTER, &token(emulator, "payments", "api", "api-0")).await {
        Ok(output) => {
            let arn = output.assumed_role_user().expect("assumed role user").arn();
            Ok(arn.split('/').nth(1).unwrap_or_default().to_owned())
        }
        Err(error) => {
            let (status, code, _) = refusal(Err(error));
            Err((status, code))
        }
    }
}

fn not_found() -> Result<String, (u16, String)> {
    Err((404, "ResourceNotFoundException".to_owned()))
}

fn role(name: &str) -> Result<String, (u16, String)> {
    Ok(name.to_owned())
}

/// Asks EKS Auth until it answers `expected` (propagation is a matter of time; no duration is asserted).
async fn eventually(emulator: &Emulator, expected: Result<String, (u16, String)>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let answer = pod_role(emulator).await;
        if answer == expected {
            return;
        }
        assert!(Instant::now() < deadline, "still {answer:?}, expected {expected:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn update_role(emulator: &Emulator, association_id: &str, role_arn: &str) {
    let updated = eks_client(emulator)
        .update_pod_identity_association()
        .cluster_name(CLUSTER)
        .association_id(association_id)
        .role_arn(role_arn)
        .send()
        .await
        .expect("updated")
        .association
        .expect("association");
    // The EKS API itself answers with the change at once.
    assert_eq!(updated.role_arn(), Some(role_arn));
}

async fn delete(emulator: &Emulator, association_id: &str) {
    eks_client(emulator)
        .delete_pod_identity_association()
        .cluster_name(CLUSTER)
        .association_id(association_id)
        .send()
        .await
        .expect("deleted");
}

#[tokio::test]
async fn by_default_changes_are_effective_at_once() {
    let emulator = start(0.0).await;
    let association = associate(&emulator, "payments", "api", ROLE, None, false).await;
    assert_eq!(pod_role(&emulator).await, role("demo-pod-role"));
    let id = association.association_id().unwrap_or_default();
    update_role(&emulator, id, ROLE_2).await;
    assert_eq!(pod_role(&emulator).await, role("demo-pod-role-2"));
    delete(&emulator, id).await;
    assert_eq!(pod_role(&emulator).await, not_found());
}

#[tokio::test]
async fn a_new_association_is_not_found_until_effective() {
    let emulator = start(FOREVER).await;
    let association = associate(&emulator, "payments", "api", ROLE, None, false).await;
    assert_eq!(association.role_arn(), Some(ROLE), "the EKS API has it at once");
    assert_eq!(pod_role(&emulator).await, not_found());

    // Deleted before it was effective and made anew: still nothing for EKS Auth.
    delete(&emulator, association.association_id().unwrap_or_default()).await;
    associate(&emulator, "payments", "api", ROLE, None, false).await;
    assert_eq!(pod_role(&emulator).await, not_found());
}

#[tokio::test]
async fn an_update_keeps_the_previous_role_until_effective_and_a_delete_is_at_once() {
    let emulator = start(0.0).await;
    let association = associate(&emulator, "payments", "api", ROLE, None, false).await;
    let id = association.association_id().unwrap_or_default();
    assert_eq!(pod_role(&emulator).await, role("demo-pod-role"));

    emulator.set_association_propagation_seconds(FOREVER);
    update_role(&emulator, id, ROLE_2).await;
    assert_eq!(pod_role(&emulator).await, role("demo-pod-role"));
    // A second update while the first propagates: EKS Auth still has the version before both.
    update_role(&emulator, id, ROLE).await;
    assert_eq!(pod_role(&emulator).await, role("demo-pod-role"));

    delete(&emulator, id).await;
    assert_eq!(pod_role(&emulator).await, not_found());
}

#[tokio::test]
async fn changes_become_effective_after_the_delay() {
    let emulator = start(0.2).await;
    let association = associate(&emulator, "payments", "api", ROLE, None, false).await;
    eventually(&emulator, role("demo-pod-role")).await;
    update_role(&emulator, association.association_id().unwrap_or_default(), ROLE_2).await;
    eventually(&emulator, role("demo-pod-role-2")).await;
}

#[tokio::test]
async fn the_delay_must_be_between_0_and_86400_seconds() {
    for seconds in [-1.0, 86_401.0, f64::NAN] {
        let refused = Emulator::start(EmulatorConfig {
            association_propagation_seconds: seconds,
            ..EmulatorConfig::default()
        })
        .await
        .expect_err("refused");
        assert!(
            refused.to_string().contains("association_propagation_seconds"),
            "{refused}"
        );
    }
}
