//! EKS Auth's AssumeRoleForPodIdentity over the wire with the real aws-sdk-eksauth client (signed with
//! the node's key): credentials for a pod's token, every token check, associations, trust policies,
//! role chaining, errors and faults.

mod pod_identity_support;

use std::time::{Duration, SystemTime};

use aws_sdk_eks::error::ProvideErrorMetadata;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pia_emulator::eks_auth::{MAX_TOKEN_BYTES, SESSION_TAG_KEYS};
use pia_emulator::tokens::{SigningKey, TokenRequest};
use pia_emulator::{ClusterConfig, Emulator, EmulatorConfig, ErrorKind, Fault};
use pod_identity_support::*;
use serde_json::{Value, json};

async fn start() -> Emulator {
    Emulator::start(EmulatorConfig::default())
        .await
        .expect("emulator starts")
}

fn sts_credentials(credentials: &aws_sdk_eksauth::types::Credentials) -> aws_sdk_sts::config::Credentials {
    aws_sdk_sts::config::Credentials::new(
        credentials.access_key_id(),
        credentials.secret_access_key(),
        Some(credentials.session_token().to_owned()),
        None,
        "pod",
    )
}

#[tokio::test]
async fn a_pod_token_buys_role_credentials_with_session_tags() {
    let emulator = start().await;
    let association = associate(&emulator, "shop", "cart", ROLE, None, false).await;
    let mut request = TokenRequest::new(CLUSTER, "shop", "cart", "cart-7d9f8-abcde");
    request.pod_uid = "5a6b7c8d-0000-4000-8000-000000000001".into();
    let token = emulator.mint_token(&request).unwrap();

    let output = assume(&emulator, CLUSTER, &token).await.expect("credentials");
    let subject = output.subject().unwrap();
    assert_eq!(subject.namespace(), "shop");
    assert_eq!(subject.service_account(), "cart");
    assert_eq!(output.audience(), "pods.eks.amazonaws.com");
    let pia = output.pod_identity_association().unwrap();
    assert_eq!(Some(pia.association_arn()), association.association_arn());
    assert_eq!(Some(pia.association_id()), association.association_id());

    let user = output.assumed_role_user().unwrap();
    let prefix = "arn:aws:sts::111122223333:assumed-role/demo-pod-role/eks-demo-cart-7d9f8-abcde-";
    assert!(user.arn().starts_with(prefix), "{}", user.arn());
    let session_name = user.arn().rsplit('/').next().unwrap();
    assert!(session_name.len() <= 64);
    let role_id = emulator.role(ROLE).unwrap().role_id;
    assert_eq!(user.assume_role_id(), format!("{role_id}:{session_name}"));

    let credentials = output.credentials().unwrap();
    assert!(credentials.access_key_id().starts_with("ASIA"));
    assert_eq!(credentials.secret_access_key().len(), 40);
    assert!(!credentials.session_token().is_empty());
    let expiration = SystemTime::try_from(*credentials.expiration()).unwrap();
    assert!(expiration > SystemTime::now());

    // The emulator's record of the grant: the six session tags, all transitive.
    let grants = emulator.pod_identity_grants();
    assert_eq!(grants.len(), 1);
    let grant = &grants[0];
    assert_eq!(grant.access_key_id, credentials.access_key_id());
    assert_eq!(grant.assumed_role_arn, user.arn());
    assert_eq!(grant.pod_name, "cart-7d9f8-abcde");
    let expected_tags: Vec<(String, String)> = vec![
        (
            "eks-cluster-arn".into(),
            "arn:aws:eks:us-east-1:111122223333:cluster/demo".into(),
        ),
        ("eks-cluster-name".into(), "demo".into()),
        ("kubernetes-namespace".into(), "shop".into()),
        ("kubernetes-pod-name".into(), "cart-7d9f8-abcde".into()),
        (
            "kubernetes-pod-uid".into(),
            "5a6b7c8d-0000-4000-8000-000000000001".into(),
        ),
        ("kubernetes-service-account".into(), "cart".into()),
    ];
    assert_eq!(
        grant.session_tags.clone().into_iter().collect::<Vec<_>>(),
        expected_tags
    );
    assert_eq!(grant.transitive_tag_keys.len(), SESSION_TAG_KEYS.len());
    // The same tags on the session that the credentials sign as.
    assert_eq!(
        emulator.session_tags(credentials.access_key_id()).unwrap(),
        grant.session_tags
    );
    assert_eq!(emulator.calls("AssumeRoleForPodIdentity"), 1);

    // STS knows the credentials as the role session.
    let identity = sts_client(&emulator, sts_credentials(credentials))
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity");
    assert_eq!(identity.arn(), Some(user.arn()));
    assert_eq!(identity.account(), Some(ACCOUNT));
}

