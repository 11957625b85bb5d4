//! SigV4 verification with real SDK clients: good requests pass on every API; a wrong secret, an unknown
//! key, a tampered body, a missing Authorization header, a skewed clock, a root key with a session token
//! and expired session credentials are refused with the error code each service uses, as the SDK
//! parses it.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sdk_eks::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_eks::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_eks::error::{BoxError, ProvideErrorMetadata};
use aws_smithy_async::time::StaticTimeSource;
use aws_smithy_types::body::SdkBody;
use common::*;
use pia_emulator::{DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY, EmulatorConfig};

fn wrong_secret() -> Credentials {
    Credentials::new(DEFAULT_ACCESS_KEY_ID, "not-the-secret", None, None, "test")
}

fn unknown_key() -> Credentials {
    Credentials::new("AKIAUNKNOWNKEY000000", "secret", None, None, "test")
}

/// Changes a request after it was signed: replaces the body, or removes a header.
#[derive(Debug)]
enum Tamper {
    Body(&'static str),
    RemoveHeader(&'static str),
}

impl Intercept for Tamper {
    fn name(&self) -> &'static str {
        "Tamper"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        match self {
            Tamper::Body(body) => {
                *request.body_mut() = SdkBody::from(*body);
                request.headers_mut().insert("content-length", body.len().to_string());
            }
            Tamper::RemoveHeader(name) => {
                request.headers_mut().remove(*name);
            }
        }
        Ok(())
    }
}

fn tampered_eks(emu: &pia_emulator::Emulator, tamper: Tamper) -> aws_sdk_eks::Client {
    aws_sdk_eks::Client::from_conf(
        aws_sdk_eks::Config::builder()
            .behavior_version_latest()
            .region(aws_sdk_eks::config::Region::new("us-east-1"))
            .endpoint_url(emu.endpoint())
            .credentials_provider(default_credentials())
            .retry_config(aws_sdk_eks::config::retry::RetryConfig::disabled())
            .interceptor(tamper)
            .build(),
    )
}

fn tampered_iam(emu: &pia_emulator::Emulator, tamper: Tamper) -> aws_sdk_iam::Client {
    aws_sdk_iam::Client::from_conf(
        aws_sdk_iam::Config::builder()
            .behavior_version_latest()
            .region(aws_sdk_iam::config::Region::new("us-east-1"))
            .endpoint_url(emu.endpoint())
            .credentials_provider(default_credentials())
            .retry_config(aws_sdk_iam::config::retry::RetryConfig::disabled())
            .interceptor(tamper)
            .build(),
    )
}

fn tampered_sts(emu: &pia_emulator::Emulator, tamper: Tamper) -> aws_sdk_sts::Client {
    aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::Config::builder()
            .behavior_version_latest()
            .region(aws_sdk_sts::config::Region::new("us-east-1"))
            .endpoint_url(emu.endpoint())
            .credentials_provider(default_credentials())
            .retry_config(aws_sdk_sts::config::retry::RetryConfig::disabled())
            .interceptor(tamper)
            .build(),
    )
}

#[tokio::test]
async fn good_signatures_pass_on_every_api() {
    let emu = start().await;
    let eks = client(&emu);
    create(&eks, "ns", "sa").await;
    let listed = eks
        .list_pod_identity_associations()
        .cluster_name(CLUSTER)
        .namespace("ns")
        .max_results(5)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.associations().len(), 1);
    let roles = iam_client(&emu).list_roles().send().await.unwrap();
    assert!(!roles.roles().is_empty());
    let me = sts_client(&emu).get_caller_identity().send().await.unwrap();
    assert_eq!(me.arn(), Some("arn:aws:iam::111122223333:user/admin"));
    assert_eq!(emu.calls("ListRoles"), 1);
    assert_eq!(emu.calls("GetCallerIdentity"), 1);
}

