//! Role creation with the real aws-sdk-iam client against moto's IAM server on loopback: created with the
//! exact trust policy, permission policies attached, a second run reads only, another cluster's statement is
//! merged in (or the policy replaced), bad input is refused before any write.

#[path = "support/moto.rs"]
mod moto;

use std::sync::{Arc, Mutex};

use aws_sdk_iam::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_iam::config::{BehaviorVersion, ConfigBag, Credentials, Intercept, Region, RuntimeComponents};
use aws_sdk_iam::error::BoxError;
use pia_trust::roles::{RoleChange, fetch_role};
use pia_trust::{ExistingPolicy, PolicyDocument, RoleError, RoleSpec, ensure_role, pod_identity_trust_policy};

/// moto's default account.
const ACCOUNT: &str = "123456789012";
const CLUSTER: &str = "arn:aws:eks:us-east-1:123456789012:cluster/demo";
const OTHER_CLUSTER: &str = "arn:aws:eks:us-east-1:123456789012:cluster/other";
const READ_ONLY: &str = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess";

/// Records the IAM action of every request actually sent (IAM's query protocol puts it in the body).
#[derive(Debug, Clone, Default)]
struct CallLog(Arc<Mutex<Vec<String>>>);

impl CallLog {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "CallLog"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _config: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let body = String::from_utf8_lossy(context.request().body().bytes().unwrap_or_default()).into_owned();
        let action = body
            .split('&')
            .find_map(|pair| pair.strip_prefix("Action="))
            .unwrap_or("?")
            .to_owned();
        self.0.lock().unwrap().push(action);
        Ok(())
    }
}

fn client(endpoint: &str) -> (aws_sdk_iam::Client, CallLog) {
    let calls = CallLog::default();
    let config = aws_sdk_iam::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIAMOTO", "moto", None, None, "test"))
        // No retries: every request sent is one the code under test meant to send.
        .retry_config(aws_sdk_iam::config::retry::RetryConfig::disabled())
        .interceptor(calls.clone())
        .build();
    (aws_sdk_iam::Client::from_conf(config), calls)
}

async fn attached(client: &aws_sdk_iam::Client, role: &str) -> Vec<String> {
    let mut arns: Vec<String> = client
        .list_attached_role_policies()
        .role_name(role)
        .send()
        .await
        .unwrap()
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_owned))
        .collect();
    arns.sort();
    arns
}

