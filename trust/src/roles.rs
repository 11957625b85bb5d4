//! Creating the association's IAM role the way `eksctl create podidentityassociation` does, idempotently:
//!
//! 1. `GetRole`: absent (`NoSuchEntity`) → `CreateRole` with the trust policy; present with a different trust
//!    policy → `UpdateAssumeRolePolicy`; the same → nothing. Policies are compared as parsed JSON: IAM returns
//!    the document URL-encoded and may have reformatted it.
//! 2. `ListAttachedRolePolicies` (all pages) → `AttachRolePolicy` for each missing permission policy only.
//!    Policies attached by other means are left alone.
//!
//! A second run with the same input therefore reads and writes nothing ("unchanged").

use std::borrow::Cow;
use std::fmt;

pub use aws_sdk_iam::Client as IamClient;
use aws_sdk_iam::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use serde::Serialize;
use thiserror::Error;

use crate::arn::RoleArn;
use crate::policy::{PolicyDocument, PolicyError};

/// Why a role could not be read, created or updated.
#[derive(Debug, Error)]
pub enum RoleError {
    /// An IAM call failed; `message` has the service's error code and message.
    #[error("IAM {operation} failed: {message}")]
    Iam { operation: &'static str, message: String },
    #[error("IAM {operation} returned no {field}")]
    IncompleteResponse {
        operation: &'static str,
        field: &'static str,
    },
    #[error("the role {name} does not exist")]
    NoSuchRole { name: String },
    #[error("the role {name} exists with path {existing}, not {requested}; IAM cannot move a role to another path")]
    PathMismatch {
        name: String,
        existing: String,
        requested: String,
    },
    #[error("the trust policy of role {name} cannot be read: {source}")]
    UnreadableTrustPolicy { name: String, source: PolicyError },
}

impl RoleError {
    fn iam<E, R>(operation: &'static str, error: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: fmt::Debug,
    {
        // IAM's code and message say it all; the full error chain only for transport failures.
        let message = match error.as_service_error() {
            Some(service) => {
                format!(
                    "{}: {}",
                    service.code().unwrap_or("UnknownError"),
                    service.message().unwrap_or("no message")
                )
            }
            None => DisplayErrorContext(&error).to_string(),
        };
        Self::Iam { operation, message }
    }
}

/// The role to create or bring up to date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleSpec {
    pub name: String,
    /// `/` by default. An existing role's path is checked, never changed (IAM cannot).
    pub path: Option<String>,
    pub description: Option<String>,
    pub trust_policy: PolicyDocument,
    /// Managed policy ARNs to attach (the role's permissions).
    pub permission_policy_arns: Vec<String>,
}

/// What happened to the role itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RoleChange {
    Created,
    TrustPolicyUpdated,
    Unchanged,
}

/// The result of [`ensure_role`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleOutcome {
    pub role_arn: String,
    pub role: RoleChange,
    /// Permission policies attached by this run.
    pub attached: Vec<String>,
    /// Permission policies that were attached already.
    pub already_attached: Vec<String>,
}

impl RoleOutcome {
    /// Whether this run wrote anything.
    pub fn changed(&self) -> bool {
        self.role != RoleChange::Unchanged || !self.attached.is_empty()
    }
}

impl fmt::Display for RoleOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.role {
            RoleChange::Created => "created",
            RoleChange::TrustPolicyUpdated => "trust policy updated",
            RoleChange::Unchanged => "unchanged",
        };
        writeln!(f, "role {}: {what}", self.role_arn)?;
        for arn in &self.attached {
            writeln!(f, "  attached {arn}")?;
        }
        for arn in &self.already_attached {
            writeln!(f, "  already attached {arn}")?;
        }
        Ok(())
    }
}

/// A role as read from IAM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingRole {
    pub arn: RoleArn,
    pub trust_policy: PolicyDocument,
}

