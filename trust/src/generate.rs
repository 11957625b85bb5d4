//! The trust policies pod identity needs, built as [`PolicyDocument`]s so that they print with a fixed key
//! order ([`PolicyDocument::to_pretty_json`]) and convert to JSON values ([`PolicyDocument::to_value`]).

use thiserror::Error;

use crate::arn::{ArnError, ClusterArn, RoleArn, validate_account_id};
use crate::policy::{
    ActionElement, ConditionBlock, ConditionOperator, Effect, KeyCondition, OneOrMany, OperatorKind, PolicyDocument,
    PolicyVersion, PrincipalElement, PrincipalType, Principals, Scalar, Statement,
};

/// The service principal a pod identity role trusts.
pub use pia_core::pod_identity::PRINCIPAL as POD_IDENTITY_SERVICE_PRINCIPAL;
/// The actions EKS Auth performs on the role: it assumes it and tags the session.
pub const POD_IDENTITY_ACTIONS: [&str; 2] = ["sts:AssumeRole", "sts:TagSession"];

/// Why a trust policy cannot be generated from the values given.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GenerateError {
    #[error(transparent)]
    Arn(#[from] ArnError),
    #[error(
        "the account {account} differs from the cluster's account {cluster_account}: EKS would send aws:SourceAccount {cluster_account}, so the role could never be assumed"
    )]
    AccountMismatch { account: String, cluster_account: String },
    #[error("the external id must not be empty: EKS always sends the association's ExternalId")]
    EmptyExternalId,
}

/// The role trust policy `eksctl create podidentityassociation` writes: the pod identity service principal
/// may assume the role and tag its session.
///
/// With `account_id`, a `StringEquals aws:SourceAccount` condition limits it to clusters of that account;
/// with `cluster_arn`, an `ArnEquals aws:SourceArn` condition limits it to that cluster, and the account
/// condition is added from the cluster's ARN (both are recommended against the confused deputy problem).
pub fn pod_identity_trust_policy(
    account_id: Option<&str>,
    cluster_arn: Option<&str>,
) -> Result<PolicyDocument, GenerateError> {
    let cluster: Option<ClusterArn> = cluster_arn.map(str::parse).transpose()?;
    if let Some(account) = account_id {
        validate_account_id(account)?;
        if let Some(cluster) = cluster.as_ref().filter(|cluster| cluster.account_id() != account) {
            return Err(GenerateError::AccountMismatch {
                account: account.to_owned(),
                cluster_account: cluster.account_id().to_owned(),
            });
        }
    }
    let source_account = account_id.or(cluster.as_ref().map(ClusterArn::account_id));
    let mut conditions = Vec::new();
    if let Some(account) = source_account {
        conditions.push(single_condition(
            OperatorKind::StringEquals,
            "aws:SourceAccount",
            account,
        ));
    }
    if let Some(cluster) = &cluster {
        conditions.push(single_condition(
            OperatorKind::ArnEquals,
            "aws:SourceArn",
            &cluster.to_string(),
        ));
    }
    Ok(trust_policy(
        PrincipalType::Service,
        POD_IDENTITY_SERVICE_PRINCIPAL,
        conditions,
    ))
}

/// The trust policy of an association's `TargetRoleArn`: the association's role (`source_role_arn`) may
/// assume it and pass on the session tags, provided it sends the association's `ExternalId`.
pub fn target_role_trust_policy(source_role_arn: &str, external_id: &str) -> Result<PolicyDocument, GenerateError> {
    let role: RoleArn = source_role_arn.parse()?;
    if external_id.is_empty() {
        return Err(GenerateError::EmptyExternalId);
    }
    let conditions = vec![single_condition(
        OperatorKind::StringEquals,
        "sts:ExternalId",
        external_id,
    )];
    Ok(trust_policy(PrincipalType::Aws, &role.to_string(), conditions))
}

fn single_condition(kind: OperatorKind, key: &str, value: &str) -> ConditionBlock {
    ConditionBlock {
        operator: ConditionOperator::new(kind),
        keys: vec![KeyCondition {
            key: key.to_owned(),
            values: OneOrMany::one(Scalar::String(value.to_owned())),
        }],
    }
}

fn trust_policy(principal_type: PrincipalType, principal: &str, conditions: Vec<ConditionBlock>) -> PolicyDocument {
    PolicyDocument {
        version: Some(PolicyVersion::V2012_10_17),
        id: None,
        statements: vec![Statement {
            sid: None,
            effect: Effect::Allow,
            principal: Some(PrincipalElement {
                negated: false,
                principals: Principals::Typed(vec![(principal_type, OneOrMany::one(principal.to_owned()))]),
            }),
            action: ActionElement {
                negated: false,
                actions: OneOrMany::many(POD_IDENTITY_ACTIONS.iter().map(|a| (*a).to_owned()).collect()),
            },
            resource: None,
            conditions,
            unknown_elements: Vec::new(),
        }],
        unknown_elements: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CLUSTER: &str = "arn:aws:eks:us-east-1:111122223333:cluster/demo";

    #[test]
    fn errors() {
        assert!(matches!(
            pod_identity_trust_policy(Some("12"), None),
            Err(GenerateError::Arn(ArnError::InvalidAccountId { .. }))
        ));
        assert!(matches!(
            pod_identity_trust_policy(None, Some("demo")),
            Err(GenerateError::Arn(ArnError::NotAnArn { .. }))
        ));
        let mismatch = pod_identity_trust_policy(Some("444455556666"), Some(CLUSTER)).unwrap_err();
        assert!(
            mismatch
                .to_string()
                .contains("differs from the cluster's account 111122223333"),
            "{mismatch}"
        );
        assert!(matches!(
            target_role_trust_policy("arn:aws:iam::111122223333:user/u", "x"),
            Err(GenerateError::Arn(_))
        ));
        assert_eq!(
            target_role_trust_policy("arn:aws:iam::111122223333:role/r", ""),
            Err(GenerateError::EmptyExternalId)
        );
    }

    #[test]
    fn values_match_the_text() {
        let document = pod_identity_trust_policy(None, Some(CLUSTER)).unwrap();
        assert_eq!(
            document.to_value(),
            serde_json::from_str::<serde_json::Value>(&document.to_pretty_json()).unwrap()
        );
        assert_eq!(
            document.to_value()["Statement"][0]["Condition"],
            json!({"StringEquals": {"aws:SourceAccount": "111122223333"}, "ArnEquals": {"aws:SourceArn": CLUSTER}})
        );
    }
}
