//! The emulated IAM (query protocol, API version 2010-05-08): roles and the managed policies attached to
//! them. Its roles are the role registry that EKS checks, so a role created here can be used in
//! CreatePodIdentityAssociation at once (real IAM takes a few seconds to propagate).
//!
//! Roles live in the caller's account. Managed policies: any AWS-managed policy ARN
//! (`arn:aws:iam::aws:policy/…`) can be attached; customer-managed policies do not exist here.

use std::time::{Duration, UNIX_EPOCH};

use serde_json::Value;

use crate::Shared;
use crate::dispatch::RequestContext;
use crate::query::{Params, QueryError, Xml, url_encode};
use crate::sigv4::format_iso8601;
use crate::state::{DEFAULT_MAX_SESSION_DURATION, Role};

/// IAM's default quota of roles per account.
pub const MAX_ROLES_PER_ACCOUNT: usize = 1000;
/// IAM's default quota of managed policies attached to a role.
pub const MAX_POLICIES_PER_ROLE: usize = 10;
/// IAM's quota of the size of a role trust policy (characters).
pub const MAX_TRUST_POLICY_SIZE: usize = 2048;
pub const MAX_TAGS_PER_ROLE: usize = 50;
pub const MAX_SESSION_DURATION_LIMIT: u32 = 43_200;

/// Some AWS-managed policies that pod identity setups use (any other AWS-managed ARN is accepted too).
pub const WELL_KNOWN_POLICIES: &[&str] = &[
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
    "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
    "arn:aws:iam::aws:policy/AmazonS3FullAccess",
    "arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess",
    "arn:aws:iam::aws:policy/AmazonSQSFullAccess",
    "arn:aws:iam::aws:policy/ReadOnlyAccess",
    "arn:aws:iam::aws:policy/AdministratorAccess",
];

const NAME_CHARS: &str = "+=,.@_-";

type IamResult = Result<Option<String>, QueryError>;

pub(crate) fn handle(shared: &Shared, action: &str, params: &Params, context: &RequestContext) -> IamResult {
    let account = context.caller.account_id.as_str();
    let partition = context.caller.arn.split(':').nth(1).unwrap_or("aws");
    match action {
        "CreateRole" => create_role(shared, params, partition, account),
        "GetRole" => get_role(shared, params, account),
        "UpdateAssumeRolePolicy" => update_assume_role_policy(shared, params, account),
        "DeleteRole" => delete_role(shared, params, account),
        "ListRoles" => list_roles(shared, params, account),
        "AttachRolePolicy" => attach_role_policy(shared, params, partition, account),
        "DetachRolePolicy" => detach_role_policy(shared, params, account),
        "ListAttachedRolePolicies" => list_attached_role_policies(shared, params, account),
        _ => Err(QueryError::new(
            400,
            "InvalidAction",
            format!("Could not find operation {action} for version 2010-05-08"),
        )),
    }
}

fn no_such_role(name: &str) -> QueryError {
    QueryError::new(
        404,
        "NoSuchEntity",
        format!("The role with name {name} cannot be found."),
    )
}

fn role_name(params: &Params) -> Result<&str, QueryError> {
    let Some(name) = params.get("RoleName") else {
        return Err(QueryError::missing("roleName"));
    };
    if name.is_empty() || name.chars().count() > 64 {
        return Err(QueryError::validation(
            Some(name),
            "roleName",
            "Member must have length less than or equal to 64 and greater than or equal to 1",
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || NAME_CHARS.contains(c))
    {
        return Err(QueryError::validation(
            Some(name),
            "roleName",
            "Member must satisfy regular expression pattern: [\\w+=,.@-]+",
        ));
    }
    Ok(name)
}

fn path_param<'a>(params: &'a Params, name: &str, member: &str) -> Result<&'a str, QueryError> {
    let path = params.get(name).unwrap_or("/");
    let valid = path.len() <= 512
        && path.starts_with('/')
        && path.ends_with('/')
        && path.chars().all(|c| ('\u{21}'..='\u{7e}').contains(&c));
    if valid {
        Ok(path)
    } else {
        Err(QueryError::validation(
            Some(path),
            member,
            "Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)",
        ))
    }
}

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

