//! Target roles written from the EKS user guide's target-role page, over the wire (aws-sdk-eks for the
//! associations, aws-sdk-eksauth as the agent calls it): with session tags the target trusts the first role and
//! the pod's session tags; with session tags disabled EKS sets `sts:ExternalId` to
//! `region/account/cluster/namespace/service-account`, which is what the association's `externalId` then holds.

mod pod_identity_support;

use pia_emulator::{Emulator, EmulatorConfig};
use pod_identity_support::*;
use serde_json::{Value, json};

const TARGET: &str = "arn:aws:iam::444455556666:role/eks-pod-identity-aws-resources";
const CLUSTER_ARN: &str = "arn:aws:eks:us-east-1:111122223333:cluster/demo";

/// The default world, whose first role may assume the target (the guide has it hold that permission policy).
async fn start() -> Emulator {
    let emulator = Emulator::start(EmulatorConfig::default())
        .await
        .expect("emulator starts");
    allow_assuming(&emulator, ROLE, TARGET);
    emulator
}

/// The guide's first example: the first role, by `aws:PrincipalARN`, with the pod's session tags.
fn trust_by_session_tags(namespace: &str, service_account: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
        "Action": ["sts:AssumeRole", "sts:TagSession"],
        "Condition": {
            "StringEquals": {
                "aws:RequestTag/eks-cluster-arn": CLUSTER_ARN,
                "aws:RequestTag/kubernetes-namespace": namespace,
                "aws:RequestTag/kubernetes-service-account": service_account,
            },
            "ArnEquals": {"aws:PrincipalARN": ROLE},
        },
    }]})
}

/// The guide's second example, for associations with session tags disabled: the first role with the external
/// id that names the pod's cluster, namespace and service account.
fn trust_by_external_id(external_id: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"sts:ExternalId": external_id},
                "ArnEquals": {"aws:PrincipalARN": ROLE},
            },
        },
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "sts:TagSession",
        },
    ]})
}

/// The target role's session that a pod of (namespace, service account) gets, or the refusal's message.
async fn target_session(emulator: &Emulator, namespace: &str, service_account: &str) -> Result<String, String> {
    match assume(emulator, CLUSTER, &token(emulator, namespace, service_account, "pod-0")).await {
        Ok(output) => Ok(output.assumed_role_user().expect("assumed role user").arn().to_owned()),
        Err(error) => {
            let (status, code, message) = refusal(Err(error));
            assert_eq!((status, code.as_str()), (400, "AccessDeniedException"), "{message}");
            Err(message)
        }
    }
}

#[tokio::test]
async fn without_session_tags_the_external_id_names_the_service_account() {
    let emulator = start().await;
    emulator.put_role(TARGET, trust_by_external_id("us-east-1/111122223333/demo/payments/api"));
    let association = associate(&emulator, "payments", "api", ROLE, Some(TARGET), true).await;
    assert_eq!(
        association.external_id(),
        Some("us-east-1/111122223333/demo/payments/api")
    );

    let session = target_session(&emulator, "payments", "api")
        .await
        .expect("the guide's policy lets the pod in");
    assert!(
        session.starts_with("arn:aws:sts::444455556666:assumed-role/eks-pod-identity-aws-resources/eks-demo-pod-0-"),
        "{session}"
    );
    let grant = emulator.pod_identity_grants().pop().expect("a grant");
    assert!(grant.session_tags.is_empty());

    // Another service account's external id is its own: the same policy keeps it out.
    associate(&emulator, "payments", "batch", ROLE, Some(TARGET), true).await;
    let message = target_session(&emulator, "payments", "batch").await.unwrap_err();
    assert!(
        message.contains("us-east-1/111122223333/demo/payments/batch"),
        "{message}"
    );
}

#[tokio::test]
async fn with_session_tags_the_target_trusts_the_tags_and_the_external_id_is_unique() {
    let emulator = start().await;
    emulator.put_role(TARGET, trust_by_session_tags("payments", "api"));
    let association = associate(&emulator, "payments", "api", ROLE, Some(TARGET), false).await;
    let external_id = association.external_id().expect("an external id").to_owned();
    assert!(uuid::Uuid::parse_str(&external_id).is_ok(), "{external_id}");
    assert!(target_session(&emulator, "payments", "api").await.is_ok());

    // The guide's second example does not fit: EKS passes the association's unique id.
    emulator.put_role(TARGET, trust_by_external_id("us-east-1/111122223333/demo/payments/api"));
    let message = target_session(&emulator, "payments", "api").await.unwrap_err();
    assert!(message.contains(&external_id), "{message}");
    emulator.put_role(TARGET, trust_by_external_id(&external_id));
    assert!(target_session(&emulator, "payments", "api").await.is_ok());
}

#[tokio::test]
async fn turning_session_tags_off_and_on_changes_the_external_id() {
    let emulator = start().await;
    let eks = eks_client(&emulator);
    let association = associate(&emulator, "payments", "api", ROLE, Some(TARGET), false).await;
    let update = |disable: bool| {
        eks.update_pod_identity_association()
            .cluster_name(CLUSTER)
            .association_id(association.association_id().unwrap_or_default())
            .disable_session_tags(disable)
            .send()
    };

    let off = update(true).await.expect("updated").association.expect("association");
    assert_eq!(off.external_id(), Some("us-east-1/111122223333/demo/payments/api"));
    emulator.put_role(TARGET, trust_by_external_id("us-east-1/111122223333/demo/payments/api"));
    assert!(target_session(&emulator, "payments", "api").await.is_ok());

    let on = update(false).await.expect("updated").association.expect("association");
    let external_id = on.external_id().expect("an external id");
    assert!(uuid::Uuid::parse_str(external_id).is_ok(), "{external_id}");
    assert!(target_session(&emulator, "payments", "api").await.is_err());
}
