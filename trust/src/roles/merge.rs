//! Bringing an existing trust policy to admit the cluster without losing what it admits already (EC2, other
//! clusters, other accounts): the pod identity statement is added, nothing is taken away.

use super::error::RoleError;
use crate::arn::ClusterArn;
use crate::check::{CheckInput, Severity, check_trust};
use crate::policy::PolicyDocument;

/// `current` with the statements of `pod_identity` added, or `None` when `current` admits the cluster's pods
/// already. Fails when even the merged policy refuses them (an explicit Deny): only replacing it would help.
pub(super) fn merged_trust_policy(
    role_name: &str,
    current: &PolicyDocument,
    pod_identity: &PolicyDocument,
    cluster: &ClusterArn,
) -> Result<Option<PolicyDocument>, RoleError> {
    if refusal(current, cluster).is_none() {
        return Ok(None);
    }
    let mut merged = current.clone();
    merged.statements.extend(pod_identity.statements.iter().cloned());
    match refusal(&merged, cluster) {
        None => Ok(Some(merged)),
        Some(problem) => Err(RoleError::MergeStillRefuses {
            name: role_name.to_owned(),
            problem,
        }),
    }
}

/// Why EKS Auth would not get credentials of the cluster's pods from a role with this trust policy, if not.
fn refusal(policy: &PolicyDocument, cluster: &ClusterArn) -> Option<String> {
    // check_trust fails only for a target role check, which this is not.
    let report = check_trust(policy, &CheckInput::new(cluster.clone())).ok()?;
    if report.will_work {
        return None;
    }
    let first_error = report
        .findings
        .iter()
        .find(|finding| finding.severity == Severity::Error);
    Some(first_error.map_or_else(
        || "EKS's request is not allowed".to_owned(),
        |finding| finding.problem.clone(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::pod_identity_trust_policy;

    const CLUSTER: &str = "arn:aws:eks:us-east-1:111122223333:cluster/demo";

    fn policy(text: &str) -> PolicyDocument {
        PolicyDocument::parse(text).unwrap()
    }

    #[test]
    fn other_statements_are_kept() {
        let cluster: ClusterArn = CLUSTER.parse().unwrap();
        let pod_identity = pod_identity_trust_policy(None, Some(CLUSTER)).unwrap();
        let ec2 = policy(
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}"#,
        );
        let merged = merged_trust_policy("app", &ec2, &pod_identity, &cluster)
            .unwrap()
            .unwrap();
        assert_eq!(merged.statements.len(), 2);
        assert_eq!(merged.statements[0], ec2.statements[0]);
        assert_eq!(merged.statements[1], pod_identity.statements[0]);
        // Once merged, there is nothing more to add.
        assert_eq!(
            merged_trust_policy("app", &merged, &pod_identity, &cluster).unwrap(),
            None
        );
    }

    #[test]
    fn a_deny_cannot_be_merged_away() {
        let cluster: ClusterArn = CLUSTER.parse().unwrap();
        let pod_identity = pod_identity_trust_policy(None, Some(CLUSTER)).unwrap();
        let deny = policy(
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": "sts:*"}]}"#,
        );
        let error = merged_trust_policy("app", &deny, &pod_identity, &cluster).unwrap_err();
        assert!(error.to_string().contains("pass --replace"), "{error}");
        assert!(error.to_string().contains("denies sts:AssumeRole"), "{error}");
    }
}
