//! Conditions on the session tags meet DisableSessionTags: EKS then sets no tags, so `aws:RequestTag/…`,
//! `aws:PrincipalTag/…`, `aws:TagKeys` and `sts:TransitiveTagKeys` are absent from every request. A
//! condition on them then refuses every pod, or, written with IfExists, limits nothing.

use super::SESSION_TAG_KEYS;
use super::report::{Finding, FindingKind, Report, Severity, capitalize};
use super::subject::Subject;
use crate::policy::{Effect, PolicyDocument};

/// Whether `key` is one the session tags set (compared without regard to case, as IAM does).
pub(super) fn is_session_tag_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    let tag = key
        .strip_prefix("aws:requesttag/")
        .or_else(|| key.strip_prefix("aws:principaltag/"));
    match tag {
        Some(tag) => SESSION_TAG_KEYS.contains(&tag),
        None => key == "aws:tagkeys" || key == "sts:transitivetagkeys",
    }
}

/// The finding for a condition on `key` that fails because the association disables session tags.
pub(super) fn disabled_tags_refusal(subject: &Subject, label: &str, key: &str) -> Finding {
    Finding {
        severity: Severity::Error,
        role: subject.role,
        kind: FindingKind::SessionTagsDisabled,
        problem: format!(
            "{} tests {key}, but the association has DisableSessionTags: true: EKS then sets no session tags, so the condition never holds.",
            capitalize(label)
        ),
        fix: Some(format!(
            "Set DisableSessionTags: false on the association (the policy must then allow sts:TagSession), or remove the session tag conditions from {label}."
        )),
    }
}

/// Remarks on Allow statements that admit the pods although their session tag conditions test nothing.
pub(super) fn disabled_tags_findings(report: &mut Report, policy: &PolicyDocument, subject: &Subject) {
    if !subject.disable_session_tags {
        return;
    }
    for (index, statement) in policy.statements.iter().enumerate() {
        if statement.effect != Effect::Allow {
            continue;
        }
        if let Some(key) = statement.condition_keys().find(|key| is_session_tag_key(key)) {
            report.add(Finding {
                severity: Severity::Warning,
                role: subject.role,
                kind: FindingKind::SessionTagsDisabled,
                problem: format!(
                    "{} tests {key}, but the association has DisableSessionTags: true: EKS sets no session tags, so the condition does not limit who uses the role.",
                    capitalize(&statement.label(index))
                ),
                fix: Some("Set DisableSessionTags: false on the association to scope the role by its session tags, or scope it with aws:SourceArn alone.".to_owned()),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_tag_keys() {
        assert!(is_session_tag_key("aws:RequestTag/kubernetes-namespace"));
        assert!(is_session_tag_key("AWS:PrincipalTag/eks-cluster-name"));
        assert!(is_session_tag_key("aws:TagKeys"));
        assert!(!is_session_tag_key("aws:RequestTag/team"));
        assert!(!is_session_tag_key("aws:SourceArn"));
    }
}
