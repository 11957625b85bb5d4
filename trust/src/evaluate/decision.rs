//! The decision: an explicit `Deny` wins, otherwise an applicable `Allow` allows, otherwise implicit deny.

use std::fmt;

use serde::Serialize;

use super::action::{action_matches, resource_matches};
use super::condition::{ConditionOutcome, ConditionTrace, unmet_conditions};
use super::principal::principal_matches;
use super::request::RequestContext;
use crate::policy::{Effect, PolicyDocument, Statement};

/// The verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Decision {
    Allow,
    /// A `Deny` statement applies.
    ExplicitDeny,
    /// No `Allow` statement applies.
    ImplicitDeny,
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Allow => "Allow",
            Self::ExplicitDeny => "ExplicitDeny",
            Self::ImplicitDeny => "ImplicitDeny",
        })
    }
}

/// Why a statement does or does not apply to the request; the first part that fails is reported, in the
/// order principal, action, resource, conditions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementOutcome {
    Applies,
    PrincipalNotMatched,
    ActionNotMatched,
    ResourceNotMatched,
    /// The conditions that do not hold (all of them, not just the first).
    ConditionsNotMet(Vec<ConditionTrace>),
}

/// How one statement fared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementTrace {
    /// 0-based position in the policy.
    pub index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    pub outcome: StatementOutcome,
}

/// The result of [`evaluate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub decision: Decision,
    /// The index of the statement that decided (the first applicable `Deny`, else the first applicable
    /// `Allow`); `None` for an implicit deny.
    pub decided_by: Option<usize>,
    /// A human explanation naming the statement and, for an implicit deny, why each `Allow` missed.
    pub reason: String,
    /// Every statement, in policy order.
    pub statements: Vec<StatementTrace>,
}

impl Evaluation {
    pub fn is_allowed(&self) -> bool {
        self.decision == Decision::Allow
    }

    /// Conditions that could not be evaluated; if any, the verdict is uncertain.
    pub fn unsupported_conditions(&self) -> impl Iterator<Item = &ConditionTrace> {
        self.statements.iter().flat_map(|statement| match &statement.outcome {
            StatementOutcome::ConditionsNotMet(traces) => traces
                .iter()
                .filter(|t| t.outcome == ConditionOutcome::Unsupported)
                .collect::<Vec<_>>(),
            _ => Vec::new(),
        })
    }
}

/// Decides `request` against `policy`.
pub fn evaluate(policy: &PolicyDocument, request: &RequestContext) -> Evaluation {
    let statements: Vec<StatementTrace> = policy
        .statements
        .iter()
        .enumerate()
        .map(|(index, statement)| StatementTrace {
            index,
            sid: statement.sid.clone(),
            effect: statement.effect,
            outcome: statement_outcome(statement, request),
        })
        .collect();
    let applying = |effect| {
        statements
            .iter()
            .find(|trace| trace.effect == effect && trace.outcome == StatementOutcome::Applies)
    };
    let label = |index: usize| policy.statements[index].label(index);
    let principal = &request.principal;
    let action = &request.action;
    let (decision, decided_by, reason) = if let Some(deny) = applying(Effect::Deny) {
        let reason = format!(
            "{} denies {action} for {principal}; an explicit Deny overrides every Allow",
            label(deny.index)
        );
        (Decision::ExplicitDeny, Some(deny.index), reason)
    } else if let Some(allow) = applying(Effect::Allow) {
        (
            Decision::Allow,
            Some(allow.index),
            format!("{} allows {action} for {principal}", label(allow.index)),
        )
    } else {
        let misses: Vec<String> = statements
            .iter()
            .filter(|trace| trace.effect == Effect::Allow)
            .map(|trace| {
                format!(
                    "{}: {}",
                    label(trace.index),
                    miss_reason(&policy.statements[trace.index], trace, request)
                )
            })
            .collect();
        let mut reason = format!("no statement allows {action} for {principal} (implicit deny)");
        if !misses.is_empty() {
            reason.push_str("; ");
            reason.push_str(&misses.join("; "));
        }
        (Decision::ImplicitDeny, None, reason)
    };
    Evaluation {
        decision,
        decided_by,
        reason,
        statements,
    }
}

fn miss_reason(statement: &Statement, trace: &StatementTrace, request: &RequestContext) -> String {
    let action = &request.action;
    match &trace.outcome {
        StatementOutcome::Applies => "applies".to_owned(),
        StatementOutcome::PrincipalNotMatched => match &statement.principal {
            Some(element) if element.negated => format!("its NotPrincipal excludes {}", request.principal),
            _ => format!("its Principal does not include {}", request.principal),
        },
        StatementOutcome::ActionNotMatched if statement.action.negated => format!("its NotAction excludes {action}"),
        StatementOutcome::ActionNotMatched => format!("its Action does not include {action}"),
        StatementOutcome::ResourceNotMatched => {
            format!(
                "its Resource does not match {}",
                request.resource.as_deref().unwrap_or("")
            )
        }
        StatementOutcome::ConditionsNotMet(traces) => traces
            .iter()
            .map(ConditionTrace::describe)
            .collect::<Vec<_>>()
            .join("; "),
    }
}