#[tokio::test]
async fn describe_cluster_returns_the_token_issuer() {
    let emulator = start().await;
    let issuer = emulator.cluster_issuer(CLUSTER).unwrap();
    let id = issuer
        .strip_prefix("https://oidc.eks.us-east-1.amazonaws.com/id/")
        .expect(&issuer);
    assert_eq!(id.len(), 32);
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
    let cluster = eks_client(&emulator)
        .describe_cluster()
        .name(CLUSTER)
        .send()
        .await
        .unwrap()
        .cluster
        .unwrap();
    assert_eq!(
        cluster.identity().unwrap().oidc().unwrap().issuer(),
        Some(issuer.as_str())
    );
    let claims = emulator
        .token_claims(&TokenRequest::new(CLUSTER, "a", "b", "c"))
        .unwrap();
    assert_eq!(claims["iss"], issuer);
    let jwks = emulator.cluster_jwks(CLUSTER).unwrap();
    assert_eq!(
        jwks["keys"][0]["kid"],
        emulator.signing_key(CLUSTER).unwrap().kid().unwrap()
    );
}

#[tokio::test]
async fn a_configured_key_and_issuer_are_used() {
    let key = SigningKey::generate().unwrap();
    let mut config = EmulatorConfig::default();
    config.clusters[0].oidc_issuer = Some("https://oidc.example/id/FIXED".into());
    config.clusters[0].signing_key_pem = Some(key.private_key_pem().unwrap());
    let emulator = Emulator::start(config).await.unwrap();
    associate(&emulator, "ns", "sa", ROLE, None, false).await;
    // A token made outside the emulator with the same key and issuer is accepted.
    let claims = TokenRequest::new(CLUSTER, "ns", "sa", "p").claims("https://oidc.example/id/FIXED");
    let token = key.sign(&claims).unwrap();
    assert!(assume(&emulator, CLUSTER, &token).await.is_ok());

    let mut bad = EmulatorConfig::default();
    bad.clusters[0].signing_key_pem = Some("not a key".into());
    assert!(Emulator::start(bad).await.is_err());
}

