//! The emulated STS through aws-sdk-sts: GetCallerIdentity, and AssumeRole with trust policy
//! evaluation, external ids, session tags (transitive through role chaining) and durations.

mod common;

use std::time::{Duration, SystemTime};

use aws_sdk_sts::error::ProvideErrorMetadata;
use aws_sdk_sts::types::Tag;
use common::*;
use pia_emulator::Fault;

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build().unwrap()
}

async fn create_role(emu: &pia_emulator::Emulator, name: &str, trust: &str) -> String {
    iam_client(emu)
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap()
        .role
        .unwrap()
        .arn()
        .to_owned()
}

#[tokio::test]
async fn get_caller_identity_names_the_user() {
    let emu = start().await;
    let me = sts_client(&emu).get_caller_identity().send().await.unwrap();
    assert_eq!(me.arn(), Some("arn:aws:iam::111122223333:user/admin"));
    assert_eq!(me.account(), Some("111122223333"));
    let user_id = me.user_id().unwrap();
    assert!(user_id.starts_with("AIDA") && user_id.len() == 21, "{user_id}");
    // The same on every call and every run.
    let again = start().await;
    let me_again = sts_client(&again).get_caller_identity().send().await.unwrap();
    assert_eq!(me_again.user_id(), Some(user_id));
}

#[tokio::test]
async fn assume_role_issues_session_credentials_that_work() {
    let emu = start().await;
    let arn = create_role(&emu, "deployer", &account_trust_policy(ACCOUNT)).await;
    let before = SystemTime::now();
    let out = sts_client(&emu)
        .assume_role()
        .role_arn(&arn)
        .role_session_name("ci-run-1")
        .duration_seconds(900)
        .send()
        .await
        .unwrap();
    let user = out.assumed_role_user().unwrap();
    assert_eq!(user.arn(), "arn:aws:sts::111122223333:assumed-role/deployer/ci-run-1");
    let role_id = emu.role(&arn).unwrap().role_id;
    assert_eq!(user.assumed_role_id(), format!("{role_id}:ci-run-1"));
    let credentials = out.credentials().unwrap();
    assert!(credentials.access_key_id().starts_with("ASIA"));
    assert_eq!(credentials.secret_access_key().len(), 40);
    assert!(!credentials.session_token().is_empty());
    let expiration = SystemTime::try_from(*credentials.expiration()).unwrap();
    let lifetime = expiration.duration_since(before).unwrap();
    assert!(
        lifetime > Duration::from_secs(800) && lifetime <= Duration::from_secs(901),
        "{lifetime:?}"
    );

    let session = from_sts(credentials);
    let me = sts_client_with(&emu, session.clone())
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(me.arn(), Some(user.arn()));
    assert_eq!(me.user_id(), Some(user.assumed_role_id()));
    assert_eq!(me.account(), Some(ACCOUNT));
    // The session can use the other APIs too, as far as the role's policies allow.
    iam_client(&emu)
        .attach_role_policy()
        .role_name("deployer")
        .policy_arn("arn:aws:iam::aws:policy/AdministratorAccess")
        .send()
        .await
        .unwrap();
    iam_client_with(&emu, session.clone())
        .get_role()
        .role_name("deployer")
        .send()
        .await
        .unwrap();
    eks_client_with(&emu, session)
        .describe_cluster()
        .name(CLUSTER)
        .send()
        .await
        .unwrap();
    assert_eq!(emu.session_tags(credentials.access_key_id()), Some(Default::default()));
}

/// Status, code and message of a refusal.
fn denied<E: ProvideErrorMetadata>(
    e: aws_sdk_sts::error::SdkError<E>,
) -> (Option<u16>, Option<String>, Option<String>) {
    let status = e.raw_response().map(|r| r.status().as_u16());
    let code = e.code().map(str::to_owned);
    let message = e.message().map(str::to_owned);
    (status, code, message)
}

