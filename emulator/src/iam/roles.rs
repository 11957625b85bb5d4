//! IAM's role actions: CreateRole, GetRole, UpdateAssumeRolePolicy, DeleteRole and ListRoles.

use std::time::{Duration, UNIX_EPOCH};

use serde_json::Value;

use super::params::{IamResult, decode_marker, encode_marker, max_items, no_such_role, path_param, role_name};
use crate::clock::format_iso8601;
use crate::protocol::query::{Params, QueryError, Xml, url_encode};
use crate::world::iam::{DEFAULT_MAX_SESSION_DURATION, Role};
use crate::world::store::Store;

/// IAM's default quota of roles per account.
const MAX_ROLES_PER_ACCOUNT: usize = 1000;
/// IAM's quota of the size of a role trust policy (characters).
const MAX_TRUST_POLICY_SIZE: usize = 2048;
const MAX_TAGS_PER_ROLE: usize = 50;
const MAX_SESSION_DURATION_LIMIT: u32 = 43_200;

/// IAM's checks of a trust policy document.
fn check_trust_policy(document: &str) -> Result<(), QueryError> {
    let malformed = |message: &str| QueryError::new(400, "MalformedPolicyDocument", message);
    if document.chars().count() > MAX_TRUST_POLICY_SIZE {
        return Err(QueryError::new(
            409,
            "LimitExceeded",
            format!("Cannot exceed quota for ACLSizePerRole: {MAX_TRUST_POLICY_SIZE}"),
        ));
    }
    let Ok(policy) = serde_json::from_str::<Value>(document) else {
        return Err(malformed("This policy contains invalid Json"));
    };
    let statements: Vec<&Value> = match policy.get("Statement") {
        Some(Value::Array(items)) if !items.is_empty() => items.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => return Err(malformed("Syntax errors in policy.")),
    };
    if let Some(version) = policy.get("Version")
        && !matches!(version.as_str(), Some("2012-10-17" | "2008-10-17"))
    {
        return Err(malformed("The policy failed legacy parsing"));
    }
    for statement in statements {
        let Some(statement) = statement.as_object() else {
            return Err(malformed("Syntax errors in policy."));
        };
        if !matches!(statement.get("Effect").and_then(Value::as_str), Some("Allow" | "Deny")) {
            return Err(malformed("Syntax errors in policy."));
        }
        if statement.contains_key("Resource") || statement.contains_key("NotResource") {
            return Err(malformed("Has prohibited field Resource"));
        }
        if !statement.contains_key("Principal") && !statement.contains_key("NotPrincipal") {
            return Err(malformed("Missing required field Principal"));
        }
        if !statement.contains_key("Action") && !statement.contains_key("NotAction") {
            return Err(malformed("Missing required field Action"));
        }
    }
    Ok(())
}

fn policy_document<'a>(params: &'a Params, name: &str, member: &str) -> Result<&'a str, QueryError> {
    let document = params.get(name).ok_or_else(|| QueryError::missing(member))?;
    check_trust_policy(document)?;
    Ok(document)
}

