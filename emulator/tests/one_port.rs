//! Every API on one endpoint (what `AWS_ENDPOINT_URL` points at): requests are told apart by path, by
//! the signing scope's service and by the query `Action`; calls are counted and logged in arrival
//! order whatever the API; faults apply per operation name on every API.

mod common;

use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use common::*;
use pia_emulator::Fault;

/// One shared SDK config with the endpoint override, as `AWS_ENDPOINT_URL` gives it to every client.
async fn shared_config(emu: &pia_emulator::Emulator) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(emu.endpoint())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(default_credentials())
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .load()
        .await
}

#[tokio::test]
async fn one_endpoint_serves_eks_iam_and_sts_and_logs_calls_in_order() {
    let emu = start().await;
    let config = shared_config(&emu).await;
    let eks = aws_sdk_eks::Client::new(&config);
    let iam = aws_sdk_iam::Client::new(&config);
    let sts = aws_sdk_sts::Client::new(&config);
    emu.reset_calls();

    let id = create(&eks, "ns", "sa").await.association_id.unwrap();
    iam.get_role().role_name("demo-pod-role").send().await.unwrap();
    sts.get_caller_identity().send().await.unwrap();
    eks.describe_pod_identity_association()
        .cluster_name(CLUSTER)
        .association_id(&id)
        .send()
        .await
        .unwrap();
    iam.list_roles().send().await.unwrap();
    // A refused request is received (and logged) too.
    let _ = iam.get_role().role_name("nope").send().await.unwrap_err();

    assert_eq!(
        emu.call_log(),
        [
            "CreatePodIdentityAssociation",
            "GetRole",
            "GetCallerIdentity",
            "DescribePodIdentityAssociation",
            "ListRoles",
            "GetRole",
        ]
    );
    assert_eq!(emu.calls("GetRole"), 2);
    assert_eq!(emu.calls_snapshot().values().sum::<u64>(), 6);
    emu.reset_calls();
    assert!(emu.call_log().is_empty());
    assert_eq!(emu.calls("GetRole"), 0);
}

#[tokio::test]
async fn query_requests_are_told_apart_by_scope_and_action() {
    let emu = start().await;
    let host = emu.local_addr().to_string();
    let query = |service: &'static str, method: &'static str, path: String, body: &'static str| {
        let emu = emu.clone();
        let host = host.clone();
        async move {
            let mut headers = vec![("host".to_owned(), host.clone())];
            if !body.is_empty() {
                headers.push((
                    "content-type".to_owned(),
                    "application/x-www-form-urlencoded; charset=utf-8".to_owned(),
                ));
            }
            headers.extend(sign(method, &host, &path, &headers, body.as_bytes(), service));
            common::raw_http::exchange(emu.local_addr(), method, &path, &headers, body).await
        }
    };

    let (status, headers, body) = query("sts", "GET", "/?Action=GetCallerIdentity&Version=2011-06-15".into(), "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(header(&headers, "content-type"), Some("text/xml"));
    assert!(
        body.contains("<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"),
        "{body}"
    );
    assert!(
        body.contains("<Arn>arn:aws:iam::111122223333:user/admin</Arn>"),
        "{body}"
    );
    let request_id = header(&headers, "x-amzn-requestid").unwrap();
    assert!(body.contains(&format!("<RequestId>{request_id}</RequestId>")), "{body}");

    let (status, _, body) = query("iam", "POST", "/".into(), "Action=NoSuchAction&Version=2010-05-08").await;
    assert_eq!(status, 400);
    assert!(body.contains("<Code>InvalidAction</Code>"), "{body}");
    assert!(body.contains("<Type>Sender</Type>"), "{body}");
    // GetCallerIdentity is STS's, not IAM's.
    let (status, _, body) = query("iam", "POST", "/".into(), "Action=GetCallerIdentity&Version=2010-05-08").await;
    assert_eq!(status, 400);
    assert!(body.contains("<Code>InvalidAction</Code>"), "{body}");
    // Signed for the wrong service: the signature scope is refused.
    let (status, _, body) = query("eks", "POST", "/".into(), "Action=ListRoles&Version=2010-05-08").await;
    assert_eq!(status, 403);
    assert!(body.contains("<Code>SignatureDoesNotMatch</Code>"), "{body}");
    assert!(
        body.contains("Credential should be scoped to correct service: &apos;iam&apos;"),
        "{body}"
    );
    assert_eq!(emu.calls("NoSuchAction"), 0, "unknown actions are not operations");
}

#[tokio::test]
async fn faults_apply_per_operation_on_every_api() {
    let emu = start().await;
    let eks = client(&emu);
    let iam = iam_client(&emu);
    let sts = sts_client(&emu);
    emu.inject("*", Fault::Throttle, 3);
    let e = eks
        .describe_cluster()
        .name(CLUSTER)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(
        aws_sdk_eks::error::ProvideErrorMetadata::code(&e),
        Some("ThrottlingException")
    );
    let e = iam.list_roles().send().await.unwrap_err();
    assert_eq!(aws_sdk_iam::error::ProvideErrorMetadata::code(&e), Some("Throttling"));
    let e = sts.get_caller_identity().send().await.unwrap_err();
    assert_eq!(aws_sdk_sts::error::ProvideErrorMetadata::code(&e), Some("Throttling"));
    sts.get_caller_identity().send().await.unwrap();

    // The SDK's standard retries treat the query protocol's Throttling as throttling.
    emu.inject("ListRoles", Fault::Throttle, 2);
    let retrying = aws_sdk_iam::Client::from_conf(
        aws_sdk_iam::Config::builder()
            .behavior_version_latest()
            .region(aws_sdk_iam::config::Region::new("us-east-1"))
            .endpoint_url(emu.endpoint())
            .credentials_provider(default_credentials())
            .retry_config(
                aws_sdk_iam::config::retry::RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_initial_backoff(Duration::from_millis(1))
                    .with_max_backoff(Duration::from_millis(5)),
            )
            .build(),
    );
    emu.reset_calls();
    retrying.list_roles().send().await.unwrap();
    assert_eq!(emu.calls("ListRoles"), 3);

    // Applied, then the connection drops: the role exists although the client saw an error.
    emu.inject("CreateRole", Fault::DropAfterApply, 1);
    let e = iam
        .create_role()
        .role_name("dropped")
        .assume_role_policy_document(account_trust_policy(ACCOUNT))
        .send()
        .await;
    assert!(e.is_err());
    assert!(emu.role("arn:aws:iam::111122223333:role/dropped").is_some());

    emu.inject("GetCallerIdentity", Fault::Latency(Duration::from_millis(300)), 1);
    let started = Instant::now();
    sts.get_caller_identity().send().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
}
