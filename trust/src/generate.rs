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
    #[error("a namespace or service account must not be empty: EKS tags every session with the pod's own")]
    EmptyScopeValue,
}

/// The service accounts a pod identity role admits, by the session tags EKS sets on every session
/// (`aws:RequestTag/kubernetes-namespace`, `aws:RequestTag/kubernetes-service-account`), as the EKS user
/// guide recommends. Empty lists admit every namespace and service account. The conditions can only hold
/// while the association tags sessions: with `DisableSessionTags: true` they refuse every pod.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceAccountScope {
    pub namespaces: Vec<String>,
    pub service_accounts: Vec<String>,
}

impl ServiceAccountScope {
    pub fn is_empty(&self) -> bool {
        self.namespaces.is_empty() && self.service_accounts.is_empty()
    }
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
    scoped_pod_identity_trust_policy(account_id, cluster_arn, &ServiceAccountScope::default())
}

/// [`pod_identity_trust_policy`], limited to the service accounts of `scope` too. With a scope and a
/// cluster, the `aws:RequestTag/eks-cluster-name` condition of the user guide's example is added as well.
pub fn scoped_pod_identity_trust_policy(
    account_id: Option<&str>,
    cluster_arn: Option<&str>,
    scope: &ServiceAccountScope,
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
    if scope
        .namespaces
        .iter()
        .chain(&scope.service_accounts)
        .any(String::is_empty)
    {
        return Err(GenerateError::EmptyScopeValue);
    }
    let source_account = account_id.or(cluster.as_ref().map(ClusterArn::account_id));
    // One StringEquals block: a second one would repeat its JSON key.
    let mut string_equals = Vec::new();
    if let Some(account) = source_account {
        string_equals.push(key_condition("aws:SourceAccount", &[account]));
    }
    if let Some(cluster) = cluster.as_ref().filter(|_| !scope.is_empty()) {
        string_equals.push(key_condition("aws:RequestTag/eks-cluster-name", &[cluster.name()]));
    }
    for (tag, values) in [
        ("kubernetes-namespace", &scope.namespaces),
        ("kubernetes-service-account", &scope.service_accounts),
    ] {
        if !values.is_empty() {
            let values: Vec<&str> = values.iter().map(String::as_str).collect();
            string_equals.push(key_condition(&format!("aws:RequestTag/{tag}"), &values));
        }
    }
    let mut conditions = Vec::new();
    if !string_equals.is_empty() {
        conditions.push(ConditionBlock {
            operator: ConditionOperator::new(OperatorKind::StringEquals),
            keys: string_equals,
        });
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
        keys: vec![key_condition(key, &[value])],
    }
}

/// One key and its values: a bare string for one value, an array for several.
fn key_condition(key: &str, values: &[&str]) -> KeyCondition {
    let scalars: Vec<Scalar> = values.iter().map(|value| Scalar::String((*value).to_owned())).collect();
    KeyCondition {
        key: key.to_owned(),
        values: if scalars.len() == 1 {
            OneOrMany::one(scalars[0].clone())
        } else {
            OneOrMany::many(scalars)
        },
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
    fn a_scope_adds_the_session_tag_conditions_of_the_user_guide() {
        let scope = ServiceAccountScope {
            namespaces: vec!["payments".into()],
            service_accounts: vec!["api".into(), "worker".into()],
        };
        let document = scoped_pod_identity_trust_policy(None, Some(CLUSTER), &scope).unwrap();
        assert_eq!(
            document.to_value()["Statement"][0]["Condition"],
            json!({"StringEquals": {"aws:SourceAccount": "111122223333",
                "aws:RequestTag/eks-cluster-name": "demo",
                "aws:RequestTag/kubernetes-namespace": "payments",
                "aws:RequestTag/kubernetes-service-account": ["api", "worker"]},
                "ArnEquals": {"aws:SourceArn": CLUSTER}})
        );
        let without_cluster = scoped_pod_identity_trust_policy(None, None, &scope).unwrap();
        assert!(!without_cluster.to_pretty_json().contains("eks-cluster-name"));
        let empty = ServiceAccountScope {
            namespaces: vec![String::new()],
            service_accounts: vec![],
        };
        assert_eq!(
            scoped_pod_identity_trust_policy(None, None, &empty),
            Err(GenerateError::EmptyScopeValue)
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