fn unsigned(header: &Value, claims: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{signature}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

#[tokio::test]
async fn bad_tokens_are_refused_with_the_reason() {
    let emulator = start().await;
    emulator.add_cluster(ClusterConfig::new("other"));
    associate(&emulator, "ns", "sa", ROLE, None, false).await;
    let request = TokenRequest::new(CLUSTER, "ns", "sa", "pod-1");
    let claims = emulator.token_claims(&request).unwrap();
    let sign = |claims: &Value| emulator.sign_claims(CLUSTER, claims).unwrap();
    let with = |pointer: &str, value: Value| {
        let mut claims = claims.clone();
        *claims.pointer_mut(pointer).unwrap() = value;
        claims
    };
    let now = SystemTime::now();

    let mut expired = request.clone();
    expired.issued_at = Some(now - Duration::from_secs(2 * 86_400));
    expired.lifetime = Duration::from_secs(3600);
    let mut early = request.clone();
    early.issued_at = Some(now + Duration::from_secs(3600));
    let mut wrong_audience = request.clone();
    wrong_audience.audiences = vec!["sts.amazonaws.com".into()];
    let hs256 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(b"shared secret").unwrap(),
    )
    .unwrap();
    let mut oversized = claims.clone();
    oversized["padding"] = json!("x".repeat(MAX_TOKEN_BYTES));
    let mut no_pod = claims.clone();
    no_pod["kubernetes.io"].as_object_mut().unwrap().remove("pod");

    let cases: Vec<(&str, String, u16, &str, &str)> = vec![
        (
            "signed with another key",
            SigningKey::generate().unwrap().sign(&claims).unwrap(),
            400,
            "InvalidTokenException",
            "signature",
        ),
        (
            "another cluster's token",
            emulator
                .mint_token(&TokenRequest::new("other", "ns", "sa", "pod-1"))
                .unwrap(),
            400,
            "InvalidTokenException",
            "signature",
        ),
        (
            "alg none with a signature",
            unsigned(&json!({"alg": "none", "typ": "JWT"}), &claims, "AAAA"),
            400,
            "InvalidTokenException",
            "\"none\" is not accepted",
        ),
        (
            "alg none without a signature",
            unsigned(&json!({"alg": "none"}), &claims, ""),
            400,
            "InvalidParameterException",
            "three non-empty",
        ),
        (
            "HS256",
            hs256,
            400,
            "InvalidTokenException",
            "\"HS256\" is not accepted",
        ),
        (
            "expired",
            emulator.mint_token(&expired).unwrap(),
            400,
            "ExpiredTokenException",
            "expired",
        ),
        (
            "not valid yet",
            emulator.mint_token(&early).unwrap(),
            400,
            "InvalidTokenException",
            "not valid yet",
        ),
        (
            "wrong audience",
            emulator.mint_token(&wrong_audience).unwrap(),
            400,
            "InvalidTokenException",
            "audience",
        ),
        (
            "wrong issuer",
            sign(&with("/iss", json!("https://oidc.eks.us-east-1.amazonaws.com/id/0000"))),
            400,
            "InvalidTokenException",
            "issuer",
        ),
        (
            "subject not a service account",
            sign(&with("/sub", json!("system:node:ip-10-0-0-1"))),
            400,
            "InvalidTokenException",
            "subject",
        ),
        (
            "subject and kubernetes.io namespace differ",
            sign(&with("/kubernetes.io/namespace", json!("kube-system"))),
            400,
            "InvalidTokenException",
            "namespace",
        ),
        (
            "subject and kubernetes.io service account differ",
            sign(&with("/kubernetes.io/serviceaccount/name", json!("admin"))),
            400,
            "InvalidTokenException",
            "service account",
        ),
        ("not bound to a pod", sign(&no_pod), 400, "InvalidTokenException", "pod"),
        (
            "no exp",
            {
                let mut c = claims.clone();
                c.as_object_mut().unwrap().remove("exp");
                sign(&c)
            },
            400,
            "InvalidTokenException",
            "exp",
        ),
        (
            "oversized",
            sign(&oversized),
            400,
            "InvalidParameterException",
            "bytes long",
        ),
        ("not a JWT", "garbage".into(), 400, "InvalidParameterException", "JWT"),
    ];
    for (case, token, status, code, reason) in cases {
        let (got_status, got_code, message) = refusal(assume(&emulator, CLUSTER, &token).await);
        assert_eq!((got_status, got_code.as_str()), (status, code), "{case}: {message}");
        assert!(message.contains(reason), "{case}: {message:?} lacks {reason:?}");
    }
    // The good token still works, and nothing was granted before.
    assert!(emulator.pod_identity_grants().is_empty());
    assert!(assume(&emulator, CLUSTER, &sign(&claims)).await.is_ok());

    let (status, code, _) = refusal(assume(&emulator, "nope", &sign(&claims)).await);
    assert_eq!((status, code.as_str()), (404, "ResourceNotFoundException"));
}

