//! CloudFormation's stacks as data: each stack's template, parameters, resources, events, outputs and change sets.
//! Stacks are kept by id; a name finds the stack of that name that is not deleted.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::journal::{Journal, Row};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackParameter {
    pub key: String,
    pub value: String,
    pub resolved_value: Option<String>,
    pub no_echo: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackOutput {
    pub key: String,
    pub value: String,
    pub description: Option<String>,
    pub export_name: Option<String>,
}

/// A resource of a stack as CloudFormation tracks it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackResource {
    pub logical_id: String,
    pub physical_id: Option<String>,
    pub type_name: String,
    pub status: String,
    pub status_reason: Option<String>,
    /// The properties it was made or last updated with (intrinsics resolved).
    pub properties: Value,
    /// The type's whole model of it (what `Fn::GetAtt` reads).
    pub model: Value,
    /// The creation wave it belongs to: deletes go in reverse.
    pub wave: usize,
    pub deletion_policy: Option<String>,
    /// Epoch seconds.
    pub updated_at: f64,
    /// What the last drift detection found.
    #[serde(default)]
    pub drift: Option<ResourceDrift>,
}

/// One property that differs from the template's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PropertyDifference {
    pub path: String,
    pub expected: Option<Value>,
    pub actual: Option<Value>,
    /// `NOT_EQUAL`, `ADD` or `REMOVE`.
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceDrift {
    /// `IN_SYNC`, `MODIFIED`, `DELETED` or `NOT_CHECKED`.
    pub status: String,
    pub expected: Value,
    pub actual: Option<Value>,
    pub differences: Vec<PropertyDifference>,
    /// Epoch seconds.
    pub checked_at: f64,
}

/// A stack's drift detection run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftDetection {
    pub id: String,
    /// `DETECTION_IN_PROGRESS`, `DETECTION_COMPLETE` or `DETECTION_FAILED`.
    pub status: String,
    pub reason: Option<String>,
    /// `DRIFTED`, `IN_SYNC` or `NOT_CHECKED` (while running).
    pub stack_drift_status: String,
    pub drifted: usize,
    /// Epoch seconds.
    pub started_at: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackEvent {
    pub event_id: String,
    pub logical_id: String,
    pub physical_id: String,
    pub type_name: String,
    /// Epoch seconds.
    pub timestamp: f64,
    pub status: String,
    pub reason: Option<String>,
    pub properties: Option<String>,
}

/// One resource change of a change set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceChange {
    /// `Add`, `Modify` or `Remove`.
    pub action: String,
    pub logical_id: String,
    pub physical_id: Option<String>,
    pub type_name: String,
    /// `True`, `False` (Modify only).
    pub replacement: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeSet {
    pub id: String,
    pub name: String,
    /// `CREATE` or `UPDATE`.
    pub kind: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub execution_status: String,
    pub template_body: String,
    pub parameters: BTreeMap<String, String>,
    pub capabilities: Vec<String>,
    pub description: Option<String>,
    pub changes: Vec<ResourceChange>,
    pub created_at: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stack {
    pub stack_id: String,
    pub stack_name: String,
    pub account_id: String,
    pub region: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub description: Option<String>,
    pub template_body: String,
    pub parameters: Vec<StackParameter>,
    pub capabilities: Vec<String>,
    pub tags: Vec<(String, String)>,
    /// The service role CloudFormation acts as for the stack's resources (`RoleARN`), instead of the caller.
    #[serde(default)]
    pub role_arn: Option<String>,
    pub outputs: Vec<StackOutput>,
    pub resources: BTreeMap<String, StackResource>,
    /// Oldest first.
    pub events: Vec<StackEvent>,
    pub change_sets: Vec<ChangeSet>,
    /// Drift detections, oldest first.
    #[serde(default)]
    pub drift_detections: Vec<DriftDetection>,
    pub disable_rollback: bool,
    pub created_at: f64,
    pub updated_at: Option<f64>,
    pub deleted_at: Option<f64>,
}

impl Stack {
    /// Whether an operation is running on it (`…_IN_PROGRESS`, except a new stack awaiting its change set).
    pub fn busy(&self) -> bool {
        self.status.ends_with("_IN_PROGRESS") && self.status != "REVIEW_IN_PROGRESS"
    }
}

/// Every stack, by id.
#[derive(Debug, Default)]
pub(crate) struct Stacks {
    stacks: BTreeMap<String, Stack>,
    journal: Journal,
}

impl Stacks {
    pub fn insert(&mut self, stack: Stack) {
        self.journal.record(Row::Stack(stack.stack_id.clone()));
        self.stacks.insert(stack.stack_id.clone(), stack);
    }

    pub fn get(&self, id: &str) -> Option<&Stack> {
        self.stacks.get(id)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut Stack> {
        self.journal.record(Row::Stack(id.to_owned()));
        self.stacks.get_mut(id)
    }

    /// The stack a StackName parameter names: its id, or the name of a stack that is not deleted (in `account`
    /// and `region`).
    pub fn find(&self, name_or_id: &str, account_id: &str, region: &str) -> Option<&Stack> {
        if let Some(stack) = self.stacks.get(name_or_id) {
            return (stack.account_id == account_id && stack.region == region).then_some(stack);
        }
        self.stacks.values().find(|stack| {
            stack.stack_name == name_or_id
                && stack.deleted_at.is_none()
                && stack.account_id == account_id
                && stack.region == region
        })
    }

    /// The stacks of an account and region, oldest first.
    pub fn in_scope<'a>(&'a self, account_id: &'a str, region: &'a str) -> impl Iterator<Item = &'a Stack> + 'a {
        let mut stacks: Vec<&Stack> = self
            .stacks
            .values()
            .filter(move |stack| stack.account_id == account_id && stack.region == region)
            .collect();
        stacks.sort_by(|a, b| a.created_at.total_cmp(&b.created_at));
        stacks.into_iter()
    }

    /// Ends the operations a restart interrupted: each stack still `…_IN_PROGRESS` (a new stack awaiting its change
    /// set aside) becomes `…_FAILED`, with its event, as CloudFormation reports an operation that could not finish.
    pub fn end_interrupted(&mut self, now: f64) {
        let interrupted: Vec<String> = self
            .stacks
            .values()
            .filter(|stack| stack.busy())
            .map(|stack| stack.stack_id.clone())
            .collect();
        for id in interrupted {
            let Some(stack) = self.get_mut(&id) else {
                continue;
            };
            let failed = match stack.status.trim_end_matches("_IN_PROGRESS") {
                "UPDATE_COMPLETE_CLEANUP" => "UPDATE_COMPLETE".to_owned(),
                "UPDATE_ROLLBACK_COMPLETE_CLEANUP" => "UPDATE_ROLLBACK_COMPLETE".to_owned(),
                operation => format!("{operation}_FAILED"),
            };
            let reason =
                "The emulator restarted during the operation; resources it had not finished are as it left them.";
            stack.status = failed.clone();
            stack.status_reason = Some(reason.to_owned());
            stack.events.push(StackEvent {
                event_id: crate::ids::new_uuid(),
                logical_id: stack.stack_name.clone(),
                physical_id: stack.stack_id.clone(),
                type_name: "AWS::CloudFormation::Stack".to_owned(),
                timestamp: now,
                status: failed,
                reason: Some(reason.to_owned()),
                properties: None,
            });
        }
    }

    /// The rows changed since the last call.
    pub fn take_changes(&mut self) -> std::collections::BTreeSet<Row> {
        self.journal.take()
    }
}
