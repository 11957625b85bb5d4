//! The association API through the real aws-sdk-eks client.

mod common;

use std::collections::{HashMap, HashSet};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_eks::error::ProvideErrorMetadata;
use common::*;
use pia_emulator::{ClusterConfig, ErrorKind, Fault, ROLE_DOES_NOT_EXIST, TRUST_POLICY_INVALID};
use serde_json::json;

fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
}

const POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
const TARGET: &str = "arn:aws:iam::444455556666:role/target";

#[tokio::test]
async fn create_describe_update_list_delete_round_trip() {
    let emu = start().await;
    let eks = client(&emu);
    let before = now();
    let created = eks
        .create_pod_identity_association()
        .cluster_name(CLUSTER)
        .namespace("payments")
        .service_account("api")
        .role_arn(ROLE)
        .tags("team", "blue")
        .tags("empty", "")
        .disable_session_tags(true)
        .target_role_arn(TARGET)
        .policy(POLICY)
        .send()
        .await
        .unwrap()
        .association
        .unwrap();
    let id = created.association_id().unwrap().to_owned();
    assert_eq!(id.len(), 19);
    assert!(id.starts_with("a-") && id[2..].chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
    assert_eq!(created.cluster_name(), Some(CLUSTER));
    assert_eq!(created.namespace(), Some("payments"));
    assert_eq!(created.service_account(), Some("api"));
    assert_eq!(created.role_arn(), Some(ROLE));
    assert_eq!(
        created.association_arn(),
        Some(format!("arn:aws:eks:us-east-1:{ACCOUNT}:podidentityassociation/{CLUSTER}/{id}").as_str())
    );
    let expected_tags: HashMap<String, String> = [
        ("team".to_owned(), "blue".to_owned()),
        ("empty".to_owned(), String::new()),
    ]
    .into();
    assert_eq!(created.tags(), Some(&expected_tags));
    assert_eq!(created.disable_session_tags(), Some(true));
    assert_eq!(created.target_role_arn(), Some(TARGET));
    assert_eq!(created.policy(), Some(POLICY));
    assert_eq!(created.owner_arn(), None);
    // Session tags disabled: the external id names the service account (tests/target_roles.rs has both cases).
    let external_id = created.external_id().unwrap();
    assert_eq!(external_id, format!("us-east-1/{ACCOUNT}/{CLUSTER}/payments/api"));
    let created_at = created.created_at().unwrap().as_secs_f64();
    assert!(
        created_at >= before - 1.0 && created_at <= now() + 1.0,
        "{created_at} vs {before}"
    );
    assert_eq!(created.modified_at(), created.created_at());

    let described = eks
        .describe_pod_identity_association()
        .cluster_name(CLUSTER)
        .association_id(&id)
        .send()
        .await
        .unwrap()
        .association
        .unwrap();
    assert_eq!(described, created);

    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let updated = eks
        .update_pod_identity_association()
        .cluster_name(CLUSTER)
        .association_id(&id)
        .role_arn(ROLE_2)
        .send()
        .await
        .unwrap()
        .association
        .unwrap();
    assert_eq!(updated.role_arn(), Some(ROLE_2));
    assert_eq!(
        updated.target_role_arn(),
        Some(TARGET),
        "absent fields keep their value"
    );
    assert_eq!(updated.policy(), Some(POLICY));
    assert_eq!(updated.external_id(), created.external_id());
    assert_eq!(updated.created_at(), created.created_at());
    assert!(updated.modified_at().unwrap().as_secs_f64() > created_at);

    let listed = eks
        .list_pod_identity_associations()
        .cluster_name(CLUSTER)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.next_token(), None);
    assert_eq!(listed.associations().len(), 1);
    let summary = &listed.associations()[0];
    assert_eq!(summary.association_id(), Some(id.as_str()));
    assert_eq!(summary.association_arn(), created.association_arn());
    assert_eq!(summary.namespace(), Some("payments"));
    assert_eq!(summary.service_account(), Some("api"));
    assert_eq!(summary.cluster_name(), Some(CLUSTER));

    assert_eq!(emu.association_count(CLUSTER), 1);
    let deleted = eks
        .delete_pod_identity_association()
        .cluster_name(CLUSTER)
        .association_id(&id)
        .send()
        .await
        .unwrap()
        .association
        .unwrap();
    assert_eq!(deleted, updated);
    assert_eq!(emu.association_count(CLUSTER), 0);

    let gone = eks
        .describe_pod_identity_association()
        .cluster_name(CLUSTER)
        .association_id(&id)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(gone.is_resource_not_found_exception(), "{gone:?}");
    assert_eq!(
        gone.message(),
        Some(format!("No Pod Identity Association found for id: {id}.").as_str())
    );
    let again = eks
        .delete_pod_identity_association()
        .cluster_name(CLUSTER)
        .association_id(&id)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(again.is_resource_not_found_exception());
}

