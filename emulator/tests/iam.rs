//! The emulated IAM through aws-sdk-iam: roles, trust policies, managed policy attachments, paging and
//! errors; and roles created through IAM are the roles EKS checks.

mod common;

use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_sdk_iam::types::Tag;
use common::*;
use pia_emulator::{ErrorKind, Fault};

const POD_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"AllowEksAuthToAssumeRoleForPodIdentity","Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}"#;
const EC2_TRUST: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}"#;

/// Undoes IAM's URL-encoding of policy documents.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn create_get_and_update_a_role() {
    let emu = start().await;
    let iam = iam_client(&emu);
    let created = iam
        .create_role()
        .role_name("app-role")
        .path("/team/")
        .assume_role_policy_document(EC2_TRUST)
        .description("An app's role")
        .max_session_duration(7200)
        .tags(Tag::builder().key("team").value("a").build().unwrap())
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    assert_eq!(created.role_name(), "app-role");
    assert_eq!(created.path(), "/team/");
    assert_eq!(created.arn(), "arn:aws:iam::111122223333:role/team/app-role");
    assert!(created.role_id().starts_with("AROA"), "{}", created.role_id());
    assert_eq!(created.max_session_duration(), Some(7200));
    // IAM returns the document URL-encoded, as given.
    let document = created.assume_role_policy_document().unwrap();
    assert!(document.starts_with("%7B%22Version%22"), "{document}");
    assert_eq!(decode(document), EC2_TRUST);

    let got = iam.get_role().role_name("app-role").send().await.unwrap().role.unwrap();
    assert_eq!(got.arn(), created.arn());
    assert_eq!(got.role_id(), created.role_id());
    assert_eq!(got.description(), Some("An app's role"));
    assert_eq!(got.tags().len(), 1);
    assert_eq!(got.tags()[0].key(), "team");
    assert_eq!(got.create_date(), created.create_date());
    assert_eq!(decode(got.assume_role_policy_document().unwrap()), EC2_TRUST);
    // Names are unique whatever the case.
    let e = iam.get_role().role_name("APP-ROLE").send().await.unwrap();
    assert_eq!(e.role.unwrap().role_name(), "app-role");

    iam.update_assume_role_policy()
        .role_name("app-role")
        .policy_document(POD_TRUST)
        .send()
        .await
        .unwrap();
    let got = iam.get_role().role_name("app-role").send().await.unwrap();
    assert_eq!(
        decode(got.role.unwrap().assume_role_policy_document().unwrap()),
        POD_TRUST
    );
    let role = emu.role("arn:aws:iam::111122223333:role/team/app-role").unwrap();
    assert_eq!(
        role.trust_policy["Statement"][0]["Principal"]["Service"],
        "pods.eks.amazonaws.com"
    );

    let e = iam
        .update_assume_role_policy()
        .role_name("app-role")
        .policy_document("{not json")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_malformed_policy_document_exception(), "{e:?}");
    assert_eq!(e.message(), Some("This policy contains invalid Json"));
    let e = iam
        .update_assume_role_policy()
        .role_name("nope")
        .policy_document(POD_TRUST)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_no_such_entity_exception(), "{e:?}");
}

#[tokio::test]
async fn create_role_errors() {
    let emu = start().await;
    let iam = iam_client(&emu);
    iam.create_role()
        .role_name("dup")
        .assume_role_policy_document(POD_TRUST)
        .send()
        .await
        .unwrap();
    let e = iam
        .create_role()
        .role_name("DUP")
        .path("/other/")
        .assume_role_policy_document(POD_TRUST)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 409);
    let e = e.into_service_error();
    assert!(e.is_entity_already_exists_exception(), "{e:?}");
    assert_eq!(e.message(), Some("Role with name dup already exists."));

    let e = iam
        .create_role()
        .role_name("bad/name")
        .assume_role_policy_document(POD_TRUST)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ValidationError"));
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 400);
    let e = iam
        .create_role()
        .role_name("x")
        .path("no-slashes")
        .assume_role_policy_document(POD_TRUST)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ValidationError"));
    let e = iam
        .create_role()
        .role_name("x")
        .assume_role_policy_document(POD_TRUST)
        .max_session_duration(100)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ValidationError"));
    let e = iam
        .create_role()
        .role_name("x")
        .assume_role_policy_document("not json")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_malformed_policy_document_exception(), "{e:?}");
    let e = iam
        .create_role()
        .role_name("x")
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_malformed_policy_document_exception(), "{e:?}");
    assert_eq!(e.message(), Some("Missing required field Principal"));
    let e = iam.get_role().role_name("nope").send().await.unwrap_err();
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 404);
    let e = e.into_service_error();
    assert!(e.is_no_such_entity_exception());
    assert_eq!(e.message(), Some("The role with name nope cannot be found."));
}