fn max_items(params: &Params) -> Result<usize, QueryError> {
    match params.get("MaxItems") {
        None => Ok(100),
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => Ok(n),
            _ => Err(QueryError::validation(
                Some(text),
                "maxItems",
                "Member must have value less than or equal to 1000 and greater than or equal to 1",
            )),
        },
    }
}

/// Opaque list markers: the hex of the last item's key.
fn encode_marker(key: &str) -> String {
    key.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_marker(marker: &str) -> Result<String, QueryError> {
    let invalid = || QueryError::new(400, "InvalidInput", "Invalid Marker.");
    if !marker.len().is_multiple_of(2) {
        return Err(invalid());
    }
    let bytes: Option<Vec<u8>> = (0..marker.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(marker.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes.ok_or_else(invalid)?).map_err(|_| invalid())
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

fn create_role(shared: &Shared, params: &Params, partition: &str, account: &str) -> IamResult {
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

    let mut state = shared.state();
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

fn get_role(shared: &Shared, params: &Params, account: &str) -> IamResult {
    let name = role_name(params)?;
    let state = shared.state();
    let role = state.roles.by_name(account, name).ok_or_else(|| no_such_role(name))?;
    Ok(Some(role_result(role)))
}

fn update_assume_role_policy(shared: &Shared, params: &Params, account: &str) -> IamResult {
    let name = role_name(params)?;
    let document = params
        .get("PolicyDocument")
        .ok_or_else(|| QueryError::missing("policyDocument"))?;
    let mut state = shared.state();
    let role = state
        .roles
        .by_name_mut(account, name)
        .ok_or_else(|| no_such_role(name))?;
    check_trust_policy(document)?;
    role.set_trust_policy(document);
    Ok(None)
}

fn delete_role(shared: &Shared, params: &Params, account: &str) -> IamResult {
    let name = role_name(params)?;
    let mut state = shared.state();
    let role = state.roles.by_name(account, name).ok_or_else(|| no_such_role(name))?;
    if !role.attached_policies.is_empty() {
        return Err(QueryError::new(
            409,
            "DeleteConflict",
            "Cannot delete entity, must detach all policies first.",
        ));
    }
    state.roles.remove_by_name(account, name);
    Ok(None)
}

fn list_roles(shared: &Shared, params: &Params, account: &str) -> IamResult {
    let prefix = path_param(params, "PathPrefix", "pathPrefix")?;
    let limit = max_items(params)?;
    let after = params.get("Marker").map(decode_marker).transpose()?;
    let state = shared.state();
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

/// `arn:{partition}:iam::{aws|account}:policy{path}{name}`: (owner, path and name).
fn parse_policy_arn(arn: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, region, owner, resource] = parts[..] else {
        return None;
    };
    let name = resource.strip_prefix("policy/")?;
    let valid = prefix == "arn"
        && !partition.is_empty()
        && service == "iam"
        && region.is_empty()
        && (owner == "aws" || (owner.len() == 12 && owner.chars().all(|c| c.is_ascii_digit())))
        && !name.is_empty()
        && name.split('/').all(|segment| {
            !segment.is_empty()
                && segment.len() <= 128
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || NAME_CHARS.contains(c))
        });
    valid.then_some((owner, name))
}

fn policy_arn(params: &Params) -> Result<&str, QueryError> {
    let arn = params
        .get("PolicyArn")
        .ok_or_else(|| QueryError::missing("policyArn"))?;
    if parse_policy_arn(arn).is_none() {
        return Err(QueryError::new(400, "InvalidInput", format!("ARN {arn} is not valid.")));
    }
    Ok(arn)
}

fn attach_role_policy(shared: &Shared, params: &Params, partition: &str, account: &str) -> IamResult {
    let name = role_name(params)?;
    let arn = policy_arn(params)?;
    let mut state = shared.state();
    let role = state
        .roles
        .by_name_mut(account, name)
        .ok_or_else(|| no_such_role(name))?;
    let aws_managed =
        parse_policy_arn(arn).is_some_and(|(owner, _)| owner == "aws") && arn.starts_with(&format!("arn:{partition}:"));
    if !aws_managed {
        return Err(QueryError::new(
            404,
            "NoSuchEntity",
            format!("Policy {arn} does not exist or is not attachable."),
        ));
    }
    if role.attached_policies.iter().any(|p| p == arn) {
        return Ok(None);
    }
    if role.attached_policies.len() >= MAX_POLICIES_PER_ROLE {
        return Err(QueryError::new(
            409,
            "LimitExceeded",
            format!("Cannot exceed quota for PoliciesPerRole: {MAX_POLICIES_PER_ROLE}"),
        ));
    }
    role.attached_policies.push(arn.to_owned());
    Ok(None)
}

fn detach_role_policy(shared: &Shared, params: &Params, account: &str) -> IamResult {
    let name = role_name(params)?;
    let arn = policy_arn(params)?;
    let mut state = shared.state();
    let role = state
        .roles
        .by_name_mut(account, name)
        .ok_or_else(|| no_such_role(name))?;
    let before = role.attached_policies.len();
    role.attached_policies.retain(|p| p != arn);
    if role.attached_policies.len() == before {
        return Err(QueryError::new(
            404,
            "NoSuchEntity",
            format!("Policy {arn} was not found."),
        ));
    }
    Ok(None)
}

fn list_attached_role_policies(shared: &Shared, params: &Params, account: &str) -> IamResult {
    let name = role_name(params)?;
    let prefix = path_param(params, "PathPrefix", "pathPrefix")?;
    let limit = max_items(params)?;
    let after: usize = match params.get("Marker") {
        None => 0,
        Some(marker) => decode_marker(marker)?
            .parse()
            .map_err(|_| QueryError::new(400, "InvalidInput", "Invalid Marker."))?,
    };
    let state = shared.state();
    let role = state.roles.by_name(account, name).ok_or_else(|| no_such_role(name))?;
    let matching: Vec<(usize, &String, &str)> = role
        .attached_policies
        .iter()
        .enumerate()
        .filter_map(|(i, arn)| {
            let (_, path_and_name) = parse_policy_arn(arn)?;
            let (path, policy_name) = match path_and_name.rsplit_once('/') {
                Some((path, policy_name)) => (format!("/{path}/"), policy_name),
                None => ("/".to_owned(), path_and_name),
            };
            (i >= after && path.starts_with(prefix)).then_some((i, arn, policy_name))
        })
        .collect();
    let page = &matching[..matching.len().min(limit)];
    let truncated = matching.len() > limit;
    let mut xml = Xml::new();
    xml.open("AttachedPolicies");
    for (_, arn, policy_name) in page {
        xml.open("member")
            .leaf("PolicyName", policy_name)
            .leaf("PolicyArn", arn)
            .close("member");
    }
    xml.close("AttachedPolicies");
    xml.leaf("IsTruncated", if truncated { "true" } else { "false" });
    if truncated && let Some((i, _, _)) = page.last() {
        xml.leaf("Marker", &encode_marker(&(i + 1).to_string()));
    }
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

    #[test]
    fn policy_arns() {
        assert_eq!(
            parse_policy_arn("arn:aws:iam::aws:policy/service-role/AmazonEKSWorkerNodePolicy"),
            Some(("aws", "service-role/AmazonEKSWorkerNodePolicy"))
        );
        assert!(parse_policy_arn("arn:aws:iam::111122223333:policy/mine").is_some());
        for bad in [
            "",
            "arn:aws:iam::aws:role/x",
            "arn:aws:s3:::x",
            "arn:aws:iam::aws:policy/",
        ] {
            assert_eq!(parse_policy_arn(bad), None, "{bad}");
        }
        assert!(WELL_KNOWN_POLICIES.iter().all(|arn| parse_policy_arn(arn).is_some()));
    }

    #[test]
    fn markers_round_trip() {
        assert_eq!(decode_marker(&encode_marker("role-a")).unwrap(), "role-a");
        assert!(decode_marker("zz").is_err());
        assert!(decode_marker("abc").is_err());
    }
}
