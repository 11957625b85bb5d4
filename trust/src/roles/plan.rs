//! What a role creation will do, decided by reading only: every input checked (the path, each permission
//! policy's ARN and existence, that the credentials are of the cluster's account) and the trust policy merged,
//! so that nothing is written for a run that would fail on its input.

use aws_sdk_iam::Client as IamClient;

use super::error::RoleError;
use super::merge::merged_trust_policy;
use super::reads::{attached_policy_arns, get_role, require_policy, role_trust_policy};
use crate::arn::{ArnParts, ClusterArn};
use crate::diff::LineDiff;
use crate::generate::pod_identity_trust_policy;
use crate::policy::PolicyDocument;

/// The role to create or bring up to date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleSpec {
    pub name: String,
    /// `/` by default. An existing role's path is checked, never changed (IAM cannot).
    pub path: Option<String>,
    pub description: Option<String>,
    /// The cluster whose pods may assume the role (aws:SourceAccount and aws:SourceArn).
    pub cluster_arn: ClusterArn,
    /// Managed policy ARNs to attach (the role's permissions).
    pub permission_policy_arns: Vec<String>,
    /// What to do with an existing role's trust policy that does not admit the cluster.
    pub existing_policy: ExistingPolicy,
}

/// What happens to the trust policy of a role that exists already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExistingPolicy {
    /// Add the pod identity statement, keep every other statement; nothing is written when the policy admits
    /// the cluster already.
    Merge,
    /// Overwrite it with the pod identity policy (unless it is that policy already).
    Replace,
}

/// What happens to the role itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RoleChange {
    Created,
    TrustPolicyMerged,
    TrustPolicyReplaced,
    Unchanged,
}

/// The writes a run will make, and what it found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolePlan {
    pub name: String,
    pub path: String,
    pub description: Option<String>,
    /// The existing role's ARN, or the one CreateRole will give it.
    pub role_arn: String,
    pub change: RoleChange,
    /// The trust policy as it is (`None`: the role does not exist yet).
    pub current_policy: Option<PolicyDocument>,
    /// The trust policy the role will have.
    pub trust_policy: PolicyDocument,
    /// Permission policies to attach, and those attached already.
    pub to_attach: Vec<String>,
    pub already_attached: Vec<String>,
}

impl RolePlan {
    /// The trust policy before and after, as pretty JSON lines.
    pub fn trust_policy_diff(&self) -> LineDiff {
        let before = self
            .current_policy
            .as_ref()
            .map(PolicyDocument::to_pretty_json)
            .unwrap_or_default();
        LineDiff::new(&before, &self.trust_policy.to_pretty_json())
    }
}