#[tokio::test]
async fn duplicate_service_account_is_resource_in_use_naming_the_existing_id() {
    let emu = start().await;
    let eks = client(&emu);
    let first = create(&eks, "ns", "sa").await;
    let error = eks
        .create_pod_identity_association()
        .cluster_name(CLUSTER)
        .namespace("ns")
        .service_account("sa")
        .role_arn(ROLE_2)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.raw_response().map(|r| r.status().as_u16()), Some(409));
    let error = error.into_service_error();
    assert!(error.is_resource_in_use_exception(), "{error:?}");
    assert_eq!(error.code(), Some("ResourceInUseException"));
    assert_eq!(
        error.message(),
        Some(format!("Association already exists: {}", first.association_id().unwrap()).as_str())
    );
    // Another namespace or service account is fine.
    create(&eks, "ns", "sa2").await;
    create(&eks, "ns2", "sa").await;
    assert_eq!(emu.association_count(CLUSTER), 3);
}

#[tokio::test]
async fn client_request_token_makes_create_idempotent() {
    let emu = start().await;
    let eks = client(&emu);
    let send = |role: &'static str| {
        eks.create_pod_identity_association()
            .cluster_name(CLUSTER)
            .namespace("ns")
            .service_account("sa")
            .role_arn(role)
            .tags("k", "v")
            .client_request_token("token-1")
            .send()
    };
    let first = send(ROLE).await.unwrap().association.unwrap();
    let second = send(ROLE).await.unwrap().association.unwrap();
    assert_eq!(first, second);
    assert_eq!(emu.association_count(CLUSTER), 1);

    let mismatch = send(ROLE_2).await.unwrap_err().into_service_error();
    assert!(mismatch.is_invalid_parameter_exception(), "{mismatch:?}");
    assert!(mismatch.message().unwrap().contains("token-1"));

    // A new token for the same service account is a conflict, not a replay.
    let conflict = eks
        .create_pod_identity_association()
        .cluster_name(CLUSTER)
        .namespace("ns")
        .service_account("sa")
        .role_arn(ROLE)
        .tags("k", "v")
        .client_request_token("token-2")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(conflict.is_resource_in_use_exception());

    // Once the association is deleted the token is spent: the same request creates a new one.
    eks.delete_pod_identity_association()
        .cluster_name(CLUSTER)
        .association_id(first.association_id().unwrap())
        .send()
        .await
        .unwrap();
    let third = send(ROLE).await.unwrap().association.unwrap();
    assert_ne!(third.association_id(), first.association_id());
}

#[tokio::test]
async fn client_request_token_makes_update_idempotent() {
    let emu = start().await;
    let eks = client(&emu);
    let id = create(&eks, "ns", "sa").await.association_id.unwrap();
    let update = |role: &'static str| {
        eks.update_pod_identity_association()
            .cluster_name(CLUSTER)
            .association_id(&id)
            .role_arn(role)
            .client_request_token("u-1")
            .send()
    };
    let first = update(ROLE_2).await.unwrap().association.unwrap();
    // Replayed: no "must change something" error although the role is already ROLE_2.
    let replay = update(ROLE_2).await.unwrap().association.unwrap();
    assert_eq!(first, replay);
    let mismatch = update(ROLE).await.unwrap_err().into_service_error();
    assert!(mismatch.is_invalid_parameter_exception(), "{mismatch:?}");
    // Without the token, the same no-op update is refused.
    let noop = eks
        .update_pod_identity_association()
        .cluster_name(CLUSTER)
        .association_id(&id)
        .role_arn(ROLE_2)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(noop.is_invalid_parameter_exception());
}

