//! TagResource, UntagResource and ListTagsForResource through the real client, and the ARN in the path.

mod common;

use std::collections::HashMap;

use aws_sdk_eks::error::ProvideErrorMetadata;
use common::*;

fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[tokio::test]
async fn tag_untag_and_list_an_association() {
    let emu = start().await;
    let eks = client(&emu);
    let association = eks
        .create_pod_identity_association()
        .cluster_name(CLUSTER)
        .namespace("ns")
        .service_account("sa")
        .role_arn(ROLE)
        .tags("created", "yes")
        .send()
        .await
        .unwrap()
        .association
        .unwrap();
    // The SDK percent-encodes the ARN's colons and slashes into one path segment.
    let arn = association.association_arn().unwrap();
    let list = || eks.list_tags_for_resource().resource_arn(arn).send();
    assert_eq!(list().await.unwrap().tags(), Some(&map(&[("created", "yes")])));

    eks.tag_resource()
        .resource_arn(arn)
        .tags("team", "blue")
        .tags("env", "dev")
        .send()
        .await
        .unwrap();
    assert_eq!(
        list().await.unwrap().tags(),
        Some(&map(&[("created", "yes"), ("team", "blue"), ("env", "dev")]))
    );
    // Tagging an existing key overwrites it.
    eks.tag_resource()
        .resource_arn(arn)
        .tags("team", "red")
        .send()
        .await
        .unwrap();

    eks.untag_resource()
        .resource_arn(arn)
        .tag_keys("created")
        .tag_keys("env")
        .tag_keys("absent")
        .send()
        .await
        .unwrap();
    assert_eq!(list().await.unwrap().tags(), Some(&map(&[("team", "red")])));

    // Describe shows the same tags.
    let described = eks
        .describe_pod_identity_association()
        .cluster_name(CLUSTER)
        .association_id(association.association_id().unwrap())
        .send()
        .await
        .unwrap()
        .association
        .unwrap();
    assert_eq!(described.tags(), Some(&map(&[("team", "red")])));

    assert_eq!(emu.calls("TagResource"), 2);
    assert_eq!(emu.calls("UntagResource"), 1);
    assert_eq!(emu.calls("ListTagsForResource"), 3);
}

#[tokio::test]
async fn tag_a_cluster() {
    let emu = start().await;
    let eks = client(&emu);
    let arn = format!("arn:aws:eks:us-east-1:{ACCOUNT}:cluster/{CLUSTER}");
    eks.tag_resource()
        .resource_arn(&arn)
        .tags("k", "v")
        .send()
        .await
        .unwrap();
    let tags = eks.list_tags_for_resource().resource_arn(&arn).send().await.unwrap();
    assert_eq!(tags.tags(), Some(&map(&[("k", "v")])));
    let cluster = eks
        .describe_cluster()
        .name(CLUSTER)
        .send()
        .await
        .unwrap()
        .cluster
        .unwrap();
    assert_eq!(cluster.tags(), Some(&map(&[("k", "v")])));
}

#[tokio::test]
async fn unknown_resources_are_not_found_and_malformed_arns_bad_requests() {
    let emu = start().await;
    let eks = client(&emu);
    let existing = create(&eks, "ns", "sa").await;
    let id = existing.association_id().unwrap();
    for arn in [
        format!("arn:aws:eks:us-east-1:{ACCOUNT}:podidentityassociation/{CLUSTER}/a-0123456789abcdefg"),
        format!("arn:aws:eks:us-east-1:{ACCOUNT}:podidentityassociation/nope/{id}"),
        format!("arn:aws:eks:us-east-1:{ACCOUNT}:cluster/nope"),
        format!("arn:aws:eks:eu-west-1:{ACCOUNT}:podidentityassociation/{CLUSTER}/{id}"),
        format!("arn:aws:eks:us-east-1:999999999999:cluster/{CLUSTER}"),
    ] {
        let e = eks
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(404), "{arn}");
        let e = e.into_service_error();
        assert!(e.is_not_found_exception(), "{arn}: {e:?}");
        let e = eks
            .tag_resource()
            .resource_arn(&arn)
            .tags("k", "v")
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(e.is_not_found_exception(), "{arn}: {e:?}");
        let e = eks
            .untag_resource()
            .resource_arn(&arn)
            .tag_keys("k")
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(e.is_not_found_exception(), "{arn}: {e:?}");
    }
    for arn in [
        "not-an-arn".to_owned(),
        format!("arn:aws:iam::{ACCOUNT}:role/demo-pod-role"),
        format!("arn:aws:eks:us-east-1:{ACCOUNT}:nodegroup/{CLUSTER}/ng/1"),
    ] {
        let e = eks
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(400), "{arn}");
        let e = e.into_service_error();
        assert!(e.is_bad_request_exception(), "{arn}: {e:?}");
        assert_eq!(e.code(), Some("BadRequestException"));
    }
}

