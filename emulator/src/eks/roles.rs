//! The role checks of CreatePodIdentityAssociation and UpdatePodIdentityAssociation.

use serde_json::Value;

use super::error::{ApiError, CROSS_ACCOUNT_PASS_ROLE, ROLE_DOES_NOT_EXIST, TRUST_POLICY_INVALID};
use super::validate;
use crate::clock::now_epoch_seconds;
use crate::config::POD_IDENTITY_PRINCIPAL;
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
    if arn.account_id != cluster.account_id || arn.partition != cluster.partition {
        return Err(ApiError::invalid_parameter(CROSS_ACCOUNT_PASS_ROLE).with_cluster(&cluster.name));
    }
    let Some(trust_policy) = roles.visible_to_eks(role_arn, now_epoch_seconds()) else {
        return Err(ApiError::invalid_parameter(ROLE_DOES_NOT_EXIST).with_cluster(&cluster.name));
    };
    if !trust_policy_allows_pod_identity(trust_policy) {
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

/// Whether a trust policy lets EKS Pod Identity use the role: some `Allow` statement names the service
/// principal `pods.eks.amazonaws.com`.
///
/// Deliberately small: a proper IAM policy evaluator replaces it later. The document may be given as a
/// JSON value or as a JSON string (URL-encoded documents, as IAM returns them, are not decoded).
fn trust_policy_allows_pod_identity(policy: &Value) -> bool {
    let parsed;
    let policy = match policy {
        Value::String(text) => match serde_json::from_str::<Value>(text) {
            Ok(value) => {
                parsed = value;
                &parsed
            }
            Err(_) => return false,
        },
        other => other,
    };
    let statements: Vec<&Value> = match policy.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => return false,
    };
    statements.into_iter().any(|statement| {
        statement.get("Effect").and_then(Value::as_str) == Some("Allow")
            && statement
                .get("Principal")
                .and_then(|principal| principal.get("Service"))
                .is_some_and(|service| match service {
                    Value::String(s) => s == POD_IDENTITY_PRINCIPAL,
                    Value::Array(items) => items.iter().any(|s| s.as_str() == Some(POD_IDENTITY_PRINCIPAL)),
                    _ => false,
                })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::pod_identity_trust_policy;
    use serde_json::json;

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
    }
}
