//! Drift detection's actions: DetectStackDrift (in the background), DescribeStackDriftDetectionStatus,
//! DescribeStackResourceDrifts and DetectStackResourceDrift (at once).

use super::params::required;
use super::{Answer, Stacks, validation, xml};
use crate::clock::now_epoch_seconds;
use crate::ids::new_uuid;
use crate::protocol::query::{Params, QueryError, Xml};
use crate::stacks::drift;
use crate::world::stacks::{DriftDetection, Stack, StackResource};

/// A StackResourceDrift, written as `tag`.
fn resource_drift(out: &mut Xml, tag: &str, stack: &Stack, resource: &StackResource) {
    let Some(drift) = &resource.drift else {
        return;
    };
    out.open(tag)
        .leaf("StackId", &stack.stack_id)
        .leaf("LogicalResourceId", &resource.logical_id)
        .leaf_opt("PhysicalResourceId", resource.physical_id.as_deref())
        .leaf("ResourceType", &resource.type_name)
        .leaf("ExpectedProperties", &drift.expected.to_string())
        .leaf_opt(
            "ActualProperties",
            drift.actual.as_ref().map(|a| a.to_string()).as_deref(),
        )
        .leaf("StackResourceDriftStatus", &drift.status)
        .leaf("Timestamp", &xml::date(drift.checked_at));
    out.open("PropertyDifferences");
    for difference in &drift.differences {
        let text = |value: &Option<serde_json::Value>| match value {
            Some(serde_json::Value::String(text)) => text.clone(),
            Some(other) => other.to_string(),
            None => "null".to_owned(),
        };
        out.open("member")
            .leaf("PropertyPath", &difference.path)
            .leaf("ExpectedValue", &text(&difference.expected))
            .leaf("ActualValue", &text(&difference.actual))
            .leaf("DifferenceType", &difference.kind)
            .close("member");
    }
    out.close("PropertyDifferences");
    out.close(tag);
}

impl Stacks<'_> {
    pub(super) fn detect_stack_drift(&self, params: &Params) -> Answer {
        let stack = self.find(required(params, "StackName")?)?;
        if stack.busy() {
            return Err(validation(format!(
                "Drift detection is not supported for stack {} while it is in {} state",
                stack.stack_name, stack.status
            )));
        }
        let id = new_uuid();
        let detection = DriftDetection {
            id: id.clone(),
            status: "DETECTION_IN_PROGRESS".to_owned(),
            reason: None,
            stack_drift_status: "NOT_CHECKED".to_owned(),
            drifted: 0,
            started_at: now_epoch_seconds(),
        };
        if let Some(record) = self.store.state().stacks.get_mut(&stack.stack_id) {
            record.drift_detections.push(detection);
        }
        let store = self.store.clone();
        let types = self.types.clone();
        let scope = self.scope(&stack);
        let detection_id = id.clone();
        tokio::spawn(async move {
            let mut drifted = 0;
            for resource in stack.resources.values() {
                let found = drift::detect(&store, &types, &scope, resource).await;
                if matches!(found.status.as_str(), "MODIFIED" | "DELETED") {
                    drifted += 1;
                }
                let mut state = store.state();
                if let Some(kept) = state
                    .stacks
                    .get_mut(&stack.stack_id)
                    .and_then(|record| record.resources.get_mut(&resource.logical_id))
                {
                    kept.drift = Some(found);
                }
            }
            let mut state = store.state();
            if let Some(run) = state
                .stacks
                .get_mut(&stack.stack_id)
                .and_then(|record| record.drift_detections.iter_mut().find(|run| run.id == detection_id))
            {
                run.status = "DETECTION_COMPLETE".to_owned();
                run.drifted = drifted;
                run.stack_drift_status = if drifted > 0 { "DRIFTED" } else { "IN_SYNC" }.to_owned();
            }
        });
        let mut out = Xml::new();
        out.leaf("StackDriftDetectionId", &id);
        Ok(Some(out.finish()))
    }

    pub(super) fn describe_stack_drift_detection_status(&self, params: &Params) -> Answer {
        let id = required(params, "StackDriftDetectionId")?;
        let state = self.store.state();
        let region = self.region();
        let found = state
            .stacks
            .in_scope(&self.context.caller.account_id, &region)
            .find_map(|stack| Some((stack, stack.drift_detections.iter().find(|run| run.id == id)?)));
        let Some((stack, run)) = found else {
            return Err(validation(format!("Drift detection with id {id} does not exist")));
        };
        let mut out = Xml::new();
        out.leaf("StackId", &stack.stack_id)
            .leaf("StackDriftDetectionId", &run.id)
            .leaf("StackDriftStatus", &run.stack_drift_status)
            .leaf("DetectionStatus", &run.status)
            .leaf_opt("DetectionStatusReason", run.reason.as_deref())
            .leaf("DriftedStackResourceCount", &run.drifted.to_string())
            .leaf("Timestamp", &xml::date(run.started_at));
        Ok(Some(out.finish()))
    }

    pub(super) fn describe_stack_resource_drifts(&self, params: &Params) -> Answer {
        let stack = self.find(required(params, "StackName")?)?;
        let filter = params.list("StackResourceDriftStatusFilters");
        let mut out = Xml::new();
        out.open("StackResourceDrifts");
        for resource in stack.resources.values() {
            let listed = resource
                .drift
                .as_ref()
                .is_some_and(|drift| filter.is_empty() || filter.contains(&drift.status));
            if listed {
                resource_drift(&mut out, "member", &stack, resource);
            }
        }
        out.close("StackResourceDrifts");
        Ok(Some(out.finish()))
    }

    /// Detects one resource's drift, at once, as DetectStackResourceDrift does.
    pub(super) async fn detect_stack_resource_drift(&self, params: &Params) -> Answer {
        let stack = self.find(required(params, "StackName")?)?;
        let logical_id = required(params, "LogicalResourceId")?;
        let resource = stack.resources.get(logical_id).ok_or_else(|| {
            QueryError::new(
                400,
                "ValidationError",
                format!("Resource {logical_id} does not exist for stack {}", stack.stack_name),
            )
        })?;
        let found = drift::detect(self.store, self.types, &self.scope(&stack), resource).await;
        let mut checked = resource.clone();
        checked.drift = Some(found);
        if let Some(kept) = self
            .store
            .state()
            .stacks
            .get_mut(&stack.stack_id)
            .and_then(|record| record.resources.get_mut(logical_id))
        {
            kept.drift = checked.drift.clone();
        }
        let mut out = Xml::new();
        resource_drift(&mut out, "StackResourceDrift", &stack, &checked);
        Ok(Some(out.finish()))
    }
}