async fn stored_trust_policy(client: &aws_sdk_iam::Client, role: &str) -> serde_json::Value {
    let role = client.get_role().role_name(role).send().await.unwrap().role.unwrap();
    let text = pia_trust::policy::decode_policy_text(role.assume_role_policy_document().unwrap()).into_owned();
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn creates_the_role_then_leaves_it_alone_then_updates_it() {
    let moto = moto::MotoServer::start();
    let (client, calls) = client(&moto.endpoint);

    // A customer-managed policy as well as an AWS-managed one.
    let own_policy = client
        .create_policy()
        .policy_name("app-bucket")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
        )
        .send()
        .await
        .unwrap()
        .policy
        .unwrap()
        .arn
        .unwrap();
    calls.take();

    let mut spec = RoleSpec {
        name: "pods-app".to_owned(),
        path: Some("/eks/".to_owned()),
        description: Some("EKS Pod Identity role for the app".to_owned()),
        cluster_arn: CLUSTER.parse().unwrap(),
        permission_policy_arns: vec![READ_ONLY.to_owned(), own_policy.clone()],
        existing_policy: ExistingPolicy::Merge,
    };
    let demo_policy = pod_identity_trust_policy(None, Some(CLUSTER)).unwrap();

    // First run: every input is checked, then everything is created.
    let first = ensure_role(&client, &spec, ACCOUNT).await.unwrap();
    assert_eq!(first.role, RoleChange::Created);
    assert_eq!(first.role_arn, format!("arn:aws:iam::{ACCOUNT}:role/eks/pods-app"));
    assert_eq!(first.attached, [READ_ONLY.to_owned(), own_policy.clone()]);
    assert!(first.already_attached.is_empty());
    assert!(first.changed());
    assert_eq!(
        calls.take(),
        [
            "GetPolicy",
            "GetPolicy",
            "GetRole",
            "CreateRole",
            "AttachRolePolicy",
            "AttachRolePolicy"
        ]
    );
    assert_eq!(stored_trust_policy(&client, "pods-app").await, demo_policy.to_value());
    let mut expected = vec![READ_ONLY.to_owned(), own_policy.clone()];
    expected.sort();
    assert_eq!(attached(&client, "pods-app").await, expected);
    calls.take();

    // Second run: reads only.
    let second = ensure_role(&client, &spec, ACCOUNT).await.unwrap();
    assert_eq!(second.role, RoleChange::Unchanged);
    assert!(second.attached.is_empty());
    assert_eq!(second.already_attached, [READ_ONLY.to_owned(), own_policy.clone()]);
    assert!(!second.changed());
    assert!(second.to_string().contains("unchanged"), "{second}");
    assert_eq!(
        calls.take(),
        ["GetPolicy", "GetPolicy", "GetRole", "ListAttachedRolePolicies"],
        "a second run must not write"
    );

    // Another cluster: its statement is added, the first cluster's kept.
    spec.cluster_arn = OTHER_CLUSTER.parse().unwrap();
    let third = ensure_role(&client, &spec, ACCOUNT).await.unwrap();
    assert_eq!(third.role, RoleChange::TrustPolicyMerged);
    assert!(third.attached.is_empty());
    assert_eq!(
        calls.take(),
        [
            "GetPolicy",
            "GetPolicy",
            "GetRole",
            "ListAttachedRolePolicies",
            "UpdateAssumeRolePolicy"
        ]
    );
    let other_policy = pod_identity_trust_policy(None, Some(OTHER_CLUSTER)).unwrap();
    let stored = stored_trust_policy(&client, "pods-app").await;
    assert_eq!(
        stored["Statement"],
        serde_json::json!([
            demo_policy.to_value()["Statement"][0],
            other_policy.to_value()["Statement"][0]
        ])
    );
    calls.take();

    // Replacing writes the pod identity policy alone.
    spec.existing_policy = ExistingPolicy::Replace;
    let replaced = ensure_role(&client, &spec, ACCOUNT).await.unwrap();
    assert_eq!(replaced.role, RoleChange::TrustPolicyReplaced);
    assert_eq!(stored_trust_policy(&client, "pods-app").await, other_policy.to_value());
    calls.take();

    // Only the missing permission policy is attached.
    spec.permission_policy_arns
        .push("arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess".to_owned());
    let fourth = ensure_role(&client, &spec, ACCOUNT).await.unwrap();
    assert_eq!(fourth.role, RoleChange::Unchanged);
    assert_eq!(
        fourth.attached,
        ["arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess"]
    );
    assert_eq!(
        calls.take(),
        [
            "GetPolicy",
            "GetPolicy",
            "GetPolicy",
            "GetRole",
            "ListAttachedRolePolicies",
            "AttachRolePolicy"
        ]
    );

    // Reading the role back gives its ARN and the parsed trust policy.
    let existing = fetch_role(&client, "pods-app").await.unwrap();
    assert_eq!(existing.arn.to_string(), first.role_arn);
    assert_eq!(existing.trust_policy.to_value(), other_policy.to_value());

    // A role cannot move to another path.
    spec.path = Some("/other/".to_owned());
    let moved = ensure_role(&client, &spec, ACCOUNT).await.unwrap_err();
    assert!(
        matches!(&moved, RoleError::PathMismatch { existing, .. } if existing == "/eks/"),
        "{moved}"
    );
    assert!(moved.to_string().contains("IAM cannot move a role"), "{moved}");
    calls.take();

    // Bad input is found before any write.
    assert!(matches!(
        fetch_role(&client, "missing").await,
        Err(RoleError::NoSuchRole { .. })
    ));
    spec.path = None;
    spec.name = "pods-app-2".to_owned();
    spec.permission_policy_arns = vec![format!("arn:aws:iam::{ACCOUNT}:policy/does-not-exist")];
    calls.take();
    let error = ensure_role(&client, &spec, ACCOUNT).await.unwrap_err();
    assert!(matches!(error, RoleError::NoSuchPolicy { .. }), "{error}");
    assert!(error.is_bad_input());
    assert_eq!(calls.take(), ["GetPolicy"]);
    let error = ensure_role(&client, &spec, "444455556666").await.unwrap_err();
    assert!(matches!(error, RoleError::AccountMismatch { .. }), "{error}");
    assert!(calls.take().is_empty(), "the account is checked before any call");
}

#[test]
fn a_trust_policy_read_from_iam_parses() {
    // What IAM's GetRole returns: the document, URL-encoded.
    let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22pods.eks.amazonaws.com%22%7D%2C%22Action%22%3A%5B%22sts%3AAssumeRole%22%2C%22sts%3ATagSession%22%5D%7D%5D%7D";
    let document = PolicyDocument::parse(&pia_trust::policy::decode_policy_text(encoded)).unwrap();
    assert_eq!(
        document.to_value(),
        pod_identity_trust_policy(None, None).unwrap().to_value()
    );
}
