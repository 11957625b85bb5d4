//! IAM authorization over the wire, with real SDK clients: identity-based policies (inline and managed, users and
//! role sessions), explicit denies, iam:PassRole, session policies, the account boundary and the signed region.

mod common;

use std::collections::BTreeMap;

use aws_credential_types::Credentials;
use aws_sdk_eks::config::Region;
use aws_sdk_eks::error::ProvideErrorMetadata;
use common::{ACCOUNT, CLUSTER, ROLE, client, eks_client_with, from_sts, iam_client, sts_client, sts_client_with};
use pia_emulator::config::{AccessKeyConfig, UserConfig};
use pia_emulator::{Emulator, EmulatorConfig};
use serde_json::{Value, json};

const CLUSTER_ARN: &str = "arn:aws:eks:us-east-1:111122223333:cluster/demo";

fn key(user: &str) -> AccessKeyConfig {
    AccessKeyConfig::new(
        format!("AKIA{:0<16}", user.to_ascii_uppercase()),
        format!("{user}-secret"),
        user,
    )
}

fn credentials_of(user: &str) -> Credentials {
    let key = key(user);
    Credentials::new(key.access_key_id, key.secret_access_key, None, None, "test")
}

fn user(name: &str, inline: Value) -> UserConfig {
    UserConfig {
        user_name: name.to_owned(),
        account_id: ACCOUNT.to_owned(),
        managed_policy_arns: Vec::new(),
        inline_policies: BTreeMap::from([("inline".to_owned(), inline)]),
    }
}

fn allow(actions: Value, resource: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}]})
}

/// The default world plus users: `nobody` (no policies), `creator` (may create associations but pass no role),
/// `passer` (may create and pass the demo role), `denied` (everything, but association creation denied).
async fn start() -> Emulator {
    let mut config = EmulatorConfig::default();
    for name in ["nobody", "creator", "passer", "denied"] {
        config.access_keys.push(key(name));
    }
    config.users.push(UserConfig {
        inline_policies: BTreeMap::new(),
        ..user("nobody", Value::Null)
    });
    config.users.push(user(
        "creator",
        allow(json!("eks:CreatePodIdentityAssociation"), CLUSTER_ARN),
    ));
    config.users.push(user(
        "passer",
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "eks:CreatePodIdentityAssociation", "Resource": CLUSTER_ARN},
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": ROLE,
             "Condition": {"StringEquals": {"iam:PassedToService": "pods.eks.amazonaws.com"}}},
        ]}),
    ));
    config.users.push(UserConfig {
        managed_policy_arns: vec![pia_emulator::config::ADMINISTRATOR_ACCESS.to_owned()],
        ..user(
            "denied",
            json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Deny", "Action": "eks:Create*", "Resource": "*"},
            ]}),
        )
    });
    Emulator::start(config).await.expect("emulator starts")
}

fn user_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:user/{name}")
}

async fn create_as(
    emulator: &Emulator,
    credentials: Credentials,
    service_account: &str,
) -> Result<String, (String, String, u16)> {
    eks_client_with(emulator, credentials)
        .create_pod_identity_association()
        .cluster_name(CLUSTER)
        .namespace("default")
        .service_account(service_account)
        .role_arn(ROLE)
        .send()
        .await
        .map(|out| {
            out.association()
                .unwrap()
                .association_arn()
                .unwrap_or_default()
                .to_owned()
        })
        .map_err(|e| {
            let status = e.raw_response().map_or(0, |r| r.status().as_u16());
            (
                e.code().unwrap_or_default().to_owned(),
                e.message().unwrap_or_default().to_owned(),
                status,
            )
        })
}

