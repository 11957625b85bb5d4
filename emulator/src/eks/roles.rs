//! The role checks of CreatePodIdentityAssociation and UpdatePodIdentityAssociation.

use super::error::{ApiError, CROSS_ACCOUNT_PASS_ROLE, ROLE_DOES_NOT_EXIST, TRUST_POLICY_INVALID};
use super::validate;
use crate::clock::now_epoch_seconds;
use crate::config::POD_IDENTITY_PRINCIPAL;
use crate::trust::trusts_service;
use crate::world::eks::Cluster;
use crate::world::iam::RoleRegistry;
use crate::world::state::Settings;

/// The role checks of Create and Update. Syntax is always checked; with `check_roles`, the role must
/// be in the cluster's account, known to the registry, and trust `pods.eks.amazonaws.com`.
pub(super) fn check_role(
    roles: &RoleRegistry,
    settings: &Settings,
    cluster: &Cluster,
    role_arn: &str,
) -> Result<(), ApiError> {
    let Some(arn) = validate::parse_role_arn(role_arn) else {
        return Err(
            ApiError::invalid_parameter(format!("The roleArn {role_arn:?} is not a valid IAM role ARN."))
                .with_cluster(&cluster.name),
        );
    };
    if !settings.check_roles {
        return Ok(());
    }
    if arn.account_id() != cluster.account_id || arn.partition() != cluster.partition {
        return Err(ApiError::invalid_parameter(CROSS_ACCOUNT_PASS_ROLE).with_cluster(&cluster.name));
    }
    let Some(trust_policy) = roles.visible_to_eks(role_arn, now_epoch_seconds()) else {
        return Err(ApiError::invalid_parameter(ROLE_DOES_NOT_EXIST).with_cluster(&cluster.name));
    };
    if !trusts_service(trust_policy, POD_IDENTITY_PRINCIPAL) {
        return Err(ApiError::invalid_parameter(TRUST_POLICY_INVALID).with_cluster(&cluster.name));
    }
    Ok(())
}

/// targetRoleArn: any account, but an IAM role ARN.
pub(super) fn check_target_role(cluster: &Cluster, target_role_arn: &str) -> Result<(), ApiError> {
    match validate::parse_role_arn(target_role_arn) {
        Some(_) => Ok(()),
        None => Err(ApiError::invalid_parameter(format!(
            "The targetRoleArn {target_role_arn:?} is not a valid IAM role ARN."
        ))
        .with_cluster(&cluster.name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::pod_identity_trust_policy;
    use serde_json::{Value, json};

    fn trust_policy_allows_pod_identity(policy: &Value) -> bool {
        trusts_service(policy, POD_IDENTITY_PRINCIPAL)
    }

    #[test]
    fn trust_check_needs_an_allow_statement_for_the_pod_principal() {
        assert!(trust_policy_allows_pod_identity(&pod_identity_trust_policy()));
        assert!(trust_policy_allows_pod_identity(&Value::String(
            pod_identity_trust_policy().to_string()
        )));
        let single = json!({"Statement": {"Effect": "Allow", "Principal": {"Service": ["ec2.amazonaws.com", POD_IDENTITY_PRINCIPAL]}, "Action": "sts:AssumeRole"}});
        assert!(trust_policy_allows_pod_identity(&single));
        let deny = json!({"Statement": [{"Effect": "Deny", "Principal": {"Service": POD_IDENTITY_PRINCIPAL}, "Action": "sts:AssumeRole"}]});
        assert!(!trust_policy_allows_pod_identity(&deny));
        let other = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
        assert!(!trust_policy_allows_pod_identity(&other));
        assert!(!trust_policy_allows_pod_identity(&json!({})));
        assert!(!trust_policy_allows_pod_identity(&Value::String("not json".into())));
        // Conditions are EKS Auth's to meet, per pod: EKS accepts the role whatever they test.
        let conditional = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": POD_IDENTITY_PRINCIPAL}, "Action": ["sts:AssumeRole", "sts:TagSession"], "Condition": {"StringEquals": {"aws:RequestTag/kubernetes-namespace": "payments"}}}]});
        assert!(trust_policy_allows_pod_identity(&conditional));
        let denied_conditionally = json!({"Statement": [
            {"Effect": "Allow", "Principal": {"Service": POD_IDENTITY_PRINCIPAL}, "Action": "sts:AssumeRole"},
            {"Effect": "Deny", "Principal": {"Service": POD_IDENTITY_PRINCIPAL}, "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"aws:SourceAccount": "444455556666"}}}]});
        assert!(trust_policy_allows_pod_identity(&denied_conditionally));
    }
}
