//! The emulated STS (query protocol, API version 2011-06-15): GetCallerIdentity, AssumeRole and
//! GetSessionToken.
//!
//! AssumeRole evaluates the role's trust policy ([`crate::trust::trust_allows`]) for the caller, with
//! the condition keys STS sets (`aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:PrincipalTag/…`,
//! `sts:ExternalId`, `sts:RoleSessionName`, `aws:RequestTag/…`, `aws:TagKeys`,
//! `sts:TransitiveTagKeys`). Session tags need `sts:TagSession` too. The caller's transitive session
//! tags pass on to the new session (role chaining), which then lasts at most one hour. Identity-based
//! policies of the caller are not modelled: every caller may call AssumeRole.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::authz::{Ask, authorize, permission_policy_problem};
use crate::clock::format_iso8601;
use crate::context::RequestContext;
use crate::protocol::query::{Params, QueryError, Xml};
use crate::trust::{TrustContext, TrustPrincipal, trust_allows, trust_names_principal};
use crate::world::identities::{Key, SessionRequest};
use crate::world::store::Store;

/// The actions served.
pub(crate) const ACTIONS: &[&str] = &["GetCallerIdentity", "AssumeRole", "GetSessionToken"];

const DEFAULT_DURATION_SECONDS: u64 = 3600;
const MIN_DURATION_SECONDS: u64 = 900;
/// The longest session of a role assumed with role-session credentials.
const ROLE_CHAINING_LIMIT_SECONDS: u64 = 3600;
const MAX_SESSION_TAGS: usize = 50;
/// STS's limit of managed session policies in one AssumeRole.
const MAX_SESSION_POLICY_ARNS: usize = 10;

pub(crate) fn handle(
    store: &Store,
    action: &str,
    params: &Params,
    context: &RequestContext,
) -> Result<Option<String>, QueryError> {
    match action {
        "GetCallerIdentity" => Ok(Some(get_caller_identity(context))),
        "AssumeRole" => assume_role(store, params, context),
        "GetSessionToken" => get_session_token(store, params, context),
        _ => Err(QueryError::new(
            400,
            "InvalidAction",
            format!("Could not find operation {action} for version 2011-06-15"),
        )),
    }
}

fn get_caller_identity(context: &RequestContext) -> String {
    let mut xml = Xml::new();
    xml.leaf("Arn", &context.caller.arn)
        .leaf("UserId", &context.caller.user_id)
        .leaf("Account", &context.caller.account_id);
    xml.finish()
}

/// Temporary credentials for the calling user (12 hours unless DurationSeconds says otherwise).
fn get_session_token(store: &Store, params: &Params, context: &RequestContext) -> Result<Option<String>, QueryError> {
    let duration = match params.get("DurationSeconds") {
        None => 43_200,
        Some(text) => match text.parse::<u64>() {
            Ok(n) if (MIN_DURATION_SECONDS..=129_600).contains(&n) => n,
            _ => {
                return Err(QueryError::validation(
                    Some(text),
                    "durationSeconds",
                    "Member must have value less than or equal to 129600 and greater than or equal to 900",
                ));
            }
        },
    };
    let mut state = store.state();
    let is_session = context
        .access_key_id
        .as_deref()
        .is_some_and(|akid| matches!(state.identities.get(akid), Some(Key::Session(_))));
    if is_session {
        return Err(QueryError::new(
            403,
            "AccessDenied",
            "Cannot call GetSessionToken with session credentials",
        ));
    }
    let issued = state
        .identities
        .issue_user_session(&context.caller, Duration::from_secs(duration));
    let mut xml = Xml::new();
    xml.open("Credentials")
        .leaf("AccessKeyId", &issued.access_key_id)
        .leaf("SecretAccessKey", &issued.secret_access_key)
        .leaf("SessionToken", &issued.session_token)
        .leaf("Expiration", &format_iso8601(issued.expiration))
        .close("Credentials");
    Ok(Some(xml.finish()))
}

fn name_like(value: &str, extra: &str) -> bool {
    value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c) || extra.contains(c))
}

