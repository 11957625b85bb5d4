//! The IAM reads role creation needs: a role, its attached policies, whether a managed policy exists.

use aws_sdk_iam::Client as IamClient;

use super::error::RoleError;
use crate::arn::RoleArn;
use crate::policy::{PolicyDocument, decode_policy_text};

/// A role as read from IAM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingRole {
    pub arn: RoleArn,
    pub trust_policy: PolicyDocument,
}

/// Reads a role's ARN and trust policy.
pub async fn fetch_role(client: &IamClient, role_name: &str) -> Result<ExistingRole, RoleError> {
    let role = get_role(client, role_name)
        .await?
        .ok_or_else(|| RoleError::NoSuchRole {
            name: role_name.to_owned(),
        })?;
    let trust_policy = role_trust_policy(&role)?;
    let arn = role.arn().parse().map_err(|_| RoleError::IncompleteResponse {
        operation: "GetRole",
        field: "Arn",
    })?;
    Ok(ExistingRole { arn, trust_policy })
}

/// The role's trust policy, parsed.
pub(super) fn role_trust_policy(role: &aws_sdk_iam::types::Role) -> Result<PolicyDocument, RoleError> {
    let text = role
        .assume_role_policy_document()
        .ok_or(RoleError::IncompleteResponse {
            operation: "GetRole",
            field: "AssumeRolePolicyDocument",
        })?;
    PolicyDocument::parse(&decode_policy_text(text)).map_err(|source| RoleError::UnreadableTrustPolicy {
        name: role.role_name().to_owned(),
        source,
    })
}

/// The role, or `None` when IAM answers NoSuchEntity.
pub(super) async fn get_role(
    client: &IamClient,
    role_name: &str,
) -> Result<Option<aws_sdk_iam::types::Role>, RoleError> {
    match client.get_role().role_name(role_name).send().await {
        Ok(output) => output.role.map(Some).ok_or(RoleError::IncompleteResponse {
            operation: "GetRole",
            field: "Role",
        }),
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_no_such_entity_exception()) =>
        {
            Ok(None)
        }
        Err(error) => Err(RoleError::iam("GetRole", error)),
    }
}

/// Fails with [`RoleError::NoSuchPolicy`] unless the managed policy exists (GetPolicy).
pub(super) async fn require_policy(client: &IamClient, policy_arn: &str) -> Result<(), RoleError> {
    match client.get_policy().policy_arn(policy_arn).send().await {
        Ok(_) => Ok(()),
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_no_such_entity_exception()) =>
        {
            Err(RoleError::NoSuchPolicy {
                arn: policy_arn.to_owned(),
            })
        }
        Err(error) => Err(RoleError::iam("GetPolicy", error)),
    }
}

pub(super) async fn attached_policy_arns(client: &IamClient, role_name: &str) -> Result<Vec<String>, RoleError> {
    let mut arns = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = client
            .list_attached_role_policies()
            .role_name(role_name)
            .set_marker(marker.take())
            .send()
            .await
            .map_err(|e| RoleError::iam("ListAttachedRolePolicies", e))?;
        arns.extend(
            page.attached_policies()
                .iter()
                .filter_map(|policy| policy.policy_arn().map(str::to_owned)),
        );
        match page.marker() {
            Some(next) if page.is_truncated() && !next.is_empty() => marker = Some(next.to_owned()),
            _ => return Ok(arns),
        }
    }
}