#[tokio::test]
async fn identity_policies_decide_each_call_in_iams_words() {
    let emulator = start().await;
    let (code, message, status) = create_as(&emulator, credentials_of("nobody"), "a").await.unwrap_err();
    assert_eq!((code.as_str(), status), ("AccessDeniedException", 403));
    assert_eq!(
        message,
        format!(
            "User: {} is not authorized to perform: eks:CreatePodIdentityAssociation on resource: {CLUSTER_ARN} because no identity-based policy allows the eks:CreatePodIdentityAssociation action",
            user_arn("nobody")
        )
    );

    let (code, message, _) = create_as(&emulator, credentials_of("creator"), "a").await.unwrap_err();
    assert_eq!(code, "AccessDeniedException");
    assert_eq!(
        message,
        format!(
            "User: {} is not authorized to perform: iam:PassRole on resource: {ROLE} because no identity-based policy allows the iam:PassRole action",
            user_arn("creator")
        )
    );

    let arn = create_as(&emulator, credentials_of("passer"), "a")
        .await
        .expect("allowed");
    assert!(arn.starts_with("arn:aws:eks:us-east-1:111122223333:podidentityassociation/demo/a-"));
    // It may create, but not describe what it created.
    let id = arn.rsplit('/').next().unwrap();
    let e = eks_client_with(&emulator, credentials_of("passer"))
        .describe_pod_identity_association()
        .cluster_name(CLUSTER)
        .association_id(id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("AccessDeniedException"));
    assert!(
        e.message()
            .unwrap()
            .contains(&format!("eks:DescribePodIdentityAssociation on resource: {arn} "))
    );

    let (code, message, _) = create_as(&emulator, credentials_of("denied"), "b").await.unwrap_err();
    assert_eq!(code, "AccessDeniedException");
    assert!(
        message.ends_with("with an explicit deny in an identity-based policy"),
        "{message}"
    );
    // Nothing was created by the refused calls.
    assert_eq!(emulator.association_count(CLUSTER), 1);
}

#[tokio::test]
async fn a_pods_own_credentials_cannot_manage_associations() {
    let emulator = start().await;
    // A session of the pod role (which has no permission policies), as EKS Auth would give a pod.
    let pod = emulator.issue_session_credentials(
        ROLE,
        "eks-demo-pod",
        BTreeMap::new(),
        std::time::Duration::from_secs(900),
    );
    let credentials = Credentials::new(
        pod.access_key_id,
        pod.secret_access_key,
        Some(pod.session_token),
        None,
        "pod",
    );
    let (code, message, _) = create_as(&emulator, credentials, "a").await.unwrap_err();
    assert_eq!(code, "AccessDeniedException");
    assert!(
        message
            .starts_with("User: arn:aws:sts::111122223333:assumed-role/demo-pod-role/eks-demo-pod is not authorized"),
        "{message}"
    );
}

#[tokio::test]
async fn session_policies_bound_what_the_role_allows() {
    let emulator = start().await;
    let iam = iam_client(&emulator);
    iam.create_role()
        .role_name("operator")
        .assume_role_policy_document(common::account_trust_policy(ACCOUNT))
        .send()
        .await
        .unwrap();
    iam.attach_role_policy()
        .role_name("operator")
        .policy_arn(pia_emulator::config::ADMINISTRATOR_ACCESS)
        .send()
        .await
        .unwrap();
    let operator = "arn:aws:iam::111122223333:role/operator";
    let read_only = allow(json!(["eks:List*", "eks:Describe*"]), "*").to_string();
    let scoped = sts_client(&emulator)
        .assume_role()
        .role_arn(operator)
        .role_session_name("read-only")
        .policy(read_only)
        .send()
        .await
        .unwrap();
    let eks = eks_client_with(&emulator, from_sts(scoped.credentials().unwrap()));
    eks.list_pod_identity_associations()
        .cluster_name(CLUSTER)
        .send()
        .await
        .expect("the session policy allows listing");
    let (code, message, _) = create_as(&emulator, from_sts(scoped.credentials().unwrap()), "a")
        .await
        .unwrap_err();
    assert_eq!(code, "AccessDeniedException");
    assert!(
        message.ends_with("because no session policy allows the eks:CreatePodIdentityAssociation action"),
        "{message}"
    );

    // A managed session policy (PolicyArns) bounds the session the same way.
    let policy = iam
        .create_policy()
        .policy_name("list-only")
        .policy_document(allow(json!("eks:ListPodIdentityAssociations"), "*").to_string())
        .send()
        .await
        .unwrap();
    let policy_arn = policy.policy().unwrap().arn().unwrap().to_owned();
    assert_eq!(policy_arn, "arn:aws:iam::111122223333:policy/list-only");
    let managed = sts_client(&emulator)
        .assume_role()
        .role_arn(operator)
        .role_session_name("list-only")
        .policy_arns(
            aws_sdk_sts::types::PolicyDescriptorType::builder()
                .arn(&policy_arn)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let e = eks_client_with(&emulator, from_sts(managed.credentials().unwrap()))
        .describe_cluster()
        .name(CLUSTER)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("AccessDeniedException"));

    // Without session policies the role's AdministratorAccess applies in full.
    let full = sts_client(&emulator)
        .assume_role()
        .role_arn(operator)
        .role_session_name("full")
        .send()
        .await
        .unwrap();
    create_as(&emulator, from_sts(full.credentials().unwrap()), "a")
        .await
        .expect("allowed");
}