#[tokio::test]
async fn association_ids_must_be_19_characters() {
    let emu = start().await;
    let eks = client(&emu);
    let expected = "The parameter associationId should be 19 characters long.";
    for id in ["a-short", "a-0123456789abcdefgh"] {
        let e = eks
            .describe_pod_identity_association()
            .cluster_name(CLUSTER)
            .association_id(id)
            .send()
            .await;
        let e = e.unwrap_err().into_service_error();
        assert!(e.is_invalid_parameter_exception(), "{e:?}");
        assert_eq!(e.message(), Some(expected));
        let e = eks
            .update_pod_identity_association()
            .cluster_name(CLUSTER)
            .association_id(id)
            .role_arn(ROLE)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(e.is_invalid_parameter_exception());
        assert_eq!(e.message(), Some(expected));
        let e = eks
            .delete_pod_identity_association()
            .cluster_name(CLUSTER)
            .association_id(id)
            .send()
            .await;
        let e = e.unwrap_err().into_service_error();
        assert!(e.is_invalid_parameter_exception());
        assert_eq!(e.message(), Some(expected));
    }
    // 19 characters but unknown: not found, naming the id.
    let e = eks
        .update_pod_identity_association()
        .cluster_name(CLUSTER)
        .association_id("a-0123456789abcdefg")
        .role_arn(ROLE)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_resource_not_found_exception(), "{e:?}");
    assert!(e.message().unwrap().contains("a-0123456789abcdefg"));
}

#[tokio::test]
async fn unknown_cluster_is_resource_not_found() {
    let emu = start().await;
    let eks = client(&emu);
    let expected = Some("No cluster found for name: nope.");
    let e = eks
        .create_pod_identity_association()
        .cluster_name("nope")
        .namespace("ns")
        .service_account("sa")
        .role_arn(ROLE)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(404));
    let e = e.into_service_error();
    assert!(e.is_resource_not_found_exception());
    assert_eq!(e.message(), expected);
    let e = eks
        .list_pod_identity_associations()
        .cluster_name("nope")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_resource_not_found_exception());
    assert_eq!(e.message(), expected);
    let e = eks
        .describe_pod_identity_association()
        .cluster_name("nope")
        .association_id("a-0123456789abcdefg")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_resource_not_found_exception());
    assert_eq!(e.message(), expected);
    let e = eks
        .describe_cluster()
        .name("nope")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_resource_not_found_exception());

    // An association is only found in its own cluster.
    emu.add_cluster(ClusterConfig::new("other"));
    let id = create(&eks, "ns", "sa").await.association_id.unwrap();
    let e = eks
        .describe_pod_identity_association()
        .cluster_name("other")
        .association_id(&id)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_resource_not_found_exception());
}

#[tokio::test]
async fn update_must_change_something_and_empty_strings_clear() {
    let emu = start().await;
    let eks = client(&emu);
    let created = eks
        .create_pod_identity_association()
        .cluster_name(CLUSTER)
        .namespace("ns")
        .service_account("sa")
        .role_arn(ROLE)
        .target_role_arn(TARGET)
        .send()
        .await
        .unwrap()
        .association
        .unwrap();
    let id = created.association_id().unwrap();
    let update = || {
        eks.update_pod_identity_association()
            .cluster_name(CLUSTER)
            .association_id(id)
    };

    for request in [
        update(),
        update().role_arn(ROLE),
        update().target_role_arn(TARGET),
        update().disable_session_tags(false),
    ] {
        let e = request.send().await.unwrap_err().into_service_error();
        assert!(e.is_invalid_parameter_exception(), "{e:?}");
        assert!(e.message().unwrap().contains("must change at least one"), "{e:?}");
    }

    let cleared = update().target_role_arn("").send().await.unwrap().association.unwrap();
    assert_eq!(cleared.target_role_arn(), None);
    assert_eq!(cleared.role_arn(), Some(ROLE));
    // Clearing what is already clear changes nothing.
    let e = update()
        .target_role_arn("")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_invalid_parameter_exception());

    let toggled = update()
        .disable_session_tags(true)
        .send()
        .await
        .unwrap()
        .association
        .unwrap();
    assert_eq!(toggled.disable_session_tags(), Some(true));
    assert_eq!(toggled.target_role_arn(), None);

    let e = update()
        .target_role_arn("not-an-arn")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_invalid_parameter_exception());
    let described = eks
        .describe_pod_identity_association()
        .cluster_name(CLUSTER)
        .association_id(id)
        .send()
        .await;
    assert_eq!(
        described.unwrap().association.unwrap(),
        toggled,
        "a refused update changes nothing"
    );
}

