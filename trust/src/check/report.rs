//! The report: verdicts, findings, and how they are shown.

use std::fmt;

use serde::Serialize;

use super::input::CheckInput;
use crate::evaluate::Decision;

/// Which role a verdict or finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckedRole {
    /// The association's `RoleArn`.
    Role,
    /// The association's `TargetRoleArn`.
    TargetRole,
}

impl fmt::Display for CheckedRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Role => "role",
            Self::TargetRole => "target role",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Pods will not get credentials until this is fixed.
    Error,
    /// Works, but is unsafe or could not be fully checked.
    Warning,
    /// Worth knowing.
    Info,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Info => "info",
        })
    }
}

/// What a finding is about, for programs reading the JSON report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    PrincipalNotTrusted,
    MissingAssumeRole,
    MissingTagSession,
    ExplicitDeny,
    SourceAccountMismatch,
    SourceArnMismatch,
    ExternalIdMismatch,
    ConditionNotMet,
    UnsupportedCondition,
    NoSourceConditions,
    NoSourceArnCondition,
    NoExternalIdCondition,
    TrustsEveryone,
    MissingPrincipal,
    ProhibitedElement,
    UnknownElement,
    NotPrincipal,
    PolicyTooLarge,
    RoleAccountMismatch,
    PlaceholderValue,
    AssumedExternalId,
    TargetPolicyNotChecked,
    IdentityPolicyNeeded,
    SessionTagsDisabled,
}

/// One problem or remark, with what to change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub role: CheckedRole,
    pub kind: FindingKind,
    /// What is wrong, in plain words.
    pub problem: String,
    /// Exactly what to change, when there is something to change.
    pub fix: Option<String>,
}

/// The decision for one action EKS performs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub role: CheckedRole,
    pub action: String,
    pub decision: Decision,
    /// 1-based number of the deciding statement.
    pub statement: Option<usize>,
    pub reason: String,
}

/// The outcome of [`check_trust`](super::check_trust). `Display` renders it for people; `Serialize` for programs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrustReport {
    /// Whether pods of the association will get credentials: every action EKS performs is allowed and no
    /// finding is an error.
    pub will_work: bool,
    pub cluster_arn: String,
    pub disable_session_tags: bool,
    pub verdicts: Vec<Verdict>,
    /// Errors first, then warnings, then remarks.
    pub findings: Vec<Finding>,
}

/// The verdicts and findings gathered while checking.
#[derive(Default)]
pub(super) struct Report {
    pub(super) verdicts: Vec<Verdict>,
    findings: Vec<Finding>,
}

impl Report {
    /// Adds a finding unless the same one is there already (both actions often fail for one reason).
    pub(super) fn add(&mut self, finding: Finding) {
        if !self.findings.contains(&finding) {
            self.findings.push(finding);
        }
    }

    pub(super) fn finish(mut self, input: &CheckInput) -> TrustReport {
        self.findings.sort_by_key(|finding| finding.severity);
        let will_work = self.verdicts.iter().all(|verdict| verdict.decision == Decision::Allow)
            && self.findings.iter().all(|finding| finding.severity != Severity::Error);
        TrustReport {
            will_work,
            cluster_arn: input.cluster_arn.to_string(),
            disable_session_tags: input.disable_session_tags,
            verdicts: self.verdicts,
            findings: self.findings,
        }
    }
}

impl fmt::Display for TrustReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let errors = self
            .findings
            .iter()
            .filter(|finding| finding.severity == Severity::Error)
            .count();
        if self.will_work {
            writeln!(f, "Pods will get credentials: the trust policy allows what EKS asks.")?;
        } else if errors > 0 {
            writeln!(
                f,
                "Pods will NOT get credentials: {errors} problem{} to fix.",
                if errors == 1 { "" } else { "s" }
            )?;
        } else {
            writeln!(
                f,
                "Pods will NOT get credentials: EKS's request is not allowed (see below)."
            )?;
        }
        let tags = if self.disable_session_tags { "off" } else { "on" };
        writeln!(f, "Cluster: {} (session tags {tags})", self.cluster_arn)?;
        writeln!(f)?;
        writeln!(f, "What EKS asks:")?;
        for verdict in &self.verdicts {
            writeln!(
                f,
                "  {} {}: {} ({})",
                verdict.role, verdict.action, verdict.decision, verdict.reason
            )?;
        }
        if !self.findings.is_empty() {
            writeln!(f)?;
            writeln!(f, "Findings:")?;
            for finding in &self.findings {
                writeln!(f, "  {} [{}] {}", finding.severity, finding.role, finding.problem)?;
                if let Some(fix) = &finding.fix {
                    writeln!(f, "      fix: {fix}")?;
                }
            }
        }
        Ok(())
    }
}

/// `text` with its first letter in upper case, for a statement label that starts a sentence.
pub(super) fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
