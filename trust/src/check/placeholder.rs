//! Remarks that a verdict rests on placeholder values, for what depends on the pod.

use super::report::{Finding, FindingKind, Report, Severity, capitalize};
use super::subject::Subject;
use crate::policy::PolicyDocument;

/// Remarks on conditions tested against placeholders.
pub(super) fn placeholder_findings(report: &mut Report, policy: &PolicyDocument, subject: &Subject) {
    if subject.disable_session_tags {
        return;
    }
    for (index, statement) in policy.statements.iter().enumerate() {
        for (key, placeholder) in &subject.placeholders {
            if statement.tests_key(key) {
                report.add(Finding {
                    severity: Severity::Info,
                    role: subject.role,
                    kind: FindingKind::PlaceholderValue,
                    problem: format!(
                        "{} tests {key}, whose value depends on the pod or association; the check used {placeholder:?}.",
                        capitalize(&statement.label(index))
                    ),
                    fix: Some("Give the association's namespace and service account to check their real values; pod names and UIDs differ per pod.".to_owned()),
                });
            }
        }
    }
}