#[tokio::test]
async fn a_service_account_without_association_is_not_found() {
    let emulator = start().await;
    associate(&emulator, "ns", "sa", ROLE, None, false).await;
    let token = token(&emulator, "ns", "other-sa", "pod-1");
    let (status, code, message) = refusal(assume(&emulator, CLUSTER, &token).await);
    assert_eq!((status, code.as_str()), (404, "ResourceNotFoundException"));
    assert!(message.contains("other-sa"), "{message}");
    let token = token_in_other_namespace(&emulator);
    let (status, ..) = refusal(assume(&emulator, CLUSTER, &token).await);
    assert_eq!(status, 404);
}

fn token_in_other_namespace(emulator: &Emulator) -> String {
    token(emulator, "other-ns", "sa", "pod-1")
}

fn trust(actions: &[&str], condition: Option<Value>) -> Value {
    let mut statement = json!({
        "Effect": "Allow",
        "Principal": {"Service": "pods.eks.amazonaws.com"},
        "Action": actions,
    });
    if let Some(condition) = condition {
        statement["Condition"] = condition;
    }
    json!({"Version": "2012-10-17", "Statement": [statement]})
}

#[tokio::test]
async fn session_tags_need_sts_tag_session_unless_disabled() {
    let emulator = start().await;
    let role = "arn:aws:iam::111122223333:role/assume-only";
    emulator.put_role(role, trust(&["sts:AssumeRole"], None));
    associate(&emulator, "ns", "tagged", role, None, false).await;
    associate(&emulator, "ns", "untagged", role, None, true).await;

    let (status, code, message) = refusal(assume(&emulator, CLUSTER, &token(&emulator, "ns", "tagged", "p1")).await);
    assert_eq!((status, code.as_str()), (400, "AccessDeniedException"));
    assert!(message.starts_with("Unauthorized Exception!"), "{message}");
    assert!(message.contains("sts:TagSession"), "{message}");
    assert!(message.contains(role), "{message}");

    let output = assume(&emulator, CLUSTER, &token(&emulator, "ns", "untagged", "p2"))
        .await
        .expect("accepted without session tags");
    let key = output.credentials().unwrap().access_key_id();
    assert_eq!(emulator.session_tags(key), Some(Default::default()));
    let grant = emulator.pod_identity_grants().pop().unwrap();
    assert!(grant.session_tags.is_empty());
    assert!(grant.transitive_tag_keys.is_empty());
}

#[tokio::test]
async fn source_account_and_source_arn_conditions_are_evaluated() {
    let emulator = start().await;
    let cluster_arn = "arn:aws:eks:us-east-1:111122223333:cluster/demo";
    let actions = ["sts:AssumeRole", "sts:TagSession"];
    let cases = [
        (
            "right-account",
            json!({"StringEquals": {"aws:SourceAccount": ACCOUNT}}),
            true,
        ),
        (
            "wrong-account",
            json!({"StringEquals": {"aws:SourceAccount": "999999999999"}}),
            false,
        ),
        ("right-arn", json!({"ArnEquals": {"aws:SourceArn": cluster_arn}}), true),
        (
            "wrong-arn",
            json!({"ArnEquals": {"aws:SourceArn": "arn:aws:eks:us-east-1:111122223333:cluster/prod"}}),
            false,
        ),
        (
            "arn-like",
            json!({"ArnLike": {"aws:SourceArn": "arn:aws:eks:us-east-1:111122223333:cluster/*"}}),
            true,
        ),
        (
            "both",
            json!({"StringEquals": {"aws:SourceAccount": ACCOUNT}, "ArnEquals": {"aws:SourceArn": cluster_arn}}),
            true,
        ),
    ];
    for (name, condition, allowed) in cases {
        let role = format!("arn:aws:iam::111122223333:role/{name}");
        emulator.put_role(&role, trust(&actions, Some(condition)));
        associate(&emulator, "ns", name, &role, None, false).await;
        let result = assume(&emulator, CLUSTER, &token(&emulator, "ns", name, "pod")).await;
        if allowed {
            assert!(result.is_ok(), "{name}: {result:?}");
        } else {
            let (status, code, message) = refusal(result);
            assert_eq!((status, code.as_str()), (400, "AccessDeniedException"), "{name}");
            assert!(message.contains(cluster_arn), "{name}: {message}");
        }
    }
}

