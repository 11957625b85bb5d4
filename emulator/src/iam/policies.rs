//! IAM's managed-policy actions on roles: AttachRolePolicy, DetachRolePolicy and ListAttachedRolePolicies.
//! Any AWS managed policy ARN (`arn:aws:iam::aws:policy/…`) can be attached (those whose documents the emulator does
//! not carry grant nothing); a customer managed policy must exist.

use pia_core::arn::ArnParts;

use super::params::{
    IamResult, NAME_CHARS, decode_marker, encode_marker, max_items, no_such_role, path_param, role_name,
};
use crate::protocol::query::{Params, QueryError, Xml};
use crate::world::state::State as World;
use crate::world::store::Store;

/// IAM's default quota of managed policies attached to a role.
const MAX_POLICIES_PER_ROLE: usize = 10;

/// `arn:{partition}:iam::{aws|account}:policy{path}{name}`: (owner, path and name).
pub(super) fn parse_policy_arn(arn: &str) -> Option<(&str, &str)> {
    let ArnParts {
        service,
        region,
        account: owner,
        resource,
        ..
    } = ArnParts::split(arn)?;
    let name = resource.strip_prefix("policy/")?;
    let valid = service == "iam"
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

pub(super) fn policy_arn(params: &Params) -> Result<&str, QueryError> {
    let arn = params
        .get("PolicyArn")
        .ok_or_else(|| QueryError::missing("policyArn"))?;
    if parse_policy_arn(arn).is_none() {
        return Err(QueryError::new(400, "InvalidInput", format!("ARN {arn} is not valid.")));
    }
    Ok(arn)
}

pub(super) fn attach_role_policy(store: &Store, params: &Params, partition: &str, account: &str) -> IamResult {
    let name = role_name(params)?;
    let arn = policy_arn(params)?;
    let mut state = store.state();
    let World {
        roles,
        policies: customer_policies,
        ..
    } = &mut *state;
    let role = roles.by_name_mut(account, name).ok_or_else(|| no_such_role(name))?;
    let aws_managed =
        parse_policy_arn(arn).is_some_and(|(owner, _)| owner == "aws") && arn.starts_with(&format!("arn:{partition}:"));
    let customer_managed = customer_policies.get(arn).is_some();
    if !aws_managed && !customer_managed {
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

pub(super) fn detach_role_policy(store: &Store, params: &Params, account: &str) -> IamResult {
    let name = role_name(params)?;
    let arn = policy_arn(params)?;
    let mut state = store.state();
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

pub(super) fn list_attached_role_policies(store: &Store, params: &Params, account: &str) -> IamResult {
    let name = role_name(params)?;
    let prefix = path_param(params, "PathPrefix", "pathPrefix")?;
    let limit = max_items(params)?;
    let after: usize = match params.get("Marker") {
        None => 0,
        Some(marker) => decode_marker(marker)?
            .parse()
            .map_err(|_| QueryError::new(400, "InvalidInput", "Invalid Marker."))?,
    };
    let state = store.state();
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

    /// Some AWS-managed policies that pod identity setups use.
    const WELL_KNOWN_POLICIES: &[&str] = &[
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
}
