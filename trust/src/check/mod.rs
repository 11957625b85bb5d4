//! Will pods get credentials? Replays what EKS Auth asks of a role's trust policy for one association
//! (and, with `TargetRoleArn`, what EKS then asks of the target role's), and explains every problem in plain
//! words with the change that fixes it.
//!
//! EKS Auth, for an association of cluster C in account A:
//! - calls `sts:AssumeRole` on `RoleArn` as the service principal `pods.eks.amazonaws.com`, with
//!   `aws:SourceAccount` = A and `aws:SourceArn` = C;
//! - unless `DisableSessionTags`, tags the session (`sts:TagSession`) with six transitive tags
//!   ([`SESSION_TAG_KEYS`]), visible to conditions as `aws:RequestTag/<key>`, `aws:TagKeys` and
//!   `sts:TransitiveTagKeys` (with DisableSessionTags they are absent, and conditions on them are reported);
//! - with `TargetRoleArn`, assumes the target role with the first role's session, passing the association's
//!   `ExternalId` as `sts:ExternalId`; the tags travel along (they are transitive), so the target role must
//!   allow `sts:TagSession` too. Conditions see them as `aws:PrincipalTag/<key>` and, since it is not
//!   documented which, also as `aws:RequestTag/<key>` *(unverified)*.

mod input;
mod placeholder;
mod refusal;
mod report;
mod safety;
mod session_tags;
mod structure;
mod subject;
mod target;

pub use input::{CheckError, CheckInput, TargetRoleInput};
pub use pia_core::pod_identity::SESSION_TAG_KEYS;
pub use report::{CheckedRole, Finding, FindingKind, Severity, TrustReport, Verdict};

use crate::evaluate::evaluate;
use crate::policy::PolicyDocument;
use placeholder::placeholder_findings;
use refusal::diagnose_refusal;
use report::Report;
use safety::safety_findings;
use session_tags::disabled_tags_findings;
use structure::structure_findings;
use subject::{Subject, pod_role_subject};
use target::check_target;

/// Checks `role_trust_policy` (the trust policy of the association's `RoleArn`) and, if given, the target
/// role's trust policy, against the association described by `input`.
pub fn check_trust(role_trust_policy: &PolicyDocument, input: &CheckInput) -> Result<TrustReport, CheckError> {
    let mut report = Report::default();
    let cluster = &input.cluster_arn;

    check_role(&mut report, role_trust_policy, &pod_role_subject(input));

    if let Some(role_arn) = input
        .role_arn
        .as_ref()
        .filter(|arn| arn.account_id() != cluster.account_id())
    {
        report.add(Finding {
            severity: Severity::Error,
            role: CheckedRole::Role,
            kind: FindingKind::RoleAccountMismatch,
            problem: format!(
                "The role {role_arn} is in account {}, but the cluster is in account {}; EKS accepts only a RoleArn of the cluster's account.",
                role_arn.account_id(),
                cluster.account_id()
            ),
            fix: Some(format!(
                "Use a role of account {} as RoleArn, and put {role_arn} in TargetRoleArn to reach the other account.",
                cluster.account_id()
            )),
        });
    }

    if let Some(target) = &input.target {
        check_target(&mut report, input, target)?;
    }

    Ok(report.finish(input))
}

/// Evaluates every action EKS performs on one role and turns the outcome into verdicts and findings.
fn check_role(report: &mut Report, policy: &PolicyDocument, subject: &Subject) {
    structure_findings(report, policy, subject);
    let mut assume_role = None;
    for action in subject.actions() {
        let evaluation = evaluate(policy, &subject.context(action));
        report.verdicts.push(Verdict {
            role: subject.role,
            action: action.to_owned(),
            decision: evaluation.decision,
            statement: evaluation.decided_by.map(|index| index + 1),
            reason: evaluation.reason.clone(),
        });
        if !evaluation.is_allowed() {
            diagnose_refusal(report, policy, subject, action, &evaluation);
        }
        if action == "sts:AssumeRole" {
            assume_role = Some(evaluation);
        }
    }
    if let Some(index) = assume_role
        .as_ref()
        .and_then(|evaluation| evaluation.is_allowed().then_some(evaluation.decided_by).flatten())
    {
        safety_findings(report, policy, subject, index);
        disabled_tags_findings(report, policy, subject);
    }
    placeholder_findings(report, policy, subject);
}