#[tokio::test]
async fn a_target_role_is_assumed_with_the_external_id() {
    let emulator = start().await;
    let target = "arn:aws:iam::444455556666:role/cross-account-reader";
    emulator.put_role(target, json!({"Version": "2012-10-17", "Statement": []}));
    let association = associate(&emulator, "ns", "reader", ROLE, Some(target), false).await;
    let external_id = association.external_id().expect("external id").to_owned();
    let target_trust = |principal: &str, external_id: &str| {
        json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": principal},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
        }]})
    };

    // Not trusted yet.
    let (status, code, message) = refusal(assume(&emulator, CLUSTER, &token(&emulator, "ns", "reader", "r1")).await);
    assert_eq!((status, code.as_str()), (400, "AccessDeniedException"));
    assert!(message.contains(target), "{message}");

    // Trusted, but across accounts the first role's own policies must allow assuming the target too.
    emulator.put_role(target, target_trust(ROLE, &external_id));
    let (_, code, message) = refusal(assume(&emulator, CLUSTER, &token(&emulator, "ns", "reader", "r1")).await);
    assert_eq!(code, "AccessDeniedException");
    assert!(
        message.ends_with(&format!(
            "is not authorized to perform: sts:AssumeRole on resource: {target} because no identity-based policy allows the sts:AssumeRole action"
        )),
        "{message}"
    );
    allow_assuming(&emulator, ROLE, target);
    let output = assume(&emulator, CLUSTER, &token(&emulator, "ns", "reader", "r2"))
        .await
        .expect("chained credentials");
    let user = output.assumed_role_user().unwrap();
    assert!(
        user.arn()
            .starts_with("arn:aws:sts::444455556666:assumed-role/cross-account-reader/eks-demo-r2-"),
        "{}",
        user.arn()
    );
    let credentials = output.credentials().unwrap();
    // Target-role credentials last 59 minutes.
    let expiration = SystemTime::try_from(*credentials.expiration()).unwrap();
    let lifetime = expiration.duration_since(SystemTime::now()).unwrap();
    assert!(
        lifetime <= Duration::from_secs(59 * 60) && lifetime > Duration::from_secs(58 * 60),
        "{lifetime:?}"
    );
    let grant = emulator.pod_identity_grants().pop().unwrap();
    assert_eq!(grant.target_role_arn.as_deref(), Some(target));
    assert!(grant.role_session_arn.contains(":assumed-role/demo-pod-role/"));
    assert_eq!(grant.assumed_role_arn, user.arn());
    // The transitive tags followed the chain.
    let tags = emulator.session_tags(credentials.access_key_id()).unwrap();
    assert_eq!(tags["kubernetes-service-account"], "reader");
    assert_eq!(tags.len(), 6);
    let identity = sts_client(&emulator, sts_credentials(credentials))
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(identity.account(), Some("444455556666"));
    assert_eq!(identity.arn(), Some(user.arn()));

    // The account root stands for the role too.
    emulator.put_role(target, target_trust("arn:aws:iam::111122223333:root", &external_id));
    assert!(
        assume(&emulator, CLUSTER, &token(&emulator, "ns", "reader", "r3"))
            .await
            .is_ok()
    );

    // A wrong external id is refused.
    emulator.put_role(target, target_trust(ROLE, "some-other-external-id"));
    let (status, code, message) = refusal(assume(&emulator, CLUSTER, &token(&emulator, "ns", "reader", "r4")).await);
    assert_eq!((status, code.as_str()), (400, "AccessDeniedException"));
    assert!(message.contains(&external_id), "{message}");

    // A target role that IAM does not know is refused.
    emulator.delete_role(target);
    let (_, code, message) = refusal(assume(&emulator, CLUSTER, &token(&emulator, "ns", "reader", "r5")).await);
    assert_eq!(code, "AccessDeniedException");
    assert!(message.contains("does not exist"), "{message}");
}

