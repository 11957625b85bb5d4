//! Findings on a policy that works but lets others in too.

use super::report::{CheckedRole, Finding, FindingKind, Report, Severity, capitalize};
use super::subject::Subject;
use crate::policy::{Effect, PolicyDocument, PrincipalType, Principals};

/// Risks of a policy that works: who else may use the role.
pub(super) fn safety_findings(report: &mut Report, policy: &PolicyDocument, subject: &Subject, allowing: usize) {
    let Some(statement) = policy.statements.get(allowing) else {
        return;
    };
    let label = statement.label(allowing);
    let role = subject.role;
    let trusts_everyone = statement
        .principal
        .as_ref()
        .is_some_and(|element| match &element.principals {
            Principals::Everyone => true,
            Principals::Typed(entries) => entries
                .iter()
                .any(|(kind, values)| *kind == PrincipalType::Aws && values.iter().any(|v| v == "*")),
        });
    if trusts_everyone {
        report.add(Finding {
            severity: Severity::Warning,
            role,
            kind: FindingKind::TrustsEveryone,
            problem: format!(
                "{} trusts every principal (\"*\"): anyone who meets its conditions can assume the role, not only {}.",
                capitalize(&label),
                subject.principal
            ),
            fix: Some(format!("Set its Principal to {}.", subject.principal_hint)),
        });
    }
    // A Deny statement testing the key protects as well as the Allow statement testing it.
    let guarded = |key: &str| {
        statement.tests_key(key)
            || policy
                .statements
                .iter()
                .any(|s| s.effect == Effect::Deny && s.tests_key(key))
    };
    let cluster = &subject.cluster;
    match role {
        CheckedRole::Role => {
            let (account, arn) = (guarded("aws:SourceAccount"), guarded("aws:SourceArn"));
            if !account && !arn {
                report.add(Finding {
                    severity: Severity::Warning,
                    role,
                    kind: FindingKind::NoSourceConditions,
                    problem: format!(
                        "{} has no aws:SourceAccount or aws:SourceArn condition: any EKS cluster whose administrators may pass this role can use it (the confused deputy problem).",
                        capitalize(&label)
                    ),
                    fix: Some(format!(
                        "Add \"Condition\": {{\"StringEquals\": {{\"aws:SourceAccount\": \"{}\"}}, \"ArnEquals\": {{\"aws:SourceArn\": \"{cluster}\"}}}} to {label}.",
                        cluster.account_id()
                    )),
                });
            } else if !arn {
                report.add(Finding {
                    severity: Severity::Info,
                    role,
                    kind: FindingKind::NoSourceArnCondition,
                    problem: format!(
                        "{} limits the role to clusters of one account, but not to one cluster.",
                        capitalize(&label)
                    ),
                    fix: Some(format!(
                        "Add \"ArnEquals\": {{\"aws:SourceArn\": \"{cluster}\"}} to its Condition."
                    )),
                });
            }
        }
        CheckedRole::TargetRole => {
            if !guarded("sts:ExternalId") {
                report.add(Finding {
                    severity: Severity::Warning,
                    role,
                    kind: FindingKind::NoExternalIdCondition,
                    problem: format!(
                        "{} has no sts:ExternalId condition: the association's role can assume the target role outside this association too.",
                        capitalize(&label)
                    ),
                    fix: Some(format!(
                        "Add \"Condition\": {{\"StringEquals\": {{\"sts:ExternalId\": \"<the association's ExternalId>\"}}}} to {label}."
                    )),
                });
            }
        }
    }
}
