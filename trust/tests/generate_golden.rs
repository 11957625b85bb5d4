//! The generated policies, byte for byte: people paste them into consoles and templates, and diffs between
//! versions of this tool must show real changes only.

use pia_trust::{PolicyDocument, pod_identity_trust_policy, target_role_trust_policy};
use serde_json::json;

const CLUSTER: &str = "arn:aws:eks:us-east-1:111122223333:cluster/demo";

#[test]
fn pod_identity_policy_with_both_conditions_has_the_seed_shape() {
    let text = pod_identity_trust_policy(Some("111122223333"), Some(CLUSTER))
        .unwrap()
        .to_pretty_json();
    assert_eq!(
        text,
        r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "sts:AssumeRole",
        "sts:TagSession"
      ],
      "Principal": {
        "Service": "pods.eks.amazonaws.com"
      },
      "Condition": {
        "StringEquals": {
          "aws:SourceAccount": "111122223333"
        },
        "ArnEquals": {
          "aws:SourceArn": "arn:aws:eks:us-east-1:111122223333:cluster/demo"
        }
      }
    }
  ]
}"#
    );
}

#[test]
fn the_cluster_arn_alone_gives_both_conditions() {
    assert_eq!(
        pod_identity_trust_policy(None, Some(CLUSTER)).unwrap(),
        pod_identity_trust_policy(Some("111122223333"), Some(CLUSTER)).unwrap()
    );
}

#[test]
fn pod_identity_policy_without_conditions() {
    let text = pod_identity_trust_policy(None, None).unwrap().to_pretty_json();
    assert_eq!(
        text,
        r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "sts:AssumeRole",
        "sts:TagSession"
      ],
      "Principal": {
        "Service": "pods.eks.amazonaws.com"
      }
    }
  ]
}"#
    );
}

#[test]
fn pod_identity_policy_with_the_account_only() {
    let value = pod_identity_trust_policy(Some("111122223333"), None)
        .unwrap()
        .to_value();
    assert_eq!(
        value,
        json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Principal": {"Service": "pods.eks.amazonaws.com"},
            "Condition": {"StringEquals": {"aws:SourceAccount": "111122223333"}}
        }]})
    );
}

#[test]
fn target_role_policy() {
    let text = target_role_trust_policy("arn:aws:iam::111122223333:role/team/app", "0f5a4f1e-ext")
        .unwrap()
        .to_pretty_json();
    assert_eq!(
        text,
        r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "sts:AssumeRole",
        "sts:TagSession"
      ],
      "Principal": {
        "AWS": "arn:aws:iam::111122223333:role/team/app"
      },
      "Condition": {
        "StringEquals": {
          "sts:ExternalId": "0f5a4f1e-ext"
        }
      }
    }
  ]
}"#
    );
}

#[test]
fn generated_policies_read_back_identically() {
    for document in [
        pod_identity_trust_policy(Some("111122223333"), Some(CLUSTER)).unwrap(),
        pod_identity_trust_policy(None, None).unwrap(),
        target_role_trust_policy("arn:aws:iam::111122223333:role/app", "x").unwrap(),
    ] {
        // Compared as JSON values: reading goes through serde_json's map, which may order condition
        // operators differently from the generator; the meaning is the same.
        assert_eq!(
            PolicyDocument::parse(&document.to_pretty_json()).unwrap().to_value(),
            document.to_value()
        );
        assert_eq!(
            PolicyDocument::from_value(&document.to_value()).unwrap().to_value(),
            document.to_value()
        );
    }
}

#[test]
fn generated_policies_pass_their_own_check() {
    let document = pod_identity_trust_policy(None, Some(CLUSTER)).unwrap();
    let report = pia_trust::check_trust(&document, &pia_trust::CheckInput::new(CLUSTER.parse().unwrap())).unwrap();
    assert!(report.will_work, "{report}");
    assert!(
        report.findings.iter().all(|f| f.severity == pia_trust::Severity::Info),
        "{report}"
    );
}