fn tags(params: &Params) -> Result<Vec<(String, String)>, QueryError> {
    let tags = params.tags("Tags");
    if tags.len() > MAX_TAGS_PER_ROLE {
        return Err(QueryError::new(
            409,
            "LimitExceeded",
            format!("Cannot exceed quota for TagsPerRole: {MAX_TAGS_PER_ROLE}"),
        ));
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for (key, value) in tags {
        let Some(key) = key else {
            return Err(QueryError::missing("tags.member.key"));
        };
        if key.is_empty() || key.chars().count() > 128 {
            return Err(QueryError::validation(
                Some(&key),
                "tags.member.key",
                "Member must have length less than or equal to 128 and greater than or equal to 1",
            ));
        }
        if value.chars().count() > 256 {
            return Err(QueryError::validation(
                Some(&value),
                "tags.member.value",
                "Member must have length less than or equal to 256",
            ));
        }
        if key.to_ascii_lowercase().starts_with("aws:") {
            return Err(QueryError::new(
                400,
                "InvalidInput",
                "User is not authorized to perform: tag keys beginning with 'aws:' are reserved for AWS use.",
            ));
        }
        if out.iter().any(|(k, _)| k.eq_ignore_ascii_case(&key)) {
            return Err(QueryError::new(
                400,
                "InvalidInput",
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
            ));
        }
        out.push((key, value));
    }
    Ok(out)
}

fn date(epoch_seconds: f64) -> String {
    format_iso8601(UNIX_EPOCH + Duration::from_secs_f64(epoch_seconds.max(0.0)))
}

/// The `Role` shape. ListRoles leaves out tags and last use, as IAM does.
fn write_role(xml: &mut Xml, role: &Role, full: bool) {
    xml.leaf("Path", &role.path)
        .leaf("RoleName", &role.name)
        .leaf("RoleId", &role.role_id)
        .leaf("Arn", &role.arn)
        .leaf("CreateDate", &date(role.created_at))
        .leaf("AssumeRolePolicyDocument", &url_encode(&role.trust_policy_document))
        .leaf_opt("Description", role.description.as_deref())
        .leaf("MaxSessionDuration", &role.max_session_duration.to_string());
    if full {
        if !role.tags.is_empty() {
            xml.open("Tags");
            for (key, value) in &role.tags {
                xml.open("member").leaf("Key", key).leaf("Value", value).close("member");
            }
            xml.close("Tags");
        }
        xml.open("RoleLastUsed").close("RoleLastUsed");
    }
}

fn role_result(role: &Role) -> String {
    let mut xml = Xml::new();
    xml.open("Role");
    write_role(&mut xml, role, true);
    xml.close("Role");
    xml.finish()
}

pub(super) fn create_role(store: &Store, params: &Params, partition: &str, account: &str) -> IamResult {
    let name = role_name(params)?;
    let path = path_param(params, "Path", "path")?;
    let document = policy_document(params, "AssumeRolePolicyDocument", "assumeRolePolicyDocument")?;
    let description = params.get("Description");
    if let Some(description) = description
        && description.chars().count() > 1000
    {
        return Err(QueryError::validation(
            Some(description),
            "description",
            "Member must have length less than or equal to 1000",
        ));
    }
    let max_session_duration = match params.get("MaxSessionDuration") {
        None => DEFAULT_MAX_SESSION_DURATION,
        Some(text) => match text.parse::<u32>() {
            Ok(n) if (DEFAULT_MAX_SESSION_DURATION..=MAX_SESSION_DURATION_LIMIT).contains(&n) => n,
            _ => {
                return Err(QueryError::validation(
                    Some(text),
                    "maxSessionDuration",
                    "Member must have value less than or equal to 43200 and greater than or equal to 3600",
                ));
            }
        },
    };
    let tags = tags(params)?;

    let mut state = store.state();
    if let Some(existing) = state.roles.by_name(account, name) {
        return Err(QueryError::new(
            409,
            "EntityAlreadyExists",
            format!("Role with name {} already exists.", existing.name),
        ));
    }
    if state.roles.count_in_account(account) >= MAX_ROLES_PER_ACCOUNT {
        return Err(QueryError::new(
            409,
            "LimitExceeded",
            format!("Cannot exceed quota for RolesPerAccount: {MAX_ROLES_PER_ACCOUNT}"),
        ));
    }
    let mut role = Role::new(partition, account, path, name, document);
    role.description = description.map(str::to_owned);
    role.max_session_duration = max_session_duration;
    role.tags = tags;
    role.visible_to_eks_at = role.created_at + state.settings.role_propagation_seconds;
    let result = role_result(&role);
    tracing::debug!(arn = %role.arn, "role created");
    state.roles.insert(role);
    Ok(Some(result))
}

pub(super) fn get_role(store: &Store, params: &Params, account: &str) -> IamResult {
    let name = role_name(params)?;
    let state = store.state();
    let role = state.roles.by_name(account, name).ok_or_else(|| no_such_role(name))?;
    Ok(Some(role_result(role)))
}

pub(super) fn update_assume_role_policy(store: &Store, params: &Params, account: &str) -> IamResult {
    let name = role_name(params)?;
    let document = params
        .get("PolicyDocument")
        .ok_or_else(|| QueryError::missing("policyDocument"))?;
    let mut state = store.state();
    let role = state
        .roles
        .by_name_mut(account, name)
        .ok_or_else(|| no_such_role(name))?;
    check_trust_policy(document)?;
    role.set_trust_policy(document);
    Ok(None)
}

pub(super) fn delete_role(store: &Store, params: &Params, account: &str) -> IamResult {
    let name = role_name(params)?;
    let mut state = store.state();
    let role = state.roles.by_name(account, name).ok_or_else(|| no_such_role(name))?;
    if !role.attached_policies.is_empty() {
        return Err(QueryError::new(
            409,
            "DeleteConflict",
            "Cannot delete entity, must detach all policies first.",
        ));
    }
    if !role.inline_policies.is_empty() {
        return Err(QueryError::new(
            409,
            "DeleteConflict",
            "Cannot delete entity, must delete policies first.",
        ));
    }
    state.roles.remove_by_name(account, name);
    Ok(None)
}

pub(super) fn list_roles(store: &Store, params: &Params, account: &str) -> IamResult {
    let prefix = path_param(params, "PathPrefix", "pathPrefix")?;
    let limit = max_items(params)?;
    let after = params.get("Marker").map(decode_marker).transpose()?;
    let state = store.state();
    let mut matching = state
        .roles
        .in_account(account, after.as_deref())
        .filter(|role| role.path.starts_with(prefix));
    let page: Vec<&Role> = matching.by_ref().take(limit).collect();
    let truncated = matching.next().is_some();
    let mut xml = Xml::new();
    xml.leaf("IsTruncated", if truncated { "true" } else { "false" });
    if truncated && let Some(last) = page.last() {
        xml.leaf("Marker", &encode_marker(&last.name.to_ascii_lowercase()));
    }
    xml.open("Roles");
    for role in page {
        xml.open("member");
        write_role(&mut xml, role, false);
        xml.close("member");
    }
    xml.close("Roles");
    Ok(Some(xml.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_policies_are_checked_like_iam() {
        let ok = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}"#;
        assert_eq!(check_trust_policy(ok), Ok(()));
        let code = |doc: &str| check_trust_policy(doc).unwrap_err().message;
        assert_eq!(code("not json"), "This policy contains invalid Json");
        assert_eq!(code("{}"), "Syntax errors in policy.");
        assert_eq!(
            code(r#"{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole"}}"#),
            "Missing required field Principal"
        );
        assert_eq!(
            code(r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}"#),
            "Has prohibited field Resource"
        );
        assert_eq!(
            check_trust_policy(&format!("{{\"x\":\"{}\"}}", "a".repeat(3000)))
                .unwrap_err()
                .code,
            "LimitExceeded"
        );
    }
}