#[tokio::test]
async fn managed_policies_attach_detach_and_block_deletion() {
    let emu = start().await;
    let iam = iam_client(&emu);
    iam.create_role()
        .role_name("node")
        .assume_role_policy_document(EC2_TRUST)
        .send()
        .await
        .unwrap();
    for arn in [
        "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
        "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy",
        "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    ] {
        iam.attach_role_policy()
            .role_name("node")
            .policy_arn(arn)
            .send()
            .await
            .unwrap();
    }
    let attached = iam
        .list_attached_role_policies()
        .role_name("node")
        .send()
        .await
        .unwrap();
    let names: Vec<(&str, &str)> = attached
        .attached_policies()
        .iter()
        .map(|p| (p.policy_name().unwrap(), p.policy_arn().unwrap()))
        .collect();
    assert_eq!(
        names,
        [
            (
                "AmazonEKSWorkerNodePolicy",
                "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"
            ),
            (
                "AmazonEBSCSIDriverPolicy",
                "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
            )
        ]
    );
    assert!(!attached.is_truncated());
    let service_role_only = iam
        .list_attached_role_policies()
        .role_name("node")
        .path_prefix("/service-role/")
        .send()
        .await
        .unwrap();
    assert_eq!(service_role_only.attached_policies().len(), 1);

    let e = iam.delete_role().role_name("node").send().await.unwrap_err();
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 409);
    let e = e.into_service_error();
    assert!(e.is_delete_conflict_exception(), "{e:?}");

    let e = iam
        .attach_role_policy()
        .role_name("node")
        .policy_arn("arn:aws:iam::111122223333:policy/not-there")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_no_such_entity_exception(), "{e:?}");
    let e = iam
        .attach_role_policy()
        .role_name("node")
        .policy_arn("not-an-arn")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_invalid_input_exception(), "{e:?}");
    let e = iam
        .attach_role_policy()
        .role_name("nobody")
        .policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_no_such_entity_exception(), "{e:?}");

    for arn in [
        "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
        "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy",
    ] {
        iam.detach_role_policy()
            .role_name("node")
            .policy_arn(arn)
            .send()
            .await
            .unwrap();
    }
    let e = iam
        .detach_role_policy()
        .role_name("node")
        .policy_arn("arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_no_such_entity_exception(), "{e:?}");
    iam.delete_role().role_name("node").send().await.unwrap();
    let e = iam
        .delete_role()
        .role_name("node")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_no_such_entity_exception(), "{e:?}");
}