#[tokio::test]
async fn policy_requires_disabled_session_tags() {
    let emu = start().await;
    let eks = client(&emu);
    let e = eks
        .create_pod_identity_association()
        .cluster_name(CLUSTER)
        .namespace("ns")
        .service_account("sa")
        .role_arn(ROLE)
        .policy(POLICY)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_invalid_parameter_exception(), "{e:?}");
    assert!(e.message().unwrap().contains("disableSessionTags"));
    assert_eq!(emu.association_count(CLUSTER), 0);

    let id = create(&eks, "ns", "sa").await.association_id.unwrap();
    let update = || {
        eks.update_pod_identity_association()
            .cluster_name(CLUSTER)
            .association_id(&id)
    };
    let e = update().policy(POLICY).send().await.unwrap_err().into_service_error();
    assert!(e.is_invalid_parameter_exception(), "{e:?}");
    let e = update()
        .policy("not json")
        .disable_session_tags(true)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_invalid_parameter_exception(), "{e:?}");

    let with_policy = update()
        .policy(POLICY)
        .disable_session_tags(true)
        .send()
        .await
        .unwrap()
        .association
        .unwrap();
    assert_eq!(with_policy.policy(), Some(POLICY));
    // Turning session tags back on while the policy stays is refused (rule checked on the result)...
    let e = update()
        .disable_session_tags(false)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_invalid_parameter_exception(), "{e:?}");
    // ...unless the policy is cleared in the same update.
    let cleared = update()
        .policy("")
        .disable_session_tags(false)
        .send()
        .await
        .unwrap()
        .association
        .unwrap();
    assert_eq!(cleared.policy(), None);
    assert_eq!(cleared.disable_session_tags(), Some(false));
}

#[tokio::test]
async fn tag_limits_on_create() {
    let emu = start().await;
    let eks = client(&emu);
    let tags = |n: usize| {
        (0..n)
            .map(|i| (format!("key-{i}"), format!("value-{i}")))
            .collect::<HashMap<_, _>>()
    };
    let with_tags = |sa: &'static str, tags: HashMap<String, String>| {
        eks.create_pod_identity_association()
            .cluster_name(CLUSTER)
            .namespace("ns")
            .service_account(sa)
            .role_arn(ROLE)
            .set_tags(Some(tags))
            .send()
    };
    let e = with_tags("sa", tags(51)).await.unwrap_err().into_service_error();
    assert!(e.is_invalid_parameter_exception(), "{e:?}");
    let ok = with_tags("sa", tags(50)).await.unwrap().association.unwrap();
    assert_eq!(ok.tags().unwrap().len(), 50);

    for (key, value) in [("aws:owner", "x"), ("AWS:Owner", "x"), ("owner", "aws:x"), ("", "x")] {
        let e = with_tags("sa2", [(key.to_owned(), value.to_owned())].into())
            .await
            .unwrap_err()
            .into_service_error();
        assert!(e.is_invalid_parameter_exception(), "{key}={value}: {e:?}");
    }
    let e = with_tags("sa2", [("k".repeat(129), "v".to_owned())].into())
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_invalid_parameter_exception());
    let e = with_tags("sa2", [("k".to_owned(), "v".repeat(257))].into())
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_invalid_parameter_exception());
    with_tags("sa2", [("k".repeat(128), "v".repeat(256))].into())
        .await
        .unwrap();

    emu.set_allow_system_tags(true);
    let system = with_tags(
        "sa3",
        [("aws:cloudformation:stack-name".to_owned(), "s".to_owned())].into(),
    )
    .await;
    assert!(system.is_ok(), "{system:?}");
}