/// Reads what exists and decides the writes; `caller_account` is the account of the credentials
/// (STS GetCallerIdentity).
pub async fn plan_role(client: &IamClient, spec: &RoleSpec, caller_account: &str) -> Result<RolePlan, RoleError> {
    let cluster = &spec.cluster_arn;
    let path = spec.path.clone().unwrap_or_else(|| "/".to_owned());
    if !path.starts_with('/') || !path.ends_with('/') {
        return Err(RoleError::InvalidPath { path });
    }
    if caller_account != cluster.account_id() {
        return Err(RoleError::AccountMismatch {
            caller: caller_account.to_owned(),
            cluster: cluster.account_id().to_owned(),
        });
    }
    let mut wanted: Vec<String> = Vec::new();
    for arn in &spec.permission_policy_arns {
        check_policy_arn(arn, cluster)?;
        if !wanted.contains(arn) {
            wanted.push(arn.clone());
        }
    }
    for arn in &wanted {
        require_policy(client, arn).await?;
    }

    let pod_identity = pod_identity_trust_policy(None, Some(&cluster.to_string()))?;
    let Some(existing) = get_role(client, &spec.name).await? else {
        return Ok(RolePlan {
            name: spec.name.clone(),
            role_arn: format!(
                "arn:{}:iam::{caller_account}:role{path}{}",
                cluster.partition(),
                spec.name
            ),
            path,
            description: spec.description.clone(),
            change: RoleChange::Created,
            current_policy: None,
            trust_policy: pod_identity,
            to_attach: wanted,
            already_attached: Vec::new(),
        });
    };
    if spec.path.is_some() && existing.path() != path {
        return Err(RoleError::PathMismatch {
            name: spec.name.clone(),
            existing: existing.path().to_owned(),
            requested: path,
        });
    }
    let (change, trust_policy, current_policy) = match spec.existing_policy {
        ExistingPolicy::Merge => {
            let current = role_trust_policy(&existing)?;
            match merged_trust_policy(&spec.name, &current, &pod_identity, cluster)? {
                Some(merged) => (RoleChange::TrustPolicyMerged, merged, current),
                None => (RoleChange::Unchanged, current.clone(), current),
            }
        }
        ExistingPolicy::Replace => {
            let current = role_trust_policy(&existing)?;
            if current.to_value() == pod_identity.to_value() {
                (RoleChange::Unchanged, pod_identity, current)
            } else {
                (RoleChange::TrustPolicyReplaced, pod_identity, current)
            }
        }
    };
    let attached_now = attached_policy_arns(client, &spec.name).await?;
    let (already_attached, to_attach) = wanted.into_iter().partition(|arn| attached_now.contains(arn));
    Ok(RolePlan {
        name: spec.name.clone(),
        path,
        description: spec.description.clone(),
        role_arn: existing.arn().to_owned(),
        change,
        current_policy: Some(current_policy),
        trust_policy,
        to_attach,
        already_attached,
    })
}

/// A managed policy the role can use: of AWS (`arn:aws:iam::aws:policy/…`) or of the cluster's account, in
/// the cluster's partition.
fn check_policy_arn(arn: &str, cluster: &ClusterArn) -> Result<(), RoleError> {
    let invalid = |reason: String| RoleError::InvalidPolicyArn {
        arn: arn.to_owned(),
        reason,
    };
    let parts = ArnParts::split(arn)
        .filter(|parts| parts.service == "iam" && parts.region.is_empty())
        .filter(|parts| {
            parts
                .resource
                .strip_prefix("policy/")
                .is_some_and(|name| !name.is_empty())
        })
        .ok_or_else(|| invalid("expected arn:PARTITION:iam::ACCOUNT:policy/NAME".to_owned()))?;
    if parts.partition != cluster.partition() {
        return Err(invalid(format!(
            "it is of partition {}, the cluster of partition {}",
            parts.partition,
            cluster.partition()
        )));
    }
    if parts.account != "aws" && parts.account != cluster.account_id() {
        return Err(invalid(format!(
            "a role can use managed policies of AWS (account `aws`) or of its own account {}, not of {}",
            cluster.account_id(),
            parts.account
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_arns_are_checked_before_any_call() {
        let cluster: ClusterArn = "arn:aws:eks:us-east-1:111122223333:cluster/demo".parse().unwrap();
        assert!(check_policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess", &cluster).is_ok());
        assert!(check_policy_arn("arn:aws:iam::111122223333:policy/team/app", &cluster).is_ok());
        for (arn, reason) in [
            ("ReadOnlyAccess", "expected arn:PARTITION:iam::ACCOUNT:policy/NAME"),
            (
                "arn:aws:iam::aws:role/x",
                "expected arn:PARTITION:iam::ACCOUNT:policy/NAME",
            ),
            ("arn:aws-cn:iam::aws:policy/ReadOnlyAccess", "of partition aws-cn"),
            ("arn:aws:iam::444455556666:policy/app", "not of 444455556666"),
        ] {
            let error = check_policy_arn(arn, &cluster).unwrap_err().to_string();
            assert!(error.contains(reason), "{arn}: {error}");
        }
    }
}