#[tokio::test]
async fn a_role_takes_at_most_ten_managed_policies() {
    let emu = start().await;
    let iam = iam_client(&emu);
    iam.create_role()
        .role_name("busy")
        .assume_role_policy_document(EC2_TRUST)
        .send()
        .await
        .unwrap();
    for i in 0..10 {
        iam.attach_role_policy()
            .role_name("busy")
            .policy_arn(format!("arn:aws:iam::aws:policy/Policy{i}"))
            .send()
            .await
            .unwrap();
    }
    let e = iam
        .attach_role_policy()
        .role_name("busy")
        .policy_arn("arn:aws:iam::aws:policy/Policy10")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 409);
    let e = e.into_service_error();
    assert!(e.is_limit_exceeded_exception(), "{e:?}");
    // Paging through the ten.
    let mut marker = None;
    let mut seen = Vec::new();
    loop {
        let page = iam
            .list_attached_role_policies()
            .role_name("busy")
            .max_items(4)
            .set_marker(marker)
            .send()
            .await
            .unwrap();
        seen.extend(
            page.attached_policies()
                .iter()
                .map(|p| p.policy_name().unwrap().to_owned()),
        );
        if !page.is_truncated() {
            break;
        }
        marker = page.marker().map(str::to_owned);
    }
    let expected: Vec<String> = (0..10).map(|i| format!("Policy{i}")).collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn list_roles_pages_by_marker_and_filters_by_path() {
    let emu = start().await;
    let iam = iam_client(&emu);
    for i in 0..7 {
        iam.create_role()
            .role_name(format!("svc-{i}"))
            .path(if i % 2 == 0 { "/even/" } else { "/odd/" })
            .assume_role_policy_document(EC2_TRUST)
            .send()
            .await
            .unwrap();
    }
    let mut marker = None;
    let mut names = Vec::new();
    loop {
        let page = iam.list_roles().max_items(3).set_marker(marker).send().await.unwrap();
        assert!(page.roles().len() <= 3);
        names.extend(page.roles().iter().map(|r| r.role_name().to_owned()));
        if !page.is_truncated() {
            break;
        }
        marker = page.marker().map(str::to_owned);
    }
    // The config's two roles, the nodes' role and the seven, in name order.
    let mut expected: Vec<String> = (0..7).map(|i| format!("svc-{i}")).collect();
    expected.insert(0, "eks-pod-identity-node".into());
    expected.insert(0, "demo-pod-role-2".into());
    expected.insert(0, "demo-pod-role".into());
    assert_eq!(names, expected);

    let even = iam.list_roles().path_prefix("/even/").send().await.unwrap();
    let even: Vec<&str> = even.roles().iter().map(|r| r.role_name()).collect();
    assert_eq!(even, ["svc-0", "svc-2", "svc-4", "svc-6"]);

    let e = iam.list_roles().max_items(0).send().await.unwrap_err();
    assert_eq!(e.code(), Some("ValidationError"));
    // Roles live in the caller's account.
    let (akid, secret) = emu.issue_access_key("444455556666", "other");
    emu.put_user(&pia_emulator::config::UserConfig {
        account_id: "444455556666".into(),
        ..pia_emulator::config::UserConfig::with_policy("other", "arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    });
    let other = iam_client_with(
        &emu,
        aws_credential_types::Credentials::new(akid, secret, None, None, "test"),
    );
    assert!(other.list_roles().send().await.unwrap().roles().is_empty());
}

#[tokio::test]
async fn a_role_created_through_iam_is_usable_by_eks_at_once() {
    let emu = start().await;
    let iam = iam_client(&emu);
    let eks = client(&emu);
    let arn = "arn:aws:iam::111122223333:role/pods/new-role";
    let e = eks
        .create_pod_identity_association()
        .cluster_name(CLUSTER)
        .namespace("ns")
        .service_account("sa")
        .role_arn(arn)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(e.message(), Some(pia_emulator::ROLE_DOES_NOT_EXIST));

    iam.create_role()
        .role_name("new-role")
        .path("/pods/")
        .assume_role_policy_document(EC2_TRUST)
        .send()
        .await
        .unwrap();
    let e = eks
        .create_pod_identity_association()
        .cluster_name(CLUSTER)
        .namespace("ns")
        .service_account("sa")
        .role_arn(arn)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(e.message(), Some(pia_emulator::TRUST_POLICY_INVALID));

    iam.update_assume_role_policy()
        .role_name("new-role")
        .policy_document(POD_TRUST)
        .send()
        .await
        .unwrap();
    let created = eks
        .create_pod_identity_association()
        .cluster_name(CLUSTER)
        .namespace("ns")
        .service_account("sa")
        .role_arn(arn)
        .send()
        .await
        .unwrap();
    assert_eq!(created.association.unwrap().role_arn(), Some(arn));

    // The in-process shortcut and IAM see the same registry.
    emu.put_role(
        "arn:aws:iam::111122223333:role/shortcut",
        pia_emulator::pod_identity_trust_policy(),
    );
    let got = iam.get_role().role_name("shortcut").send().await.unwrap();
    assert_eq!(got.role.unwrap().arn(), "arn:aws:iam::111122223333:role/shortcut");
    iam.delete_role().role_name("shortcut").send().await.unwrap();
    assert!(emu.role("arn:aws:iam::111122223333:role/shortcut").is_none());
}

#[tokio::test]
async fn iam_faults_answer_in_iam_terms() {
    let emu = start().await;
    let iam = iam_client(&emu);
    emu.inject("CreateRole", Fault::Throttle, 1);
    emu.inject("GetRole", Fault::ServerError, 1);
    emu.inject("ListRoles", Fault::Error(ErrorKind::AccessDenied), 1);
    let e = iam
        .create_role()
        .role_name("r")
        .assume_role_policy_document(POD_TRUST)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("Throttling"));
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 400);
    assert!(emu.role("arn:aws:iam::111122223333:role/r").is_none(), "not applied");
    let e = iam
        .get_role()
        .role_name("demo-pod-role")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_service_failure_exception(), "{e:?}");
    let e = iam.list_roles().send().await.unwrap_err();
    assert_eq!(e.code(), Some("AccessDenied"));
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 403);
    assert_eq!(emu.calls("CreateRole"), 1);
    // Used up.
    iam.list_roles().send().await.unwrap();
}