fn assume_role(store: &Store, params: &Params, context: &RequestContext) -> Result<Option<String>, QueryError> {
    let role_arn = params.get("RoleArn").ok_or_else(|| QueryError::missing("roleArn"))?;
    if !(20..=2048).contains(&role_arn.len()) {
        return Err(QueryError::validation(
            Some(role_arn),
            "roleArn",
            "Member must have length greater than or equal to 20",
        ));
    }
    let session_name = params
        .get("RoleSessionName")
        .ok_or_else(|| QueryError::missing("roleSessionName"))?;
    if !(2..=64).contains(&session_name.len()) {
        return Err(QueryError::validation(
            Some(session_name),
            "roleSessionName",
            "Member must have length less than or equal to 64 and greater than or equal to 2",
        ));
    }
    if !name_like(session_name, "") {
        return Err(QueryError::validation(
            Some(session_name),
            "roleSessionName",
            "Member must satisfy regular expression pattern: [\\w+=,.@-]*",
        ));
    }
    let external_id = params.get("ExternalId");
    if let Some(external_id) = external_id
        && (!(2..=1224).contains(&external_id.len()) || !name_like(external_id, ":/"))
    {
        return Err(QueryError::validation(
            Some(external_id),
            "externalId",
            "Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]*",
        ));
    }
    let duration = match params.get("DurationSeconds") {
        None => None,
        Some(text) => match text.parse::<u64>() {
            Ok(n) if (MIN_DURATION_SECONDS..=43_200).contains(&n) => Some(n),
            _ => {
                return Err(QueryError::validation(
                    Some(text),
                    "durationSeconds",
                    "Member must have value less than or equal to 43200 and greater than or equal to 900",
                ));
            }
        },
    };
    let session_policy = params.get("Policy");
    if let Some(policy) = session_policy {
        check_session_policy(policy)?;
    }
    let session_policy_arns = params.list_field("PolicyArns", "arn");
    if session_policy_arns.len() > MAX_SESSION_POLICY_ARNS {
        return Err(QueryError::validation(
            None,
            "policyArns",
            "Member must have length less than or equal to 10",
        ));
    }
    let mut request_tags: BTreeMap<String, String> = BTreeMap::new();
    let given_tags = params.tags("Tags");
    if given_tags.len() > MAX_SESSION_TAGS {
        return Err(QueryError::validation(
            None,
            "tags",
            "Member must have length less than or equal to 50",
        ));
    }
    for (key, value) in given_tags {
        let key = key.ok_or_else(|| QueryError::missing("tags.member.key"))?;
        if key.is_empty() || key.len() > 128 || value.len() > 256 {
            return Err(QueryError::validation(
                Some(&key),
                "tags.member.key",
                "Member must have length less than or equal to 128 and greater than or equal to 1",
            ));
        }
        if request_tags.keys().any(|existing| existing.eq_ignore_ascii_case(&key)) {
            return Err(QueryError::new(
                400,
                "InvalidParameterValue",
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
            ));
        }
        request_tags.insert(key, value);
    }
    let transitive: BTreeSet<String> = params.list("TransitiveTagKeys").into_iter().collect();
    if let Some(key) = transitive
        .iter()
        .find(|key| !request_tags.keys().any(|tag| tag.eq_ignore_ascii_case(key)))
    {
        return Err(QueryError::new(
            400,
            "InvalidParameterValue",
            format!("The transitive tag key {key} is not one of the session tags of the request."),
        ));
    }

    let mut state = store.state();
    let caller = &context.caller;
    let denied = || {
        QueryError::new(
            403,
            "AccessDenied",
            format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
                caller.arn
            ),
        )
    };
    let caller_session = context
        .access_key_id
        .as_deref()
        .and_then(|akid| match state.identities.get(akid) {
            Some(Key::Session(session)) if !session.user_session => Some(session.clone()),
            _ => None,
        });

    // Tags that the caller's session passes on.
    let mut session_tags = BTreeMap::new();
    let mut transitive_keys = BTreeSet::new();
    if let Some(session) = &caller_session {
        for key in &session.transitive_tag_keys {
            if let Some(value) = session.session_tags.get(key) {
                if request_tags.keys().any(|tag| tag.eq_ignore_ascii_case(key)) {
                    return Err(QueryError::new(
                        400,
                        "InvalidParameterValue",
                        format!("The session tag {key} is transitive and cannot be overridden."),
                    ));
                }
                session_tags.insert(key.clone(), value.clone());
                transitive_keys.insert(key.clone());
            }
        }
    }
    session_tags.extend(request_tags.clone());
    transitive_keys.extend(transitive.iter().cloned());

    let Some(role) = state.roles.get(role_arn) else {
        return Err(denied());
    };
    let principal = TrustPrincipal::Aws {
        arn: &caller.arn,
        account_id: &caller.account_id,
        role_arn: caller_session.as_ref().map(|s| s.role_arn.as_str()),
    };
    let mut trust_context = TrustContext::new();
    let mut set = |key: &str, values: Vec<String>| {
        trust_context.insert(key.to_ascii_lowercase(), values);
    };
    let principal_arn = caller_session
        .as_ref()
        .map_or(caller.arn.clone(), |s| s.role_arn.clone());
    set("aws:PrincipalArn", vec![principal_arn]);
    set("aws:PrincipalAccount", vec![caller.account_id.clone()]);
    set("aws:userid", vec![caller.user_id.clone()]);
    if caller_session.is_none()
        && let Some(user) = caller.arn.rsplit('/').next()
    {
        set("aws:username", vec![user.to_owned()]);
    }
    set("sts:RoleSessionName", vec![session_name.to_owned()]);
    if let Some(external_id) = external_id {
        set("sts:ExternalId", vec![external_id.to_owned()]);
    }
    for (key, value) in &caller.session_tags {
        set(&format!("aws:PrincipalTag/{key}"), vec![value.clone()]);
    }
    for (key, value) in &session_tags {
        set(&format!("aws:RequestTag/{key}"), vec![value.clone()]);
    }
    if !session_tags.is_empty() {
        set("aws:TagKeys", session_tags.keys().cloned().collect());
    }
    if !transitive_keys.is_empty() {
        set("sts:TransitiveTagKeys", transitive_keys.iter().cloned().collect());
    }
    let mut actions = vec!["sts:AssumeRole"];
    if !session_tags.is_empty() {
        actions.push("sts:TagSession");
    }
    if !trust_allows(&role.trust_policy, &principal, &actions, &trust_context) {
        return Err(denied());
    }
    // Within the account a trust policy that names the caller is enough; otherwise the caller's own policies must
    // allow assuming the role (and tagging the session) as well.
    let named = caller.account_id == role.account_id
        && trust_names_principal(&role.trust_policy, &principal, &actions, &trust_context);
    if !named {
        for action in &actions {
            let ask = Ask::new(*action, role_arn).with_request_tags(&request_tags);
            authorize(&state, context, &ask).map_err(|denied| QueryError::access_denied(denied.message))?;
        }
    }

    let chained = caller_session.is_some();
    let duration = duration.unwrap_or(DEFAULT_DURATION_SECONDS);
    if chained && duration > ROLE_CHAINING_LIMIT_SECONDS {
        return Err(QueryError::validation(
            Some(&duration.to_string()),
            "durationSeconds",
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        ));
    }
    if duration > u64::from(role.max_session_duration) {
        return Err(QueryError::new(
            400,
            "ValidationError",
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        ));
    }
    let role_arn = role.arn.clone();
    let role_id = role.role_id.clone();
    let packed = (!session_tags.is_empty()).then(|| (session_tags.len() * 2).min(100));
    let issued = state.identities.issue_session(SessionRequest {
        role_arn: &role_arn,
        role_id: &role_id,
        session_name,
        session_tags,
        transitive_tag_keys: transitive_keys,
        duration: Duration::from_secs(duration),
        session_policy: session_policy.map(str::to_owned),
        session_policy_arns,
    });
    tracing::debug!(role = %role_arn, session = session_name, caller = %caller.arn, "role assumed");

    let mut xml = Xml::new();
    xml.open("Credentials")
        .leaf("AccessKeyId", &issued.access_key_id)
        .leaf("SecretAccessKey", &issued.secret_access_key)
        .leaf("SessionToken", &issued.session_token)
        .leaf("Expiration", &format_iso8601(issued.expiration))
        .close("Credentials")
        .open("AssumedRoleUser")
        .leaf("AssumedRoleId", &issued.assumed_role_id)
        .leaf("Arn", &issued.assumed_role_arn)
        .close("AssumedRoleUser");
    if let Some(packed) = packed {
        xml.leaf("PackedPolicySize", &packed.to_string());
    }
    Ok(Some(xml.finish()))
}

/// A session policy must be an IAM policy document, as STS checks before anything else: refused with
/// MalformedPolicyDocument, in STS's words, when it is not JSON or not a policy.
fn check_session_policy(policy: &str) -> Result<(), QueryError> {
    let malformed = |message: &str| QueryError::new(400, "MalformedPolicyDocument", message.to_owned());
    if serde_json::from_str::<serde_json::Value>(policy).is_err() {
        return Err(malformed("The policy is not in the valid JSON format."));
    }
    match permission_policy_problem(policy) {
        Some(problem) => Err(malformed(problem)),
        None => Ok(()),
    }
}
