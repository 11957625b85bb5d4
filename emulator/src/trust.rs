//! Trust policy evaluation for STS AssumeRole and EKS Auth: may this principal perform these actions on the
//! role, given the request's condition keys? The IAM policy language is the project's own evaluator
//! ([`pia_trust::evaluate()`]), so that the emulator refuses exactly what the trust-policy checker explains.

use std::collections::BTreeMap;

use pia_trust::policy::Effect;
use pia_trust::{AwsPrincipal, PolicyDocument, RequestContext, RequestPrincipal, RoleArn, evaluate};
use serde_json::Value;

/// Who asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustPrincipal<'a> {
    /// An IAM user or role session. `arn` is the caller's ARN (a user ARN or an assumed-role ARN);
    /// `role_arn` the role of a session.
    Aws {
        arn: &'a str,
        account_id: &'a str,
        role_arn: Option<&'a str>,
    },
    /// A service principal such as `pods.eks.amazonaws.com`.
    Service(&'a str),
}

/// The request's condition keys (any case), each with one or more values.
pub type TrustContext = BTreeMap<String, Vec<String>>;

/// Whether `policy` (a JSON value, or a string holding one) lets `principal` perform every one of
/// `actions` (such as `sts:AssumeRole`, `sts:TagSession`) with the condition keys of `context`. A policy
/// that does not parse, or a principal that is not a valid ARN, allows nothing.
pub fn trust_allows(policy: &Value, principal: &TrustPrincipal<'_>, actions: &[&str], context: &TrustContext) -> bool {
    let document = match policy {
        Value::String(text) => PolicyDocument::parse(text),
        other => PolicyDocument::from_value(other),
    };
    let (Ok(document), Some(principal)) = (document, request_principal(principal)) else {
        return false;
    };
    actions.iter().all(|action| {
        let request = context.iter().fold(
            RequestContext::new(principal.clone(), *action),
            |request, (key, values)| request.with_values(key, values.iter().cloned()),
        );
        evaluate(&document, &request).is_allowed()
    })
}

/// Whether `policy` allows `principal` the `actions` because it names that principal (its ARN, or its role for a
/// role session), not only its whole account or everyone. Within an account such a trust policy grants access on
/// its own; one that names the account leaves the decision to the caller's identity-based policies, as in IAM.
pub fn trust_names_principal(
    policy: &Value,
    principal: &TrustPrincipal<'_>,
    actions: &[&str],
    context: &TrustContext,
) -> bool {
    let TrustPrincipal::Aws { arn, account_id, .. } = principal else {
        return trust_allows(policy, principal, actions, context);
    };
    let partition = pia_core::arn::ArnParts::split(arn).map_or("aws", |parts| parts.partition);
    // No user of this name exists: what the policy grants it, it grants to the account as a whole.
    let someone_else = format!("arn:{partition}:iam::{account_id}:user/pia-emulator/someone-else");
    let stranger = TrustPrincipal::Aws {
        arn: &someone_else,
        account_id,
        role_arn: None,
    };
    trust_allows(policy, principal, actions, context) && !trust_allows(policy, &stranger, actions, context)
}

/// Whether EKS accepts the role for an association: its trust policy lets `service` (`pods.eks.amazonaws.com`)
/// perform `sts:AssumeRole`, conditions aside. EKS checks only that when an association names the role; the
/// conditions are evaluated by EKS Auth, with each pod's request. So conditional Allows count as Allows, and only
/// unconditional Denies refuse.
pub fn trusts_service(policy: &Value, service: &str) -> bool {
    let document = match policy {
        Value::String(text) => PolicyDocument::parse(text),
        other => PolicyDocument::from_value(other),
    };
    let Ok(mut document) = document else {
        return false;
    };
    document
        .statements
        .retain(|statement| statement.effect == Effect::Allow || statement.conditions.is_empty());
    for statement in &mut document.statements {
        statement.conditions.clear();
    }
    let request = RequestContext::new(RequestPrincipal::Service(service.to_owned()), "sts:AssumeRole");
    evaluate(&document, &request).is_allowed()
}