/// Creates the role described by `spec`, or brings an existing one up to date, and attaches the missing
/// permission policies.
pub async fn ensure_role(client: &IamClient, spec: &RoleSpec) -> Result<RoleOutcome, RoleError> {
    let desired_policy = spec.trust_policy.to_value();
    let (role_arn, role) = match get_role(client, &spec.name).await? {
        None => {
            let created = client
                .create_role()
                .role_name(&spec.name)
                .path(spec.path.as_deref().unwrap_or("/"))
                .set_description(spec.description.clone())
                .assume_role_policy_document(spec.trust_policy.to_pretty_json())
                .send()
                .await
                .map_err(|e| RoleError::iam("CreateRole", e))?;
            let arn = created
                .role()
                .map(|role| role.arn().to_owned())
                .ok_or(RoleError::IncompleteResponse {
                    operation: "CreateRole",
                    field: "Role",
                })?;
            (arn, RoleChange::Created)
        }
        Some(existing) => {
            if let Some(requested) = spec
                .path
                .as_ref()
                .filter(|requested| existing.path() != requested.as_str())
            {
                return Err(RoleError::PathMismatch {
                    name: spec.name.clone(),
                    existing: existing.path().to_owned(),
                    requested: requested.clone(),
                });
            }
            let current = existing.assume_role_policy_document().map(decode_policy_text);
            let current_value = current
                .as_deref()
                .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok());
            let change = if current_value.as_ref() == Some(&desired_policy) {
                RoleChange::Unchanged
            } else {
                client
                    .update_assume_role_policy()
                    .role_name(&spec.name)
                    .policy_document(spec.trust_policy.to_pretty_json())
                    .send()
                    .await
                    .map_err(|e| RoleError::iam("UpdateAssumeRolePolicy", e))?;
                RoleChange::TrustPolicyUpdated
            };
            (existing.arn().to_owned(), change)
        }
    };

    let attached_now = attached_policy_arns(client, &spec.name).await?;
    let mut outcome = RoleOutcome {
        role_arn,
        role,
        attached: Vec::new(),
        already_attached: Vec::new(),
    };
    for policy_arn in &spec.permission_policy_arns {
        if attached_now.contains(policy_arn) {
            if !outcome.already_attached.contains(policy_arn) {
                outcome.already_attached.push(policy_arn.clone());
            }
            continue;
        }
        if outcome.attached.contains(policy_arn) {
            continue;
        }
        client
            .attach_role_policy()
            .role_name(&spec.name)
            .policy_arn(policy_arn)
            .send()
            .await
            .map_err(|e| RoleError::iam("AttachRolePolicy", e))?;
        outcome.attached.push(policy_arn.clone());
    }
    Ok(outcome)
}

/// Reads a role's ARN and trust policy.
pub async fn fetch_role(client: &IamClient, role_name: &str) -> Result<ExistingRole, RoleError> {
    let role = get_role(client, role_name)
        .await?
        .ok_or_else(|| RoleError::NoSuchRole {
            name: role_name.to_owned(),
        })?;
    let text = role
        .assume_role_policy_document()
        .ok_or(RoleError::IncompleteResponse {
            operation: "GetRole",
            field: "AssumeRolePolicyDocument",
        })?;
    let trust_policy =
        PolicyDocument::parse(&decode_policy_text(text)).map_err(|source| RoleError::UnreadableTrustPolicy {
            name: role_name.to_owned(),
            source,
        })?;
    let arn = role.arn().parse().map_err(|_| RoleError::IncompleteResponse {
        operation: "GetRole",
        field: "Arn",
    })?;
    Ok(ExistingRole { arn, trust_policy })
}

async fn get_role(client: &IamClient, role_name: &str) -> Result<Option<aws_sdk_iam::types::Role>, RoleError> {
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

async fn attached_policy_arns(client: &IamClient, role_name: &str) -> Result<Vec<String>, RoleError> {
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

/// IAM returns policy documents URL-encoded (RFC 3986: `%7B%22Version%22...`). A document that already
/// starts with `{` is returned as is, so emulators that do not encode work too.
pub fn decode_policy_text(text: &str) -> Cow<'_, str> {
    if text.trim_start().starts_with('{') {
        return Cow::Borrowed(text);
    }
    percent_encoding::percent_decode_str(text).decode_utf8_lossy()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_url_encoded_policies_only() {
        assert_eq!(
            decode_policy_text("%7B%22Version%22%3A%222012-10-17%22%7D"),
            "{\"Version\":\"2012-10-17\"}"
        );
        assert_eq!(decode_policy_text("  {\"a\": \"100%\"}"), "  {\"a\": \"100%\"}");
        // A literal plus stays a plus (IAM encodes spaces as %20, never as +).
        assert_eq!(decode_policy_text("%7B%22a+b%22%20%7D"), "{\"a+b\" }");
        assert_eq!(decode_policy_text("%ZZ"), "%ZZ");
    }

    #[test]
    fn outcome_reports_changes() {
        let unchanged = RoleOutcome {
            role_arn: "arn:aws:iam::111122223333:role/app".into(),
            role: RoleChange::Unchanged,
            attached: vec![],
            already_attached: vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()],
        };
        assert!(!unchanged.changed());
        assert!(unchanged.to_string().contains("unchanged"));
        let attached = RoleOutcome {
            attached: vec!["x".into()],
            ..unchanged
        };
        assert!(attached.changed());
    }
}