#[tokio::test]
async fn the_trust_policy_decides() {
    let emu = start().await;
    let sts = sts_client(&emu);
    // The default config's roles trust only pods.eks.amazonaws.com.
    let (status, code, message) = denied(
        sts.assume_role()
            .role_arn(ROLE)
            .role_session_name("s1")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(status, Some(403));
    assert_eq!(code.as_deref(), Some("AccessDenied"));
    assert_eq!(
        message.as_deref(),
        Some(
            "User: arn:aws:iam::111122223333:user/admin is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111122223333:role/demo-pod-role"
        )
    );
    // A role that does not exist: the same answer.
    let (_, code, _) = denied(
        sts.assume_role()
            .role_arn("arn:aws:iam::111122223333:role/nope")
            .role_session_name("s1")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(code.as_deref(), Some("AccessDenied"));

    // Another account's role that trusts this account, with an external id.
    let target = "arn:aws:iam::444455556666:role/cross";
    emu.put_role(
        target,
        serde_json::json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": "111122223333"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "ext-123"}}
        }]}),
    );
    let (_, code, _) = denied(
        sts.assume_role()
            .role_arn(target)
            .role_session_name("s1")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(code.as_deref(), Some("AccessDenied"));
    let (_, code, _) = denied(
        sts.assume_role()
            .role_arn(target)
            .role_session_name("s1")
            .external_id("wrong-id")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(code.as_deref(), Some("AccessDenied"));
    let out = sts
        .assume_role()
        .role_arn(target)
        .role_session_name("s1")
        .external_id("ext-123")
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.assumed_role_user().unwrap().arn(),
        "arn:aws:sts::444455556666:assumed-role/cross/s1"
    );
    // Session tags need sts:TagSession, which that policy does not grant.
    let (_, code, _) = denied(
        sts.assume_role()
            .role_arn(target)
            .role_session_name("s1")
            .external_id("ext-123")
            .tags(tag("team", "a"))
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(code.as_deref(), Some("AccessDenied"));

    // A user of another account is not trusted by an account-root policy.
    let arn = create_role(&emu, "home", &account_trust_policy(ACCOUNT)).await;
    let (akid, secret) = emu.issue_access_key("999988887777", "stranger");
    let stranger = sts_client_with(
        &emu,
        aws_credential_types::Credentials::new(akid, secret, None, None, "test"),
    );
    let (_, code, message) = denied(
        stranger
            .assume_role()
            .role_arn(&arn)
            .role_session_name("s1")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(code.as_deref(), Some("AccessDenied"));
    assert!(
        message
            .unwrap()
            .starts_with("User: arn:aws:iam::999988887777:user/stranger ")
    );
}

#[tokio::test]
async fn session_tags_are_visible_and_transitive_ones_follow_role_chaining() {
    let emu = start().await;
    let first = create_role(&emu, "first", &account_trust_policy(ACCOUNT)).await;
    // The second role trusts the first role's sessions, and only with the team tag set to "a".
    let second = create_role(
        &emu,
        "second",
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{first}"}},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{{"StringEquals":{{"aws:PrincipalTag/team":"a"}}}}}}]}}"#
        ),
    )
    .await;
    let out = sts_client(&emu)
        .assume_role()
        .role_arn(&first)
        .role_session_name("one")
        .tags(tag("team", "a"))
        .tags(tag("env", "dev"))
        .transitive_tag_keys("team")
        .send()
        .await
        .unwrap();
    let first_credentials = out.credentials().unwrap();
    let tags = emu.session_tags(first_credentials.access_key_id()).unwrap();
    assert_eq!(tags.len(), 2);
    assert_eq!(tags["team"], "a");
    assert_eq!(tags["env"], "dev");

    let chained = sts_client_with(&emu, from_sts(first_credentials));
    let out = chained
        .assume_role()
        .role_arn(&second)
        .role_session_name("two")
        .tags(tag("step", "2"))
        .send()
        .await
        .unwrap();
    let second_key = out.credentials().unwrap().access_key_id();
    let tags = emu.session_tags(second_key).unwrap();
    // team was transitive; env was not.
    assert_eq!(tags.get("team").map(String::as_str), Some("a"));
    assert_eq!(tags.get("step").map(String::as_str), Some("2"));
    assert!(!tags.contains_key("env"), "{tags:?}");
    let identity = emu.caller_identity(second_key).unwrap();
    assert_eq!(identity.arn, "arn:aws:sts::111122223333:assumed-role/second/two");

    // A transitive tag cannot be overridden.
    let e = chained
        .assume_role()
        .role_arn(&second)
        .role_session_name("three")
        .tags(tag("team", "b"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("InvalidParameterValue"));
    // Role chaining limits sessions to one hour.
    let e = chained
        .assume_role()
        .role_arn(&second)
        .role_session_name("four")
        .duration_seconds(7200)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ValidationError"));
    // Without the principal tag the second role refuses.
    let untagged = sts_client(&emu)
        .assume_role()
        .role_arn(&first)
        .role_session_name("plain")
        .send()
        .await
        .unwrap();
    let e = sts_client_with(&emu, from_sts(untagged.credentials().unwrap()))
        .assume_role()
        .role_arn(&second)
        .role_session_name("x2")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("AccessDenied"));
}

#[tokio::test]
async fn assume_role_validates_its_input() {
    let emu = start().await;
    let arn = create_role(&emu, "deployer", &account_trust_policy(ACCOUNT)).await;
    let sts = sts_client(&emu);
    for (session, duration) in [("x", None), ("bad name!", None), ("ok-name", Some(100))] {
        let e = sts
            .assume_role()
            .role_arn(&arn)
            .role_session_name(session)
            .set_duration_seconds(duration)
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.code(), Some("ValidationError"), "{session} {duration:?}");
        assert_eq!(e.raw_response().unwrap().status().as_u16(), 400);
    }
    // Longer than the role's MaxSessionDuration (default one hour).
    let e = sts
        .assume_role()
        .role_arn(&arn)
        .role_session_name("long")
        .duration_seconds(7200)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ValidationError"));
    assert_eq!(
        e.message(),
        Some("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    );
    let e = sts
        .assume_role()
        .role_arn(&arn)
        .role_session_name("tt")
        .transitive_tag_keys("not-a-tag")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("InvalidParameterValue"));
    // A session policy must be a policy document.
    for (policy, message) in [
        ("{not json", "The policy is not in the valid JSON format."),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Perhaps","Action":"s3:*","Resource":"*"}]}"#,
            "Syntax errors in policy.",
        ),
    ] {
        let e = sts
            .assume_role()
            .role_arn(&arn)
            .role_session_name("scoped")
            .policy(policy)
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.code(), Some("MalformedPolicyDocument"), "{policy}");
        assert_eq!(e.message(), Some(message), "{policy}");
        assert_eq!(e.raw_response().unwrap().status().as_u16(), 400);
    }
    let scoped = sts
        .assume_role()
        .role_arn(&arn)
        .role_session_name("scoped")
        .policy(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#)
        .send()
        .await;
    assert!(scoped.is_ok(), "{scoped:?}");
}