fn statement_outcome(statement: &Statement, request: &RequestContext) -> StatementOutcome {
    let principal_excluded = statement
        .principal
        .as_ref()
        .is_some_and(|element| !principal_matches(element, &request.principal));
    if principal_excluded {
        return StatementOutcome::PrincipalNotMatched;
    }
    if !action_matches(&statement.action, &request.action) {
        return StatementOutcome::ActionNotMatched;
    }
    if let (Some(element), Some(resource)) = (&statement.resource, &request.resource)
        && !resource_matches(element, resource)
    {
        return StatementOutcome::ResourceNotMatched;
    }
    let failed = unmet_conditions(&statement.conditions, request);
    if failed.is_empty() {
        StatementOutcome::Applies
    } else {
        StatementOutcome::ConditionsNotMet(failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::test_support::{ACCOUNT, CLUSTER, decide, one_statement, pods, policy};
    use serde_json::json;

    #[test]
    fn deny_overrides_allow_and_no_allow_is_implicit_deny() {
        let document = policy(json!({"Statement": [
            {"Sid": "Trust", "Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": ["sts:AssumeRole", "sts:TagSession"]},
            {"Sid": "NoTags", "Effect": "Deny", "Principal": "*", "Action": "sts:TagSession"}]}));
        let assume = evaluate(&document, &RequestContext::new(pods(), "sts:AssumeRole"));
        assert_eq!((assume.decision, assume.decided_by), (Decision::Allow, Some(0)));
        assert!(
            assume
                .reason
                .contains("statement 1 (Sid \"Trust\") allows sts:AssumeRole"),
            "{}",
            assume.reason
        );
        let tag = evaluate(&document, &RequestContext::new(pods(), "sts:TagSession"));
        assert_eq!((tag.decision, tag.decided_by), (Decision::ExplicitDeny, Some(1)));
        assert!(
            tag.reason
                .contains("statement 2 (Sid \"NoTags\") denies sts:TagSession"),
            "{}",
            tag.reason
        );
        assert!(tag.reason.contains("explicit Deny overrides"), "{}", tag.reason);
        let other = evaluate(&document, &RequestContext::new(pods(), "sts:AssumeRoleWithWebIdentity"));
        assert_eq!((other.decision, other.decided_by), (Decision::ImplicitDeny, None));
        assert!(other.reason.contains("implicit deny"), "{}", other.reason);
        assert!(
            other
                .reason
                .contains("its Action does not include sts:AssumeRoleWithWebIdentity"),
            "{}",
            other.reason
        );
    }

    #[test]
    fn several_keys_and_operators_are_anded_and_every_failure_is_reported() {
        let document = one_statement(
            json!({"Service": "pods.eks.amazonaws.com"}),
            json!("sts:AssumeRole"),
            json!({"StringEquals": {"aws:SourceAccount": ACCOUNT, "aws:RequestTag/kubernetes-namespace": "prod"},
                   "ArnEquals": {"aws:SourceArn": CLUSTER}}),
        );
        let good = RequestContext::new(pods(), "sts:AssumeRole")
            .with_value("aws:sourceaccount", ACCOUNT)
            .with_value("AWS:SourceArn", CLUSTER)
            .with_value("aws:RequestTag/kubernetes-namespace", "prod");
        assert_eq!(decide(&document, &good), Decision::Allow);
        let bad = RequestContext::new(pods(), "sts:AssumeRole")
            .with_value("aws:SourceAccount", "444455556666")
            .with_value("aws:RequestTag/kubernetes-namespace", "prod");
        let evaluation = evaluate(&document, &bad);
        assert_eq!(evaluation.decision, Decision::ImplicitDeny);
        let StatementOutcome::ConditionsNotMet(failed) = &evaluation.statements[0].outcome else {
            panic!("{:?}", evaluation.statements)
        };
        let keys: Vec<&str> = failed.iter().map(|t| t.key.as_str()).collect();
        assert_eq!(keys.len(), 2);
        assert!(
            keys.contains(&"aws:SourceAccount") && keys.contains(&"aws:SourceArn"),
            "{keys:?}"
        );
        assert!(
            evaluation.reason.contains(
                r#"StringEquals requires aws:SourceAccount to match "111122223333", and the request has "444455556666""#
            ),
            "{}",
            evaluation.reason
        );
        assert!(
            evaluation.reason.contains("the request has no aws:SourceArn"),
            "{}",
            evaluation.reason
        );
    }

    #[test]
    fn unsupported_operators_are_flagged() {
        let document = one_statement(
            json!("*"),
            json!("sts:AssumeRole"),
            json!({"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}),
        );
        let evaluation = evaluate(
            &document,
            &RequestContext::new(pods(), "sts:AssumeRole").with_value("aws:CurrentTime", "2026-01-01T00:00:00Z"),
        );
        assert_eq!(evaluation.decision, Decision::ImplicitDeny);
        let unsupported: Vec<_> = evaluation.unsupported_conditions().collect();
        assert_eq!(unsupported.len(), 1);
        assert!(unsupported[0].describe().contains("cannot be evaluated"));
    }
}