#[tokio::test]
async fn inline_and_managed_role_policies_grant_what_they_say() {
    let emulator = start().await;
    let iam = iam_client(&emulator);
    iam.create_role()
        .role_name("lister")
        .assume_role_policy_document(common::account_trust_policy(ACCOUNT))
        .send()
        .await
        .unwrap();
    let session = || async {
        let out = sts_client(&emulator)
            .assume_role()
            .role_arn("arn:aws:iam::111122223333:role/lister")
            .role_session_name("s1")
            .send()
            .await
            .unwrap();
        eks_client_with(&emulator, from_sts(out.credentials().unwrap()))
    };
    let list = |eks: aws_sdk_eks::Client| async move {
        eks.list_pod_identity_associations().cluster_name(CLUSTER).send().await
    };
    assert_eq!(
        list(session().await).await.unwrap_err().code(),
        Some("AccessDeniedException")
    );

    let document = allow(json!("eks:ListPodIdentityAssociations"), CLUSTER_ARN).to_string();
    iam.put_role_policy()
        .role_name("lister")
        .policy_name("list")
        .policy_document(&document)
        .send()
        .await
        .unwrap();
    let got = iam
        .get_role_policy()
        .role_name("lister")
        .policy_name("list")
        .send()
        .await
        .unwrap();
    // IAM returns documents URL-encoded.
    let returned = percent_encoding::percent_decode_str(got.policy_document())
        .decode_utf8()
        .unwrap();
    assert_eq!(returned, document);
    assert_eq!(
        iam.list_role_policies()
            .role_name("lister")
            .send()
            .await
            .unwrap()
            .policy_names(),
        ["list".to_owned()]
    );
    list(session().await).await.expect("the inline policy allows it");

    // The role cannot be deleted while it has policies.
    let e = iam.delete_role().role_name("lister").send().await.unwrap_err();
    assert_eq!(e.code(), Some("DeleteConflict"));
    iam.delete_role_policy()
        .role_name("lister")
        .policy_name("list")
        .send()
        .await
        .unwrap();
    assert_eq!(
        list(session().await).await.unwrap_err().code(),
        Some("AccessDeniedException")
    );

    // A customer managed policy: it must exist to be attached, and cannot be deleted while attached.
    let missing = iam
        .attach_role_policy()
        .role_name("lister")
        .policy_arn("arn:aws:iam::111122223333:policy/nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Some("NoSuchEntity"));
    let policy = iam
        .create_policy()
        .policy_name("eks-read")
        .policy_document(allow(json!("eks:List*"), "*").to_string())
        .send()
        .await
        .unwrap();
    let arn = policy.policy().unwrap().arn().unwrap();
    iam.attach_role_policy()
        .role_name("lister")
        .policy_arn(arn)
        .send()
        .await
        .unwrap();
    list(session().await).await.expect("the managed policy allows it");
    assert_eq!(
        iam.delete_policy().policy_arn(arn).send().await.unwrap_err().code(),
        Some("DeleteConflict")
    );
    let version = iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id("v1")
        .send()
        .await
        .unwrap();
    let document = version.policy_version().unwrap().document().unwrap();
    assert!(
        percent_encoding::percent_decode_str(document)
            .decode_utf8()
            .unwrap()
            .contains("eks:List*")
    );

    // Malformed permission policies are refused as IAM refuses them.
    for (document, message) in [
        ("{", "This policy contains invalid Json"),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"s3:*"}}"#,
            "Policy statement must contain resources.",
        ),
    ] {
        let e = iam
            .put_role_policy()
            .role_name("lister")
            .policy_name("bad")
            .policy_document(document)
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            (e.code(), e.message()),
            (Some("MalformedPolicyDocument"), Some(message))
        );
    }
}