#[tokio::test]
async fn sts_faults_answer_in_sts_terms() {
    let emu = start().await;
    let sts = sts_client(&emu);
    emu.inject("GetCallerIdentity", Fault::Unavailable, 1);
    emu.inject("AssumeRole", Fault::ServerError, 1);
    let e = sts.get_caller_identity().send().await.unwrap_err();
    assert_eq!(e.code(), Some("ServiceUnavailable"));
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 503);
    let e = sts
        .assume_role()
        .role_arn(ROLE)
        .role_session_name("s1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("InternalFailure"));
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 500);
    sts.get_caller_identity().send().await.unwrap();
}

#[tokio::test]
async fn get_session_token_gives_credentials_that_act_as_the_user() {
    let emu = start().await;
    let out = sts_client(&emu)
        .get_session_token()
        .duration_seconds(900)
        .send()
        .await
        .unwrap();
    let credentials = out.credentials().unwrap();
    assert!(credentials.access_key_id().starts_with("ASIA"));
    let session = sts_client_with(&emu, from_sts(credentials));
    let me = session.get_caller_identity().send().await.unwrap();
    assert_eq!(me.arn(), Some("arn:aws:iam::111122223333:user/admin"));
    // They can assume a role as the user (not as role chaining).
    let arn = create_role(&emu, "deployer", &account_trust_policy(ACCOUNT)).await;
    let assumed = session
        .assume_role()
        .role_arn(&arn)
        .role_session_name("from-user-session")
        .send()
        .await
        .unwrap();
    assert_eq!(
        assumed.assumed_role_user().unwrap().arn(),
        "arn:aws:sts::111122223333:assumed-role/deployer/from-user-session"
    );
    // Session credentials cannot get a session token.
    let e = session.get_session_token().send().await.unwrap_err();
    assert_eq!(e.code(), Some("AccessDenied"));
    let e = sts_client(&emu)
        .get_session_token()
        .duration_seconds(100)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ValidationError"));
}