#[tokio::test]
async fn eks_refusals_carry_rest_json_error_codes() {
    let emu = start().await;
    let code = |e: &dyn ProvideErrorMetadata| e.code().map(str::to_owned);

    let e = eks_client_with(&emu, wrong_secret())
        .describe_cluster()
        .name(CLUSTER)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e).as_deref(), Some("InvalidSignatureException"), "{e:?}");
    assert!(
        e.message()
            .unwrap()
            .starts_with("The request signature we calculated does not match")
    );
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 403);

    let e = eks_client_with(&emu, unknown_key())
        .describe_cluster()
        .name(CLUSTER)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e).as_deref(), Some("UnrecognizedClientException"));
    assert_eq!(
        e.message(),
        Some("The security token included in the request is invalid.")
    );

    let e = tampered_eks(
        &emu,
        Tamper::Body(
            r#"{"namespace":"ns","serviceAccount":"other","roleArn":"arn:aws:iam::111122223333:role/demo-pod-role"}"#,
        ),
    )
    .create_pod_identity_association()
    .cluster_name(CLUSTER)
    .namespace("ns")
    .service_account("sa")
    .role_arn(ROLE)
    .send()
    .await
    .unwrap_err();
    assert_eq!(code(&e).as_deref(), Some("InvalidSignatureException"));
    assert_eq!(emu.association_count(CLUSTER), 0, "refused before it ran");

    let e = tampered_eks(&emu, Tamper::RemoveHeader("authorization"))
        .describe_cluster()
        .name(CLUSTER)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e).as_deref(), Some("MissingAuthenticationTokenException"));
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 403);

    // A user's long-term key with a session token: AWS refuses it.
    let with_token = Credentials::new(
        DEFAULT_ACCESS_KEY_ID,
        DEFAULT_SECRET_ACCESS_KEY,
        Some("FwoGZXIvYXdzEXAMPLE".into()),
        None,
        "test",
    );
    let e = eks_client_with(&emu, with_token)
        .describe_cluster()
        .name(CLUSTER)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e).as_deref(), Some("UnrecognizedClientException"));

    // Every refused request was still received and counted.
    assert_eq!(emu.calls("DescribeCluster"), 4);
    assert_eq!(emu.calls("CreatePodIdentityAssociation"), 1);
}

#[tokio::test]
async fn iam_and_sts_refusals_carry_query_error_codes() {
    let emu = start().await;
    let code = |e: &dyn ProvideErrorMetadata| e.code().map(str::to_owned);

    let e = iam_client_with(&emu, wrong_secret())
        .list_roles()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e).as_deref(), Some("SignatureDoesNotMatch"), "{e:?}");
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 403);
    let e = sts_client_with(&emu, wrong_secret())
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e).as_deref(), Some("SignatureDoesNotMatch"));

    let e = iam_client_with(&emu, unknown_key())
        .list_roles()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e).as_deref(), Some("InvalidClientTokenId"));
    assert_eq!(
        e.message(),
        Some("The security token included in the request is invalid.")
    );
    let e = sts_client_with(&emu, unknown_key())
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e).as_deref(), Some("InvalidClientTokenId"));

    // The form body names another role than the one signed for.
    let e = tampered_iam(
        &emu,
        Tamper::Body("Action=GetRole&Version=2010-05-08&RoleName=demo-pod-role-2"),
    )
    .get_role()
    .role_name("demo-pod-role")
    .send()
    .await
    .unwrap_err();
    assert_eq!(code(&e).as_deref(), Some("SignatureDoesNotMatch"));

    let e = tampered_sts(&emu, Tamper::RemoveHeader("authorization"))
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e).as_deref(), Some("MissingAuthenticationToken"));
    let e = tampered_iam(&emu, Tamper::RemoveHeader("authorization"))
        .list_roles()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e).as_deref(), Some("MissingAuthenticationToken"));

    // A missing X-Amz-Date makes the signature incomplete.
    let e = tampered_sts(&emu, Tamper::RemoveHeader("x-amz-date"))
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e).as_deref(), Some("IncompleteSignature"));
}