#[tokio::test]
async fn roles_must_exist_and_trust_pod_identity() {
    let emu = start().await;
    let eks = client(&emu);
    let new_role = "arn:aws:iam::111122223333:role/created-just-now";
    let create_with = |role: &'static str| {
        eks.create_pod_identity_association()
            .cluster_name(CLUSTER)
            .namespace("ns")
            .service_account("sa")
            .role_arn(role)
            .send()
    };
    let e = create_with(new_role).await.unwrap_err();
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(400));
    let e = e.into_service_error();
    assert!(e.is_invalid_parameter_exception(), "{e:?}");
    assert_eq!(e.code(), Some("InvalidParameterException"));
    assert!(e.message().unwrap().contains(ROLE_DOES_NOT_EXIST));
    assert_eq!(ROLE_DOES_NOT_EXIST, "Role provided in the request does not exist");

    emu.put_role(new_role, json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}));
    let e = create_with(new_role).await.unwrap_err().into_service_error();
    assert!(e.is_invalid_parameter_exception());
    assert!(e.message().unwrap().contains(TRUST_POLICY_INVALID));

    emu.put_role(new_role, pia_emulator::pod_identity_trust_policy());
    let id = create_with(new_role)
        .await
        .unwrap()
        .association
        .unwrap()
        .association_id
        .unwrap();

    // Updating to a role that is gone is refused the same way.
    emu.delete_role(ROLE_2);
    let e = eks
        .update_pod_identity_association()
        .cluster_name(CLUSTER)
        .association_id(&id)
        .role_arn(ROLE_2)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_invalid_parameter_exception());
    assert!(e.message().unwrap().contains(ROLE_DOES_NOT_EXIST));

    // Another account, and things that are not role ARNs.
    for role in [
        "arn:aws:iam::999999999999:role/demo-pod-role",
        "arn:aws:iam::111122223333:user/demo",
        "demo-pod-role",
    ] {
        let e = eks
            .create_pod_identity_association()
            .cluster_name(CLUSTER)
            .namespace("ns")
            .service_account("other")
            .role_arn(role)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(e.is_invalid_parameter_exception(), "{role}: {e:?}");
    }

    // With role checks off, any well-formed role ARN is taken.
    emu.set_check_roles(false);
    let ok = eks
        .create_pod_identity_association()
        .cluster_name(CLUSTER)
        .namespace("ns")
        .service_account("other")
        .role_arn("arn:aws:iam::999999999999:role/anything")
        .send()
        .await;
    assert!(ok.is_ok(), "{ok:?}");
}

#[tokio::test]
async fn association_quota_is_resource_limit_exceeded() {
    let emu = start().await;
    emu.set_max_associations_per_cluster(3);
    let eks = client(&emu);
    for sa in ["a", "b", "c"] {
        create(&eks, "ns", sa).await;
    }
    let e = eks
        .create_pod_identity_association()
        .cluster_name(CLUSTER)
        .namespace("ns")
        .service_account("d")
        .role_arn(ROLE)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_resource_limit_exceeded_exception(), "{e:?}");
    assert_eq!(emu.association_count(CLUSTER), 3);
}

#[tokio::test]
async fn list_pages_through_250_associations_with_filters() {
    let emu = start().await;
    let eks = client(&emu);
    let mut created = Vec::new();
    for i in 0..250 {
        let a = create(&eks, &format!("ns-{}", i % 5), &format!("sa-{}", i / 5)).await;
        created.push(a.association_id.unwrap());
    }

    let page = |namespace: Option<&str>, service_account: Option<&str>, max: Option<i32>, token: Option<String>| {
        eks.list_pod_identity_associations()
            .cluster_name(CLUSTER)
            .set_namespace(namespace.map(str::to_owned))
            .set_service_account(service_account.map(str::to_owned))
            .set_max_results(max)
            .set_next_token(token)
            .send()
    };
    let collect = async |namespace: Option<&str>, service_account: Option<&str>, max: Option<i32>| {
        let mut ids = Vec::new();
        let mut sizes = Vec::new();
        let mut token = None;
        loop {
            let out = page(namespace, service_account, max, token).await.unwrap();
            sizes.push(out.associations().len());
            for s in out.associations() {
                if let Some(ns) = namespace {
                    assert_eq!(s.namespace(), Some(ns));
                }
                if let Some(sa) = service_account {
                    assert_eq!(s.service_account(), Some(sa));
                }
                ids.push(s.association_id().unwrap().to_owned());
            }
            match out.next_token() {
                Some(next) => token = Some(next.to_owned()),
                None => return (ids, sizes),
            }
        }
    };

    let (all, sizes) = collect(None, None, None).await;
    assert_eq!(sizes, vec![100, 100, 50]);
    assert_eq!(all, created, "default page size 100, creation order");

    let (ns2, sizes) = collect(Some("ns-2"), None, Some(20)).await;
    assert_eq!(sizes, vec![20, 20, 10]);
    let expected: Vec<String> = created
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 5 == 2)
        .map(|(_, id)| id.clone())
        .collect();
    assert_eq!(ns2, expected);

    let (sa7, sizes) = collect(None, Some("sa-7"), Some(2)).await;
    assert_eq!(sizes, vec![2, 2, 1]);
    assert_eq!(sa7, created[35..40].to_vec());

    let (one, _) = collect(Some("ns-3"), Some("sa-7"), None).await;
    assert_eq!(one, vec![created[38].clone()]);
    let (none, _) = collect(Some("ns-9"), None, None).await;
    assert!(none.is_empty());

    // An exact fit ends without a token.
    let (exact, sizes) = collect(Some("ns-0"), None, Some(50)).await;
    assert_eq!((exact.len(), sizes), (50, vec![50]));

    // The SDK's paginator agrees.
    let mut paginated = HashSet::new();
    let mut stream = eks
        .list_pod_identity_associations()
        .cluster_name(CLUSTER)
        .max_results(33)
        .into_paginator()
        .items()
        .send();
    while let Some(item) = stream.next().await {
        paginated.insert(item.unwrap().association_id.unwrap());
    }
    assert_eq!(paginated.len(), 250);

    for bad in [0, 101, -1] {
        let e = page(None, None, Some(bad), None)
            .await
            .unwrap_err()
            .into_service_error();
        assert!(e.is_invalid_parameter_exception(), "maxResults {bad}: {e:?}");
    }
    for bad in ["garbage", "1.2", "ff.00000000"] {
        let e = page(None, None, None, Some(bad.to_owned()))
            .await
            .unwrap_err()
            .into_service_error();
        assert!(e.is_invalid_parameter_exception(), "token {bad}: {e:?}");
    }
    // A token is tied to its cluster.
    emu.add_cluster(ClusterConfig::new("other"));
    let token = page(None, None, Some(1), None).await.unwrap().next_token.unwrap();
    let e = eks
        .list_pod_identity_associations()
        .cluster_name("other")
        .next_token(token)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_invalid_parameter_exception());
}