#[tokio::test]
async fn tag_rules_are_bad_requests() {
    let emu = start().await;
    let eks = client(&emu);
    let arn = create(&eks, "ns", "sa").await.association_arn.unwrap();
    let forty_nine: HashMap<String, String> = (0..49).map(|i| (format!("k{i}"), "v".to_owned())).collect();
    eks.tag_resource()
        .resource_arn(&arn)
        .set_tags(Some(forty_nine))
        .send()
        .await
        .unwrap();
    eks.tag_resource()
        .resource_arn(&arn)
        .tags("k50", "v")
        .send()
        .await
        .unwrap();
    // 51 in all, counting the ones already there.
    let e = eks
        .tag_resource()
        .resource_arn(&arn)
        .tags("k51", "v")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_bad_request_exception(), "{e:?}");
    // Overwriting an existing key keeps the count at 50.
    eks.tag_resource()
        .resource_arn(&arn)
        .tags("k0", "new")
        .send()
        .await
        .unwrap();
    let tags = eks
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap()
        .tags
        .unwrap();
    assert_eq!(tags.len(), 50);
    assert_eq!(tags["k0"], "new");

    eks.untag_resource()
        .resource_arn(&arn)
        .tag_keys("k0")
        .send()
        .await
        .unwrap();
    for (key, value) in [("aws:x", "v"), ("Aws:x", "v"), ("x", "aws:v"), ("", "v")] {
        let e = eks
            .tag_resource()
            .resource_arn(&arn)
            .tags(key, value)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(e.is_bad_request_exception(), "{key}={value}: {e:?}");
    }
    let e = eks
        .tag_resource()
        .resource_arn(&arn)
        .tags("k".repeat(129), "v")
        .send()
        .await
        .unwrap_err();
    assert!(e.into_service_error().is_bad_request_exception());
    let e = eks
        .tag_resource()
        .resource_arn(&arn)
        .tags("k", "v".repeat(257))
        .send()
        .await
        .unwrap_err();
    assert!(e.into_service_error().is_bad_request_exception());
    let e = eks
        .tag_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_bad_request_exception(), "no tags: {e:?}");
    let tags = eks
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap()
        .tags
        .unwrap();
    assert_eq!(tags.len(), 49, "refused tag requests change nothing");

    emu.set_allow_system_tags(true);
    eks.tag_resource()
        .resource_arn(&arn)
        .tags("aws:cloudformation:stack-name", "s")
        .send()
        .await
        .unwrap();
}

/// The ARN in the path works percent-encoded (as the SDK sends it) and with raw slashes.
#[tokio::test]
async fn arn_in_the_path_encoded_or_not() {
    let emu = start().await;
    let eks = client(&emu);
    let arn = create(&eks, "ns", "sa").await.association_arn.unwrap();
    eks.tag_resource()
        .resource_arn(&arn)
        .tags("k", "v")
        .send()
        .await
        .unwrap();
    let encoded = arn.replace(':', "%3A").replace('/', "%2F");
    for path in [
        format!("/tags/{encoded}"),
        format!("/tags/{arn}"),
        format!("/tags/{}", arn.replace('/', "%2F")),
    ] {
        let (status, _, body) = raw_request(&emu, "GET", &path, None).await;
        assert_eq!(status, 200, "{path}: {body}");
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body, serde_json::json!({"tags": {"k": "v"}}), "{path}");
    }
    let (status, _, _) = raw_request(&emu, "DELETE", &format!("/tags/{encoded}?tagKeys=k"), None).await;
    assert_eq!(status, 200);
    let tags = eks
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap()
        .tags
        .unwrap();
    assert!(tags.is_empty());
}