#[tokio::test]
async fn a_clock_more_than_15_minutes_off_is_refused() {
    let emu = start().await;
    let skewed = |offset: i64| {
        let now = SystemTime::now();
        let time = if offset < 0 {
            now - Duration::from_secs(offset.unsigned_abs())
        } else {
            now + Duration::from_secs(offset as u64)
        };
        aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::Config::builder()
                .behavior_version_latest()
                .region(aws_sdk_sts::config::Region::new("us-east-1"))
                .endpoint_url(emu.endpoint())
                .credentials_provider(default_credentials())
                .retry_config(aws_sdk_sts::config::retry::RetryConfig::disabled())
                .time_source(StaticTimeSource::new(time))
                .build(),
        )
    };
    let e = skewed(-20 * 60).get_caller_identity().send().await.unwrap_err();
    assert_eq!(e.code(), Some("SignatureDoesNotMatch"));
    assert!(e.message().unwrap().starts_with("Signature expired:"), "{e:?}");
    let e = skewed(20 * 60).get_caller_identity().send().await.unwrap_err();
    assert!(e.message().unwrap().starts_with("Signature not yet current:"));
    // Within the window it passes.
    skewed(-10 * 60).get_caller_identity().send().await.unwrap();
}

#[tokio::test]
async fn session_credentials_need_their_token_and_expire() {
    let emu = start().await;
    let issued = emu.issue_session_credentials(ROLE, "test-session", BTreeMap::new(), Duration::from_secs(900));
    let session = Credentials::new(
        &issued.access_key_id,
        &issued.secret_access_key,
        Some(issued.session_token.clone()),
        None,
        "test",
    );
    let me = sts_client_with(&emu, session)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(
        me.arn(),
        Some("arn:aws:sts::111122223333:assumed-role/demo-pod-role/test-session")
    );
    eks_client_with(
        &emu,
        Credentials::new(
            &issued.access_key_id,
            &issued.secret_access_key,
            Some(issued.session_token.clone()),
            None,
            "test",
        ),
    )
    .list_clusters()
    .send()
    .await
    .unwrap_err()
    .into_service_error()
    .meta()
    .code()
    .filter(|code| *code == "AccessDeniedException")
    .expect("a signature that is accepted, and a pod role that may not list clusters");

    let without_token = Credentials::new(&issued.access_key_id, &issued.secret_access_key, None, None, "test");
    let e = sts_client_with(&emu, without_token)
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("InvalidClientTokenId"));

    // Credentials that expire at once.
    let expired = emu.issue_session_credentials(ROLE, "gone", BTreeMap::new(), Duration::ZERO);
    let expired = Credentials::new(
        &expired.access_key_id,
        &expired.secret_access_key,
        Some(expired.session_token.clone()),
        None,
        "test",
    );
    let e = sts_client_with(&emu, expired.clone())
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ExpiredToken"));
    let e = eks_client_with(&emu, expired)
        .describe_cluster()
        .name(CLUSTER)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ExpiredTokenException"));
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 403);
}

#[tokio::test]
async fn issued_user_keys_work_and_verification_can_be_turned_off() {
    let emu = start().await;
    let (akid, secret) = emu.issue_access_key("444455556666", "bob");
    let bob = Credentials::new(&akid, &secret, None, None, "test");
    let me = sts_client_with(&emu, bob).get_caller_identity().send().await.unwrap();
    assert_eq!(me.arn(), Some("arn:aws:iam::444455556666:user/bob"));
    assert_eq!(me.account(), Some("444455556666"));
    assert!(me.user_id().unwrap().starts_with("AIDA"));

    emu.set_verify_signatures(false);
    let me = sts_client_with(&emu, unknown_key())
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(me.arn(), Some("arn:aws:iam::111122223333:user/admin"));
    let e = sts_client_with(&emu, wrong_secret()).get_caller_identity().send().await;
    assert!(e.is_ok(), "{e:?}");

    let config = EmulatorConfig {
        verify_signatures: false,
        ..EmulatorConfig::default()
    };
    let lax = pia_emulator::Emulator::start(config).await.unwrap();
    eks_client_with(&lax, unknown_key())
        .describe_cluster()
        .name(CLUSTER)
        .send()
        .await
        .unwrap();
}
