//! Why EKS is refused, and what to change: an explicit Deny, unmet conditions, a missing action, or a
//! principal that is not trusted.

use super::report::{CheckedRole, Finding, FindingKind, Report, Severity, capitalize};
use super::session_tags::{disabled_tags_refusal, is_session_tag_key};
use super::subject::Subject;
use crate::evaluate::{ConditionOutcome, ConditionTrace, Decision, Evaluation, StatementOutcome};
use crate::generate::POD_IDENTITY_SERVICE_PRINCIPAL;
use crate::policy::{Effect, PolicyDocument, PrincipalType, Principals};

/// Says why `action` is refused and what to change.
pub(super) fn diagnose_refusal(
    report: &mut Report,
    policy: &PolicyDocument,
    subject: &Subject,
    action: &str,
    evaluation: &Evaluation,
) {
    let role = subject.role;
    if evaluation.decision == Decision::ExplicitDeny {
        let index = evaluation.decided_by.unwrap_or_default();
        let label = policy.statements.get(index).map(|s| s.label(index)).unwrap_or_default();
        report.add(Finding {
            severity: Severity::Error,
            role,
            kind: FindingKind::ExplicitDeny,
            problem: format!(
                "{} denies {action} to {}; an explicit Deny overrides every Allow.",
                capitalize(&label),
                subject.principal
            ),
            fix: Some(format!(
                "Remove {label}, or narrow its Principal, Action or Condition so that it does not match the request EKS makes."
            )),
        });
        return;
    }
    let allow_traces = || {
        evaluation
            .statements
            .iter()
            .filter(|trace| trace.effect == Effect::Allow)
    };
    let with_conditions: Vec<_> = allow_traces()
        .filter_map(|trace| match &trace.outcome {
            StatementOutcome::ConditionsNotMet(failed) => Some((trace.index, failed)),
            _ => None,
        })
        .collect();
    if !with_conditions.is_empty() {
        for (index, failed) in with_conditions {
            for condition in failed {
                report.add(condition_finding(policy, subject, index, condition));
            }
        }
        return;
    }
    let missing_action: Vec<usize> = allow_traces()
        .filter(|trace| trace.outcome == StatementOutcome::ActionNotMatched)
        .map(|trace| trace.index)
        .collect();
    if !missing_action.is_empty() {
        report.add(missing_action_finding(policy, subject, action, &missing_action));
        return;
    }
    report.add(principal_finding(policy, subject));
}

fn missing_action_finding(policy: &PolicyDocument, subject: &Subject, action: &str, statements: &[usize]) -> Finding {
    let labels = statements
        .iter()
        .map(|&i| policy.statements[i].label(i))
        .collect::<Vec<_>>()
        .join(" and ");
    let negated = statements.iter().all(|&i| policy.statements[i].action.negated);
    let change = if negated {
        format!(
            "Remove {action:?} from the NotAction list of {labels} ({})",
            subject.trusting()
        )
    } else {
        format!("Add {action:?} to the Action list of {labels} ({})", subject.trusting())
    };
    let (kind, problem, fix) = match (action, subject.role) {
        ("sts:TagSession", CheckedRole::Role) => (
            FindingKind::MissingTagSession,
            "The policy does not allow sts:TagSession, but EKS tags every session unless DisableSessionTags is true.".to_owned(),
            format!("{change}, or set DisableSessionTags: true on the association."),
        ),
        ("sts:TagSession", CheckedRole::TargetRole) => (
            FindingKind::MissingTagSession,
            "The target role's policy does not allow sts:TagSession, but the session tags EKS sets are transitive and travel to the target role unless DisableSessionTags is true.".to_owned(),
            format!("{change}, or set DisableSessionTags: true on the association."),
        ),
        (_, CheckedRole::Role) => (
            FindingKind::MissingAssumeRole,
            format!("The policy does not allow {action}, which EKS Auth calls to get credentials for the pods."),
            format!("{change}."),
        ),
        (_, CheckedRole::TargetRole) => (
            FindingKind::MissingAssumeRole,
            format!("The target role's policy does not allow {action}, which EKS calls with the association role's session to reach the target role."),
            format!("{change}."),
        ),
    };
    Finding {
        severity: Severity::Error,
        role: subject.role,
        kind,
        problem,
        fix: Some(fix),
    }
}

