//! Making a plan's writes. A write that fails undoes the earlier writes of the run, last first, so that a
//! failed run leaves the role as it found it (or, for a role it created, no role at all).

use aws_sdk_iam::Client as IamClient;

use super::error::RoleError;
use super::outcome::RoleOutcome;
use super::plan::{RoleChange, RolePlan};
use crate::policy::PolicyDocument;

/// A write made, and how to take it back.
enum Undo {
    DeleteRole,
    RestoreTrustPolicy(PolicyDocument),
    Detach(String),
}

/// Makes the writes of `plan`: CreateRole or UpdateAssumeRolePolicy, then AttachRolePolicy for each policy
/// to attach.
pub async fn apply_role_plan(client: &IamClient, plan: &RolePlan) -> Result<RoleOutcome, RoleError> {
    let mut done = Vec::new();
    match write(client, plan, &mut done).await {
        Ok(role_arn) => Ok(RoleOutcome::from_plan(plan, role_arn, false)),
        Err(failed) => {
            let (undone, not_undone) = undo(client, plan, done).await;
            Err(RoleError::Undone {
                failed: Box::new(failed),
                undone,
                not_undone,
            })
        }
    }
}

async fn write(client: &IamClient, plan: &RolePlan, done: &mut Vec<Undo>) -> Result<String, RoleError> {
    let mut role_arn = plan.role_arn.clone();
    match (&plan.change, &plan.current_policy) {
        (RoleChange::Created, _) => {
            let created = client
                .create_role()
                .role_name(&plan.name)
                .path(&plan.path)
                .set_description(plan.description.clone())
                .assume_role_policy_document(plan.trust_policy.to_pretty_json())
                .send()
                .await
                .map_err(|e| RoleError::iam("CreateRole", e))?;
            done.push(Undo::DeleteRole);
            role_arn = created
                .role()
                .map(|role| role.arn().to_owned())
                .ok_or(RoleError::IncompleteResponse {
                    operation: "CreateRole",
                    field: "Role",
                })?;
        }
        (RoleChange::TrustPolicyMerged | RoleChange::TrustPolicyReplaced, Some(current)) => {
            update_trust_policy(client, &plan.name, &plan.trust_policy).await?;
            done.push(Undo::RestoreTrustPolicy(current.clone()));
        }
        _ => {}
    }
    for policy_arn in &plan.to_attach {
        client
            .attach_role_policy()
            .role_name(&plan.name)
            .policy_arn(policy_arn)
            .send()
            .await
            .map_err(|e| RoleError::iam("AttachRolePolicy", e))?;
        done.push(Undo::Detach(policy_arn.clone()));
    }
    Ok(role_arn)
}

/// Takes back `done`, last first: what was undone, and what is left behind (with the reason).
async fn undo(client: &IamClient, plan: &RolePlan, done: Vec<Undo>) -> (Vec<String>, Vec<String>) {
    let (mut undone, mut not_undone) = (Vec::new(), Vec::new());
    for step in done.into_iter().rev() {
        let (undone_text, left_text, result) = match step {
            Undo::Detach(policy_arn) => (
                format!("detached {policy_arn}"),
                format!("{policy_arn} attached"),
                client
                    .detach_role_policy()
                    .role_name(&plan.name)
                    .policy_arn(&policy_arn)
                    .send()
                    .await
                    .map(drop)
                    .map_err(|e| RoleError::iam("DetachRolePolicy", e)),
            ),
            Undo::RestoreTrustPolicy(previous) => (
                "restored the previous trust policy".to_owned(),
                "the new trust policy".to_owned(),
                update_trust_policy(client, &plan.name, &previous).await,
            ),
            Undo::DeleteRole => (
                format!("deleted the role {}", plan.name),
                format!("the role {}", plan.name),
                client
                    .delete_role()
                    .role_name(&plan.name)
                    .send()
                    .await
                    .map(drop)
                    .map_err(|e| RoleError::iam("DeleteRole", e)),
            ),
        };
        match result {
            Ok(()) => undone.push(undone_text),
            Err(error) => not_undone.push(format!("{left_text} ({error})")),
        }
    }
    (undone, not_undone)
}

async fn update_trust_policy(client: &IamClient, role_name: &str, policy: &PolicyDocument) -> Result<(), RoleError> {
    client
        .update_assume_role_policy()
        .role_name(role_name)
        .policy_document(policy.to_pretty_json())
        .send()
        .await
        .map(drop)
        .map_err(|e| RoleError::iam("UpdateAssumeRolePolicy", e))
}