pub(crate) fn request_principal(principal: &TrustPrincipal<'_>) -> Option<RequestPrincipal> {
    match principal {
        TrustPrincipal::Service(service) => Some(RequestPrincipal::Service((*service).to_owned())),
        TrustPrincipal::Aws {
            arn,
            role_arn: Some(role_arn),
            ..
        } => {
            // A role session: trust policies name the role (with its path), and the session by its ARN.
            let role: RoleArn = role_arn.parse().ok()?;
            let session = arn.rsplit('/').next().unwrap_or_default();
            Some(RequestPrincipal::Aws(AwsPrincipal::role_session(&role, session)))
        }
        TrustPrincipal::Aws { arn, .. } => AwsPrincipal::from_arn(arn).ok().map(RequestPrincipal::Aws),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const USER: TrustPrincipal<'static> = TrustPrincipal::Aws {
        arn: "arn:aws:iam::111122223333:user/admin",
        account_id: "111122223333",
        role_arn: None,
    };

    fn ctx(pairs: &[(&str, &str)]) -> TrustContext {
        let mut context = TrustContext::new();
        for (k, v) in pairs {
            context.entry((*k).to_owned()).or_default().push((*v).to_owned());
        }
        context
    }

    #[test]
    fn account_principals_and_external_ids() {
        let policy = json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "ext-1"}}
        }]});
        assert!(trust_allows(
            &policy,
            &USER,
            &["sts:AssumeRole"],
            &ctx(&[("sts:ExternalId", "ext-1")])
        ));
        assert!(!trust_allows(
            &policy,
            &USER,
            &["sts:AssumeRole"],
            &ctx(&[("sts:ExternalId", "other")])
        ));
        assert!(!trust_allows(&policy, &USER, &["sts:AssumeRole"], &ctx(&[])));
        assert!(!trust_allows(
            &policy,
            &USER,
            &["sts:AssumeRole", "sts:TagSession"],
            &ctx(&[("sts:ExternalId", "ext-1")])
        ));
        let other_account = TrustPrincipal::Aws {
            arn: "arn:aws:iam::444455556666:user/admin",
            account_id: "444455556666",
            role_arn: None,
        };
        assert!(!trust_allows(
            &policy,
            &other_account,
            &["sts:AssumeRole"],
            &ctx(&[("sts:ExternalId", "ext-1")])
        ));
    }

    #[test]
    fn role_sessions_match_their_role_and_deny_wins() {
        let session = TrustPrincipal::Aws {
            arn: "arn:aws:sts::111122223333:assumed-role/first/s",
            account_id: "111122223333",
            role_arn: Some("arn:aws:iam::111122223333:role/first"),
        };
        let policy = json!({"Statement": [
            {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:role/first"]}, "Action": ["sts:AssumeRole", "sts:Tag*"]},
            {"Effect": "Deny", "Principal": "*", "Action": "sts:TagSession",
             "Condition": {"StringEquals": {"aws:RequestTag/team": "blocked"}}}
        ]});
        assert!(trust_allows(
            &policy,
            &session,
            &["sts:AssumeRole", "sts:TagSession"],
            &ctx(&[("aws:RequestTag/team", "ok")])
        ));
        assert!(!trust_allows(
            &policy,
            &session,
            &["sts:AssumeRole", "sts:TagSession"],
            &ctx(&[("aws:requesttag/team", "blocked")])
        ));
        assert!(!trust_allows(&policy, &USER, &["sts:AssumeRole"], &ctx(&[])));
    }

    #[test]
    fn service_principals_and_condition_operators() {
        let pods = TrustPrincipal::Service("pods.eks.amazonaws.com");
        let policy = json!({"Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "pods.eks.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": {
                "StringEquals": {"aws:SourceAccount": "111122223333"},
                "ArnLike": {"aws:SourceArn": "arn:aws:eks:*:111122223333:cluster/*"},
                "StringLikeIfExists": {"aws:RequestTag/kubernetes-namespace": "team-*"}
            }
        }]});
        let good = ctx(&[
            ("aws:SourceAccount", "111122223333"),
            ("aws:SourceArn", "arn:aws:eks:us-east-1:111122223333:cluster/demo"),
        ]);
        assert!(trust_allows(
            &policy,
            &pods,
            &["sts:AssumeRole", "sts:TagSession"],
            &good
        ));
        let mut tagged = good.clone();
        tagged.insert("aws:RequestTag/kubernetes-namespace".into(), vec!["other".into()]);
        assert!(!trust_allows(&policy, &pods, &["sts:AssumeRole"], &tagged));
        assert!(!trust_allows(&policy, &USER, &["sts:AssumeRole"], &good));
        assert!(!trust_allows(
            &policy,
            &pods,
            &["sts:AssumeRole"],
            &ctx(&[("aws:SourceAccount", "111122223333")])
        ));

        let sets = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:*",
            "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}, "Null": {"sts:ExternalId": "true"},
                          "StringNotEquals": {"aws:PrincipalTag/team": "x"}}}]});
        assert!(trust_allows(
            &sets,
            &USER,
            &["sts:AssumeRole"],
            &ctx(&[("aws:TagKeys", "a")])
        ));
        assert!(trust_allows(&sets, &USER, &["sts:AssumeRole"], &ctx(&[])));
        assert!(!trust_allows(
            &sets,
            &USER,
            &["sts:AssumeRole"],
            &ctx(&[("aws:TagKeys", "c")])
        ));
        assert!(!trust_allows(
            &sets,
            &USER,
            &["sts:AssumeRole"],
            &ctx(&[("sts:ExternalId", "e")])
        ));
        assert!(!trust_allows(
            &sets,
            &USER,
            &["sts:AssumeRole"],
            &ctx(&[("aws:PrincipalTag/team", "x")])
        ));
        assert!(!trust_allows(&json!("not json"), &USER, &["sts:AssumeRole"], &ctx(&[])));
        assert!(trust_allows(
            &Value::String(sets.to_string()),
            &USER,
            &["sts:AssumeRole"],
            &ctx(&[])
        ));
    }
}
