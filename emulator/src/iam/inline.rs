//! IAM's inline policies of roles: PutRolePolicy, GetRolePolicy, DeleteRolePolicy and ListRolePolicies.

use super::params::{IamResult, NAME_CHARS, decode_marker, encode_marker, max_items, no_such_role, role_name};
use crate::authz::permission_policy_problem;
use crate::protocol::query::{Params, QueryError, Xml, url_encode};
use crate::world::store::Store;

/// IAM's quota of the total size of a role's inline policies (characters, whitespace aside).
const MAX_INLINE_POLICY_SIZE: usize = 10_240;

fn policy_name(params: &Params) -> Result<&str, QueryError> {
    let name = params
        .get("PolicyName")
        .ok_or_else(|| QueryError::missing("policyName"))?;
    let valid = (1..=128).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || NAME_CHARS.contains(c));
    if !valid {
        return Err(QueryError::validation(
            Some(name),
            "policyName",
            "Member must satisfy regular expression pattern: [\\w+=,.@-]+",
        ));
    }
    Ok(name)
}

fn no_such_policy(policy: &str) -> QueryError {
    QueryError::new(
        404,
        "NoSuchEntity",
        format!("The role policy with name {policy} cannot be found."),
    )
}

/// A permission policy document, checked as IAM checks it.
pub(super) fn permission_document(params: &Params) -> Result<&str, QueryError> {
    let document = params
        .get("PolicyDocument")
        .ok_or_else(|| QueryError::missing("policyDocument"))?;
    match permission_policy_problem(document) {
        Some(problem) => Err(QueryError::new(400, "MalformedPolicyDocument", problem)),
        None => Ok(document),
    }
}

fn size_without_whitespace(document: &str) -> usize {
    document.chars().filter(|c| !c.is_whitespace()).count()
}

pub(super) fn put_role_policy(store: &Store, params: &Params, account: &str) -> IamResult {
    let role = role_name(params)?;
    let name = policy_name(params)?;
    let document = permission_document(params)?;
    let mut state = store.state();
    let found = state
        .roles
        .by_name_mut(account, role)
        .ok_or_else(|| no_such_role(role))?;
    let others: usize = found
        .inline_policies
        .iter()
        .filter(|(existing, _)| existing.as_str() != name)
        .map(|(_, text)| size_without_whitespace(text))
        .sum();
    if others + size_without_whitespace(document) > MAX_INLINE_POLICY_SIZE {
        return Err(QueryError::new(
            409,
            "LimitExceeded",
            format!("Maximum policy size of {MAX_INLINE_POLICY_SIZE} bytes exceeded for role {role}"),
        ));
    }
    found.inline_policies.insert(name.to_owned(), document.to_owned());
    Ok(None)
}

pub(super) fn get_role_policy(store: &Store, params: &Params, account: &str) -> IamResult {
    let role = role_name(params)?;
    let name = policy_name(params)?;
    let state = store.state();
    let found = state.roles.by_name(account, role).ok_or_else(|| no_such_role(role))?;
    let document = found.inline_policies.get(name).ok_or_else(|| no_such_policy(name))?;
    let mut xml = Xml::new();
    xml.leaf("RoleName", &found.name)
        .leaf("PolicyName", name)
        .leaf("PolicyDocument", &url_encode(document));
    Ok(Some(xml.finish()))
}

pub(super) fn delete_role_policy(store: &Store, params: &Params, account: &str) -> IamResult {
    let role = role_name(params)?;
    let name = policy_name(params)?;
    let mut state = store.state();
    let found = state
        .roles
        .by_name_mut(account, role)
        .ok_or_else(|| no_such_role(role))?;
    found
        .inline_policies
        .remove(name)
        .map(|_| None)
        .ok_or_else(|| no_such_policy(name))
}

pub(super) fn list_role_policies(store: &Store, params: &Params, account: &str) -> IamResult {
    let role = role_name(params)?;
    let limit = max_items(params)?;
    let after = params.get("Marker").map(decode_marker).transpose()?;
    let state = store.state();
    let found = state.roles.by_name(account, role).ok_or_else(|| no_such_role(role))?;
    let mut names = found
        .inline_policies
        .keys()
        .filter(|name| after.as_ref().is_none_or(|after| name.as_str() > after.as_str()));
    let page: Vec<&String> = names.by_ref().take(limit).collect();
    let truncated = names.next().is_some();
    let mut xml = Xml::new();
    xml.open("PolicyNames");
    for name in &page {
        xml.leaf("member", name);
    }
    xml.close("PolicyNames");
    xml.leaf("IsTruncated", if truncated { "true" } else { "false" });
    if truncated && let Some(last) = page.last() {
        xml.leaf("Marker", &encode_marker(last));
    }
    Ok(Some(xml.finish()))
}
