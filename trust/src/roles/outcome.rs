//! What a role creation did (or, in a dry run, would do), for people and for programs.

use std::fmt;

use serde::Serialize;

use super::plan::{RoleChange, RolePlan};
use crate::diff::LineDiff;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleOutcome {
    pub role_arn: String,
    pub role: RoleChange,
    /// Nothing was written: the outcome says what a run would do.
    pub dry_run: bool,
    /// The trust policy before and after (empty when it is unchanged).
    pub trust_policy_diff: LineDiff,
    /// Permission policies attached by this run.
    pub attached: Vec<String>,
    /// Permission policies that were attached already.
    pub already_attached: Vec<String>,
}

impl RoleOutcome {
    pub fn from_plan(plan: &RolePlan, role_arn: String, dry_run: bool) -> Self {
        let diff = plan.trust_policy_diff();
        Self {
            role_arn,
            role: plan.change,
            dry_run,
            trust_policy_diff: if diff.has_changes() { diff } else { LineDiff(Vec::new()) },
            attached: plan.to_attach.clone(),
            already_attached: plan.already_attached.clone(),
        }
    }

    /// Whether the run writes anything.
    pub fn changed(&self) -> bool {
        self.role != RoleChange::Unchanged || !self.attached.is_empty()
    }
}

impl fmt::Display for RoleOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (done, would) = match self.role {
            RoleChange::Created => ("created", "would be created"),
            RoleChange::TrustPolicyMerged => (
                "trust policy merged: the pod identity statement added, every other statement kept",
                "trust policy would be merged: the pod identity statement added, every other statement kept",
            ),
            RoleChange::TrustPolicyReplaced => (
                "trust policy replaced by the pod identity policy",
                "trust policy would be replaced by the pod identity policy",
            ),
            RoleChange::Unchanged => (
                "unchanged (its trust policy admits the cluster's pods already)",
                "unchanged (its trust policy admits the cluster's pods already)",
            ),
        };
        writeln!(f, "role {}: {}", self.role_arn, if self.dry_run { would } else { done })?;
        if !self.trust_policy_diff.0.is_empty() {
            writeln!(f, "  trust policy:")?;
            for line in self.trust_policy_diff.to_string().lines() {
                writeln!(f, "    {line}")?;
            }
        }
        let attach = if self.dry_run { "would attach" } else { "attached" };
        for arn in &self.attached {
            writeln!(f, "  {attach} {arn}")?;
        }
        for arn in &self.already_attached {
            writeln!(f, "  already attached {arn}")?;
        }
        if self.dry_run {
            writeln!(f, "dry run: nothing was written")?;
        }
        Ok(())
    }
}