#[tokio::test]
async fn describe_cluster_reports_seeded_clusters() {
    let emu = start().await;
    let eks = client(&emu);
    let cluster = eks
        .describe_cluster()
        .name(CLUSTER)
        .send()
        .await
        .unwrap()
        .cluster
        .unwrap();
    assert_eq!(cluster.name(), Some(CLUSTER));
    assert_eq!(
        cluster.arn(),
        Some(format!("arn:aws:eks:us-east-1:{ACCOUNT}:cluster/{CLUSTER}").as_str())
    );
    assert_eq!(cluster.status().map(|s| s.as_str()), Some("ACTIVE"));
    assert!(cluster.version().is_some());
    assert!(cluster.endpoint().unwrap().starts_with("https://"));
    assert!(cluster.created_at().is_some());
    let issuer = cluster.identity().unwrap().oidc().unwrap().issuer().unwrap();
    assert!(
        issuer.starts_with("https://oidc.eks.us-east-1.amazonaws.com/id/"),
        "{issuer}"
    );

    emu.add_cluster(ClusterConfig {
        region: "eu-west-1".into(),
        ..ClusterConfig::new("euro")
    });
    // Each region lists its own clusters.
    let clusters = eks.list_clusters().send().await.unwrap();
    assert_eq!(clusters.clusters(), ["demo".to_owned()]);
    assert_eq!(clusters.next_token(), None);
    let in_europe = aws_sdk_eks::Client::from_conf(
        aws_sdk_eks::config::Builder::from(&emu.sdk_config())
            .region(aws_sdk_eks::config::Region::new("eu-west-1"))
            .build(),
    );
    let clusters = in_europe.list_clusters().send().await.unwrap();
    assert_eq!(clusters.clusters(), ["euro".to_owned()]);
    // Paged by maxResults, continued with nextToken; the SDK's paginator walks the pages.
    emu.add_cluster(ClusterConfig::new("kappa"));
    emu.add_cluster(ClusterConfig::new("zeta"));
    let first = eks.list_clusters().max_results(2).send().await.unwrap();
    assert_eq!(first.clusters(), ["demo".to_owned(), "kappa".to_owned()]);
    let token = first.next_token().expect("a next page");
    let second = eks
        .list_clusters()
        .max_results(2)
        .next_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(second.clusters(), ["zeta".to_owned()]);
    assert_eq!(second.next_token(), None);
    let walked: Vec<String> = eks
        .list_clusters()
        .max_results(1)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(walked, ["demo", "kappa", "zeta"]);
    for (max, token) in [(Some(0), None), (Some(101), None), (None, Some("garbage"))] {
        let e = eks
            .list_clusters()
            .set_max_results(max)
            .set_next_token(token.map(str::to_owned))
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.code(), Some("InvalidParameterException"), "{max:?} {token:?}");
    }
    let euro = in_europe
        .describe_cluster()
        .name("euro")
        .send()
        .await
        .unwrap()
        .cluster
        .unwrap();
    assert_eq!(
        euro.arn(),
        Some(format!("arn:aws:eks:eu-west-1:{ACCOUNT}:cluster/euro").as_str())
    );
}