fn principal_finding(policy: &PolicyDocument, subject: &Subject) -> Finding {
    let trusted = trusted_principals(policy);
    let trusted = if trusted.is_empty() {
        "nobody (no Allow statement names a principal)".to_owned()
    } else {
        trusted.join(", ")
    };
    let who = match subject.role {
        CheckedRole::Role => format!("the service principal {POD_IDENTITY_SERVICE_PRINCIPAL}"),
        CheckedRole::TargetRole => format!("the association's role ({})", subject.principal),
    };
    let mut problem = format!("No Allow statement trusts {who}; the policy trusts {trusted}.");
    if subject.role == CheckedRole::Role && looks_like_irsa(policy) {
        problem.push_str(
            " This is an IRSA (IAM roles for service accounts) trust policy: pod identity does not use the cluster's OIDC provider.",
        );
    }
    let mut fix = format!(
        "Add a statement with \"Principal\": {} and \"Action\": [\"sts:AssumeRole\", \"sts:TagSession\"]",
        subject.principal_hint
    );
    match subject.role {
        CheckedRole::Role => fix.push_str(&format!(
            "; `pia trust generate --cluster-arn {}` prints a complete policy.",
            subject.cluster
        )),
        CheckedRole::TargetRole => {
            fix.push_str(", with an sts:ExternalId condition; `pia trust target` prints a complete policy.")
        }
    }
    Finding {
        severity: Severity::Error,
        role: subject.role,
        kind: FindingKind::PrincipalNotTrusted,
        problem,
        fix: Some(fix),
    }
}

fn trusted_principals(policy: &PolicyDocument) -> Vec<String> {
    let mut names = Vec::new();
    for statement in policy.statements.iter().filter(|s| s.effect == Effect::Allow) {
        match statement.principal.as_ref() {
            Some(element) if element.negated => names.push("everyone but its NotPrincipal".to_owned()),
            Some(element) => match &element.principals {
                Principals::Everyone => names.push("everyone (\"*\")".to_owned()),
                Principals::Typed(entries) => {
                    for (kind, values) in entries {
                        names.extend(values.iter().map(|value| format!("{} {value}", kind.as_str())));
                    }
                }
            },
            None => {}
        }
    }
    names.dedup();
    names
}

fn looks_like_irsa(policy: &PolicyDocument) -> bool {
    policy.statements.iter().any(|statement| {
        statement.action.actions.iter().any(|a| a.eq_ignore_ascii_case("sts:AssumeRoleWithWebIdentity"))
            || matches!(&statement.principal, Some(element) if matches!(&element.principals, Principals::Typed(entries)
                if entries.iter().any(|(kind, values)| *kind == PrincipalType::Federated && values.iter().any(|v| v.contains("oidc-provider")))))
    })
}

fn condition_finding(policy: &PolicyDocument, subject: &Subject, index: usize, condition: &ConditionTrace) -> Finding {
    let label = policy.statements[index].label(index);
    let described = condition.describe();
    let key = condition.key.to_ascii_lowercase();
    let cluster = &subject.cluster;
    let role = subject.role;
    if condition.outcome == ConditionOutcome::Unsupported {
        return Finding {
            severity: Severity::Warning,
            role,
            kind: FindingKind::UnsupportedCondition,
            problem: format!("In {label}, {described}, so the check cannot tell whether EKS will be allowed."),
            fix: Some(format!(
                "Check the {} condition on {} by hand.",
                condition.operator, condition.key
            )),
        };
    }
    if subject.disable_session_tags && condition.actual.is_none() && is_session_tag_key(&condition.key) {
        return disabled_tags_refusal(subject, &label, &condition.key);
    }
    let (kind, problem, fix) = match key.as_str() {
        "aws:sourceaccount" => (
            FindingKind::SourceAccountMismatch,
            format!(
                "{} does not admit this cluster: {described}. EKS sends the cluster's account {} as aws:SourceAccount.",
                capitalize(&label),
                cluster.account_id()
            ),
            format!(
                "Set aws:SourceAccount to \"{}\" in {label}, or use the role with a cluster of the account it names.",
                cluster.account_id()
            ),
        ),
        "aws:sourcearn" => (
            FindingKind::SourceArnMismatch,
            format!(
                "{} does not admit this cluster: {described}. EKS sends the cluster's ARN as aws:SourceArn.",
                capitalize(&label)
            ),
            format!(
                "Set aws:SourceArn to \"{cluster}\" in {label} (or, to admit every cluster of the account, use ArnLike with \"arn:{}:eks:{}:{}:cluster/*\").",
                cluster.partition(),
                cluster.region(),
                cluster.account_id()
            ),
        ),
        "sts:externalid" => (
            FindingKind::ExternalIdMismatch,
            format!(
                "{} does not admit the association's ExternalId: {described}.",
                capitalize(&label)
            ),
            "Set sts:ExternalId in the target role's trust policy to the association's ExternalId.".to_owned(),
        ),
        _ => {
            let fix = if condition.actual.is_none() {
                format!(
                    "EKS does not send {} in this request: remove the condition, or use {}IfExists if it is meant for other callers.",
                    condition.key, condition.operator
                )
            } else {
                format!(
                    "Change or remove the {} condition on {} in {label} so that it admits what EKS sends.",
                    condition.operator, condition.key
                )
            };
            (FindingKind::ConditionNotMet, format!("In {label}, {described}."), fix)
        }
    };
    Finding {
        severity: Severity::Error,
        role,
        kind,
        problem,
        fix: Some(fix),
    }
}