#[tokio::test]
async fn a_deleted_role_is_access_denied() {
    let emulator = start().await;
    let role = "arn:aws:iam::111122223333:role/short-lived";
    emulator.put_role(role, trust(&["sts:AssumeRole", "sts:TagSession"], None));
    associate(&emulator, "ns", "sa", role, None, false).await;
    emulator.delete_role(role);
    let (status, code, message) = refusal(assume(&emulator, CLUSTER, &token(&emulator, "ns", "sa", "p")).await);
    assert_eq!((status, code.as_str()), (400, "AccessDeniedException"));
    assert!(message.contains("does not exist"), "{message}");
}

#[tokio::test]
async fn injected_faults_answer_in_eks_auth_terms() {
    let emulator = start().await;
    associate(&emulator, "ns", "sa", ROLE, None, false).await;
    let token = token(&emulator, "ns", "sa", "p");
    let cases = [
        (Fault::Throttle, 429, "ThrottlingException"),
        (Fault::ServerError, 500, "InternalServerException"),
        (Fault::Unavailable, 503, "ServiceUnavailableException"),
        (Fault::Error(ErrorKind::AccessDenied), 400, "AccessDeniedException"),
        (Fault::Error(ErrorKind::InvalidRequest), 400, "InvalidRequestException"),
        (
            Fault::Error(ErrorKind::ResourceNotFound),
            404,
            "ResourceNotFoundException",
        ),
    ];
    emulator.reset_calls();
    for (fault, status, code) in cases {
        emulator.inject("AssumeRoleForPodIdentity", fault, 1);
        let (got_status, got_code, _) = refusal(assume(&emulator, CLUSTER, &token).await);
        assert_eq!((got_status, got_code.as_str()), (status, code), "{fault:?}");
    }
    assert!(assume(&emulator, CLUSTER, &token).await.is_ok());
    assert_eq!(emulator.calls("AssumeRoleForPodIdentity"), 7);
    assert_eq!(emulator.pod_identity_grants().len(), 1);
}

#[tokio::test]
async fn the_inline_policy_is_recorded_with_the_grant() {
    let emulator = start().await;
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
    eks_client(&emulator)
        .create_pod_identity_association()
        .cluster_name(CLUSTER)
        .namespace("ns")
        .service_account("narrow")
        .role_arn(ROLE)
        .disable_session_tags(true)
        .policy(policy)
        .send()
        .await
        .unwrap();
    assert!(
        assume(&emulator, CLUSTER, &token(&emulator, "ns", "narrow", "p"))
            .await
            .is_ok()
    );
    let grant = emulator.pod_identity_grants().pop().unwrap();
    assert_eq!(grant.policy.as_deref(), Some(policy));
}

#[tokio::test]
async fn an_associations_policy_bounds_what_the_pods_credentials_may_do() {
    let emulator = start().await;
    emulator.put_role_policy(
        ROLE,
        "admin",
        &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
    );
    let policy =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"eks:ListClusters","Resource":"*"}]}"#;
    eks_client(&emulator)
        .create_pod_identity_association()
        .cluster_name(CLUSTER)
        .namespace("ns")
        .service_account("scoped")
        .role_arn(ROLE)
        .disable_session_tags(true)
        .policy(policy)
        .send()
        .await
        .unwrap();
    let output = assume(&emulator, CLUSTER, &token(&emulator, "ns", "scoped", "p1"))
        .await
        .expect("credentials");
    let credentials = output.credentials().unwrap();
    let pod = aws_sdk_eks::Client::new(&pia_emulator::clients::sdk_config(
        &emulator.endpoint(),
        aws_credential_types::Credentials::new(
            credentials.access_key_id(),
            credentials.secret_access_key(),
            Some(credentials.session_token().to_owned()),
            None,
            "pod",
        ),
    ));
    pod.list_clusters()
        .send()
        .await
        .expect("the association's policy allows it");
    let e = pod.describe_cluster().name(CLUSTER).send().await.unwrap_err();
    assert_eq!(e.code(), Some("AccessDeniedException"));
    assert!(
        e.message()
            .unwrap()
            .ends_with("because no session policy allows the eks:DescribeCluster action"),
        "{:?}",
        e.message()
    );
}