#[tokio::test]
async fn every_error_kind_reaches_the_sdk_with_its_code_and_status() {
    let emu = start().await;
    let eks = client(&emu);
    for kind in ErrorKind::ALL {
        emu.inject("CreatePodIdentityAssociation", Fault::Error(kind), 1);
        let e = eks
            .create_pod_identity_association()
            .cluster_name(CLUSTER)
            .namespace("ns")
            .service_account("sa")
            .role_arn(ROLE)
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            e.raw_response().map(|r| r.status().as_u16()),
            Some(kind.status().as_u16()),
            "{kind:?}"
        );
        let e = e.into_service_error();
        assert_eq!(e.code(), Some(kind.name()), "{kind:?}");
        let modeled = match kind {
            ErrorKind::InvalidParameter => e.is_invalid_parameter_exception(),
            ErrorKind::InvalidRequest => e.is_invalid_request_exception(),
            ErrorKind::ResourceInUse => e.is_resource_in_use_exception(),
            ErrorKind::ResourceLimitExceeded => e.is_resource_limit_exceeded_exception(),
            ErrorKind::ResourceNotFound => e.is_resource_not_found_exception(),
            ErrorKind::Server => e.is_server_exception(),
            // Not in CreatePodIdentityAssociation's model: unhandled, but with the code.
            _ => e.meta().code() == Some(kind.name()),
        };
        assert!(modeled, "{kind:?}: {e:?}");
        assert!(e.message().unwrap().contains("injected"), "{kind:?}");
    }
    assert_eq!(emu.association_count(CLUSTER), 0, "faulted requests are not applied");

    for kind in [ErrorKind::BadRequest, ErrorKind::NotFound] {
        emu.inject("ListTagsForResource", Fault::Error(kind), 1);
        let e = eks
            .list_tags_for_resource()
            .resource_arn(format!("arn:aws:eks:us-east-1:{ACCOUNT}:cluster/{CLUSTER}"))
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        let modeled = match kind {
            ErrorKind::BadRequest => e.is_bad_request_exception(),
            _ => e.is_not_found_exception(),
        };
        assert!(modeled, "{kind:?}: {e:?}");
    }
}

#[tokio::test]
async fn errors_on_the_wire_have_the_type_header_and_a_json_body() {
    let emu = start().await;
    let (status, headers, body) = raw_request(
        &emu,
        "POST",
        "/clusters/nope/pod-identity-associations",
        Some(r#"{"namespace":"ns","serviceAccount":"sa","roleArn":"x"}"#),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(header(&headers, "x-amzn-errortype"), Some("ResourceNotFoundException"));
    assert_eq!(header(&headers, "content-type"), Some("application/json"));
    assert!(header(&headers, "x-amzn-requestid").is_some());
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body,
        json!({"message": "No cluster found for name: nope.", "clusterName": "nope"})
    );

    let (status, headers, body) = raw_request(
        &emu,
        "POST",
        "/clusters/demo/pod-identity-associations",
        Some(r#"{"namespace":"ns"}"#),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(header(&headers, "x-amzn-errortype"), Some("InvalidParameterException"));
    assert!(body.contains("serviceAccount"), "{body}");

    let (status, headers, _) = raw_request(
        &emu,
        "POST",
        "/clusters/demo/pod-identity-associations",
        Some("{not json"),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(header(&headers, "x-amzn-errortype"), Some("InvalidRequestException"));

    let (status, headers, _) = raw_request(&emu, "GET", "/no/such/operation", None).await;
    assert_eq!(status, 404);
    assert_eq!(header(&headers, "x-amzn-errortype"), Some("NotFoundException"));
    let (status, _, _) = raw_request(&emu, "PUT", "/clusters/demo/pod-identity-associations", None).await;
    assert_eq!(status, 404);
}
