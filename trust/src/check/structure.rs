//! Findings on the policy's structure, whatever EKS asks.

use super::report::{Finding, FindingKind, Report, Severity, capitalize};
use super::subject::Subject;
use crate::policy::PolicyDocument;

/// IAM's default quota for a role trust policy, in characters without whitespace (raisable to 8,192).
const TRUST_POLICY_DEFAULT_QUOTA: usize = 2048;

/// Structural problems IAM itself would refuse, and documents that are merely risky.
pub(super) fn structure_findings(report: &mut Report, policy: &PolicyDocument, subject: &Subject) {
    let role = subject.role;
    if !policy.unknown_elements.is_empty() {
        report.add(Finding {
            severity: Severity::Error,
            role,
            kind: FindingKind::UnknownElement,
            problem: format!(
                "The policy has top-level elements IAM does not define ({}); IAM refuses such a policy (MalformedPolicyDocument).",
                policy.unknown_elements.join(", ")
            ),
            fix: Some("Remove them; a policy has only Version, Id and Statement.".to_owned()),
        });
    }
    for (index, statement) in policy.statements.iter().enumerate() {
        let label = statement.label(index);
        if !statement.unknown_elements.is_empty() {
            report.add(Finding {
                severity: Severity::Error,
                role,
                kind: FindingKind::UnknownElement,
                problem: format!(
                    "{} has elements IAM does not define ({}); IAM refuses such a policy (MalformedPolicyDocument).",
                    capitalize(&label),
                    statement.unknown_elements.join(", ")
                ),
                fix: Some("Remove them; a Sid can carry a short description.".to_owned()),
            });
        }
        if let Some(resource) = &statement.resource {
            let name = if resource.negated { "NotResource" } else { "Resource" };
            report.add(Finding {
                severity: Severity::Error,
                role,
                kind: FindingKind::ProhibitedElement,
                problem: format!(
                    "{} has a {name} element; IAM refuses it in a role trust policy, whose resource is the role itself.",
                    capitalize(&label)
                ),
                fix: Some(format!("Remove the {name} element.")),
            });
        }
        match &statement.principal {
            None => report.add(Finding {
                severity: Severity::Error,
                role,
                kind: FindingKind::MissingPrincipal,
                problem: format!(
                    "{} has no Principal; IAM requires one in every statement of a role trust policy.",
                    capitalize(&label)
                ),
                fix: Some(format!("Add \"Principal\": {}.", subject.principal_hint)),
            }),
            Some(element) if element.negated => report.add(Finding {
                severity: Severity::Warning,
                role,
                kind: FindingKind::NotPrincipal,
                problem: format!(
                    "{} uses NotPrincipal, which IAM does not support in role trust policies.",
                    capitalize(&label)
                ),
                fix: Some(format!("Use \"Principal\": {} instead.", subject.principal_hint)),
            }),
            Some(_) => {}
        }
    }
    let length = policy.to_pretty_json().chars().filter(|c| !c.is_whitespace()).count();
    if length > TRUST_POLICY_DEFAULT_QUOTA {
        report.add(Finding {
            severity: Severity::Warning,
            role,
            kind: FindingKind::PolicyTooLarge,
            problem: format!(
                "The policy has {length} characters (without whitespace); IAM's default quota for a role trust policy is {TRUST_POLICY_DEFAULT_QUOTA}."
            ),
            fix: Some("Shorten it, or ask for a higher \"Role trust policy length\" quota (up to 8,192).".to_owned()),
        });
    }
}
