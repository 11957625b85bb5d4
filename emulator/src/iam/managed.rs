//! IAM's customer managed policies: CreatePolicy, GetPolicy, GetPolicyVersion, DeletePolicy and ListPolicies. GetPolicy
//! and GetPolicyVersion also describe the AWS managed policies whose documents the emulator carries.

use std::time::{Duration, UNIX_EPOCH};

use super::inline::permission_document;
use super::params::{IamResult, NAME_CHARS, decode_marker, encode_marker, max_items, path_param};
use super::policies::policy_arn;
use crate::clock::format_iso8601;
use crate::protocol::query::{Params, QueryError, Xml, url_encode};
use crate::world::iam_policies::{ManagedPolicy, aws_managed_document};
use crate::world::state::State as World;
use crate::world::store::Store;

/// IAM's quota of the size of a managed policy document (characters, whitespace aside).
const MAX_MANAGED_POLICY_SIZE: usize = 6_144;
/// The one version a policy has here.
const VERSION: &str = "v1";

fn no_such_policy(arn: &str) -> QueryError {
    QueryError::new(
        404,
        "NoSuchEntity",
        format!("Policy {arn} does not exist or is not attachable."),
    )
}

fn date(epoch_seconds: f64) -> String {
    format_iso8601(UNIX_EPOCH + Duration::from_secs_f64(epoch_seconds.max(0.0)))
}

/// How many roles and users the policy is attached to.
fn attachment_count(world: &World, arn: &str) -> usize {
    world
        .roles
        .iter()
        .filter(|role| role.attached_policies.iter().any(|attached| attached == arn))
        .count()
}

fn write_policy(xml: &mut Xml, policy: &ManagedPolicy, attachments: usize) {
    xml.leaf("PolicyName", &policy.name)
        .leaf("DefaultVersionId", VERSION)
        .leaf("PolicyId", &policy.policy_id)
        .leaf("Path", &policy.path)
        .leaf("Arn", &policy.arn)
        .leaf("AttachmentCount", &attachments.to_string())
        .leaf("IsAttachable", "true")
        .leaf("CreateDate", &date(policy.created_at))
        .leaf("UpdateDate", &date(policy.created_at))
        .leaf_opt("Description", policy.description.as_deref());
}

/// The customer policy `arn`, or the carried AWS managed one described as IAM describes it.
fn find(world: &World, arn: &str) -> Option<ManagedPolicy> {
    if let Some(policy) = world.policies.get(arn) {
        return Some(policy.clone());
    }
    let document = aws_managed_document(arn)?;
    let parts = pia_core::arn::ArnParts::split(arn)?;
    let path_and_name = parts.resource.strip_prefix("policy")?;
    let (path, name) = path_and_name.rsplit_once('/')?;
    Some(ManagedPolicy {
        arn: arn.to_owned(),
        account_id: "aws".to_owned(),
        name: name.to_owned(),
        path: format!("{path}/"),
        policy_id: crate::ids::stable_policy_id(arn),
        description: None,
        document: document.to_string(),
        created_at: 0.0,
    })
}

pub(super) fn create_policy(store: &Store, params: &Params, partition: &str, account: &str) -> IamResult {
    let name = params
        .get("PolicyName")
        .ok_or_else(|| QueryError::missing("policyName"))?;
    if !(1..=128).contains(&name.chars().count())
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || NAME_CHARS.contains(c))
    {
        return Err(QueryError::validation(
            Some(name),
            "policyName",
            "Member must satisfy regular expression pattern: [\\w+=,.@-]+",
        ));
    }
    let path = path_param(params, "Path", "path")?;
    let document = permission_document(params)?;
    if document.chars().filter(|c| !c.is_whitespace()).count() > MAX_MANAGED_POLICY_SIZE {
        return Err(QueryError::new(
            409,
            "LimitExceeded",
            format!("Cannot exceed quota for PolicySize: {MAX_MANAGED_POLICY_SIZE}"),
        ));
    }
    let mut policy = ManagedPolicy::new(partition, account, path, name, document);
    policy.description = params.get("Description").map(str::to_owned);
    let mut state = store.state();
    if state.policies.in_account(account).any(|existing| existing.name == name) {
        return Err(QueryError::new(
            409,
            "EntityAlreadyExists",
            format!("A policy called {name} already exists. Duplicate names are not allowed."),
        ));
    }
    let mut xml = Xml::new();
    xml.open("Policy");
    write_policy(&mut xml, &policy, 0);
    xml.close("Policy");
    tracing::debug!(arn = %policy.arn, "policy created");
    state.policies.insert(policy);
    Ok(Some(xml.finish()))
}

pub(super) fn get_policy(store: &Store, params: &Params) -> IamResult {
    let arn = policy_arn(params)?;
    let state = store.state();
    let policy = find(&state, arn).ok_or_else(|| no_such_policy(arn))?;
    let mut xml = Xml::new();
    xml.open("Policy");
    write_policy(&mut xml, &policy, attachment_count(&state, arn));
    xml.close("Policy");
    Ok(Some(xml.finish()))
}

pub(super) fn get_policy_version(store: &Store, params: &Params) -> IamResult {
    let arn = policy_arn(params)?;
    let version = params
        .get("VersionId")
        .ok_or_else(|| QueryError::missing("versionId"))?;
    let state = store.state();
    let policy = find(&state, arn).ok_or_else(|| no_such_policy(arn))?;
    if version != VERSION {
        return Err(QueryError::new(
            404,
            "NoSuchEntity",
            format!("Policy {arn} version {version} does not exist or is not attachable."),
        ));
    }
    let mut xml = Xml::new();
    xml.open("PolicyVersion")
        .leaf("Document", &url_encode(&policy.document))
        .leaf("VersionId", VERSION)
        .leaf("IsDefaultVersion", "true")
        .leaf("CreateDate", &date(policy.created_at))
        .close("PolicyVersion");
    Ok(Some(xml.finish()))
}

pub(super) fn delete_policy(store: &Store, params: &Params) -> IamResult {
    let arn = policy_arn(params)?;
    let mut state = store.state();
    if state.policies.get(arn).is_none() {
        return Err(no_such_policy(arn));
    }
    if attachment_count(&state, arn) > 0 {
        return Err(QueryError::new(
            409,
            "DeleteConflict",
            "Cannot delete a policy attached to entities.",
        ));
    }
    state.policies.remove(arn);
    Ok(None)
}

/// The account's own policies (`Scope` `Local`, the only scope whose list is complete here), in ARN order.
pub(super) fn list_policies(store: &Store, params: &Params, account: &str) -> IamResult {
    let limit = max_items(params)?;
    let prefix = path_param(params, "PathPrefix", "pathPrefix")?;
    let after = params.get("Marker").map(decode_marker).transpose()?;
    let state = store.state();
    let mut matching = state.policies.in_account(account).filter(|policy| {
        policy.path.starts_with(prefix) && after.as_ref().is_none_or(|after| policy.arn.as_str() > after.as_str())
    });
    let page: Vec<&ManagedPolicy> = matching.by_ref().take(limit).collect();
    let truncated = matching.next().is_some();
    let mut xml = Xml::new();
    xml.open("Policies");
    for policy in &page {
        xml.open("member");
        write_policy(&mut xml, policy, attachment_count(&state, &policy.arn));
        xml.close("member");
    }
    xml.close("Policies");
    xml.leaf("IsTruncated", if truncated { "true" } else { "false" });
    if truncated && let Some(last) = page.last() {
        xml.leaf("Marker", &encode_marker(&last.arn));
    }
    Ok(Some(xml.finish()))
}