#[tokio::test]
async fn iam_and_sts_calls_are_authorized_too() {
    let emulator = start().await;
    let e = common::iam_client_with(&emulator, credentials_of("nobody"))
        .create_role()
        .role_name("sneaky")
        .assume_role_policy_document(common::account_trust_policy(ACCOUNT))
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("AccessDenied"));
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 403);
    assert_eq!(
        e.message(),
        Some(
            "User: arn:aws:iam::111122223333:user/nobody is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::111122223333:role/sneaky because no identity-based policy allows the iam:CreateRole action"
        )
    );

    // A trust policy that names the account leaves the decision to the caller's own policies; one that names the
    // caller is enough on its own.
    let iam = iam_client(&emulator);
    iam.create_role()
        .role_name("account-trusted")
        .assume_role_policy_document(common::account_trust_policy(ACCOUNT))
        .send()
        .await
        .unwrap();
    let named = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": user_arn("nobody")}, "Action": "sts:AssumeRole"}]});
    iam.create_role()
        .role_name("user-trusted")
        .assume_role_policy_document(named.to_string())
        .send()
        .await
        .unwrap();
    let sts = sts_client_with(&emulator, credentials_of("nobody"));
    let e = sts
        .assume_role()
        .role_arn("arn:aws:iam::111122223333:role/account-trusted")
        .role_session_name("s1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("AccessDenied"));
    assert!(
        e.message()
            .unwrap()
            .ends_with("because no identity-based policy allows the sts:AssumeRole action")
    );
    sts.assume_role()
        .role_arn("arn:aws:iam::111122223333:role/user-trusted")
        .role_session_name("s1")
        .send()
        .await
        .expect("the trust policy names the caller");
    // Who am I needs no permission.
    sts.get_caller_identity().send().await.expect("always allowed");
}

#[tokio::test]
async fn eks_auth_needs_its_permission() {
    let emulator = start().await;
    let token = emulator
        .mint_token(&pia_emulator::tokens::TokenRequest::new(
            CLUSTER, "default", "app", "pod-1",
        ))
        .unwrap();
    let auth = aws_sdk_eksauth::Client::new(&pia_emulator::clients::sdk_config(
        &emulator.endpoint(),
        credentials_of("nobody"),
    ));
    let e = auth
        .assume_role_for_pod_identity()
        .cluster_name(CLUSTER)
        .token(token)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("AccessDeniedException"));
    assert_eq!(
        e.message(),
        Some(
            "User: arn:aws:iam::111122223333:user/nobody is not authorized to perform: eks-auth:AssumeRoleForPodIdentity on resource: arn:aws:eks:us-east-1:111122223333:cluster/demo because no identity-based policy allows the eks-auth:AssumeRoleForPodIdentity action"
        )
    );
}

#[tokio::test]
async fn another_account_or_region_reaches_no_cluster() {
    let emulator = start().await;
    let created = common::create(&client(&emulator), "default", "app").await;

    // An administrator of another account: the demo cluster is not in its account.
    let mut config = EmulatorConfig::default();
    config.access_keys.push(AccessKeyConfig {
        account_id: "444455556666".to_owned(),
        ..key("stranger")
    });
    config.users.push(UserConfig {
        account_id: "444455556666".to_owned(),
        ..UserConfig::with_policy("stranger", pia_emulator::config::ADMINISTRATOR_ACCESS)
    });
    let other = Emulator::start(config).await.unwrap();
    common::create(&client(&other), "default", "app").await;
    let stranger = eks_client_with(&other, credentials_of("stranger"));
    let e = stranger.describe_cluster().name(CLUSTER).send().await.unwrap_err();
    assert_eq!(e.code(), Some("ResourceNotFoundException"));
    let e = stranger
        .delete_pod_identity_association()
        .cluster_name(CLUSTER)
        .association_id("a-00000000000000000")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ResourceNotFoundException"));
    assert!(stranger.list_clusters().send().await.unwrap().clusters().is_empty());
    assert_eq!(other.association_count(CLUSTER), 1);

    // The same key signing for another region: the cluster is in us-east-1.
    let elsewhere = |region: &'static str| {
        aws_sdk_eks::Client::from_conf(
            aws_sdk_eks::config::Builder::from(&emulator.sdk_config())
                .region(Region::new(region))
                .build(),
        )
    };
    let e = elsewhere("eu-west-1")
        .describe_pod_identity_association()
        .cluster_name(CLUSTER)
        .association_id(created.association_id().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ResourceNotFoundException"));
    // A region that does not exist is refused before anything else.
    let e = elsewhere("zz-nowhere-9")
        .create_pod_identity_association()
        .cluster_name(CLUSTER)
        .namespace("default")
        .service_account("other")
        .role_arn(ROLE)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("InvalidSignatureException"));
    assert_eq!(
        e.message(),
        Some("Credential should be scoped to a valid region, not 'zz-nowhere-9'. ")
    );
    assert_eq!(emulator.association_count(CLUSTER), 1);
}
