//! The stack shapes of CloudFormation's query API, written as its XML.

use std::time::{Duration, UNIX_EPOCH};

use crate::clock::format_iso8601;
use crate::protocol::query::Xml;
use crate::world::stacks::{ChangeSet, Stack, StackEvent, StackResource};

pub(super) fn date(epoch_seconds: f64) -> String {
    format_iso8601(UNIX_EPOCH + Duration::from_secs_f64(epoch_seconds.max(0.0)))
}

pub(super) fn stack(xml: &mut Xml, stack: &Stack) {
    xml.leaf("StackId", &stack.stack_id)
        .leaf("StackName", &stack.stack_name)
        .leaf_opt("Description", stack.description.as_deref())
        .leaf("CreationTime", &date(stack.created_at))
        .leaf_opt("LastUpdatedTime", stack.updated_at.map(date).as_deref())
        .leaf_opt("DeletionTime", stack.deleted_at.map(date).as_deref())
        .leaf("StackStatus", &stack.status)
        .leaf_opt("StackStatusReason", stack.status_reason.as_deref())
        .leaf("DisableRollback", if stack.disable_rollback { "true" } else { "false" });
    let last_detection = stack
        .drift_detections
        .iter()
        .rev()
        .find(|run| run.status == "DETECTION_COMPLETE");
    xml.open("DriftInformation")
        .leaf(
            "StackDriftStatus",
            last_detection.map_or("NOT_CHECKED", |run| run.stack_drift_status.as_str()),
        )
        .leaf_opt(
            "LastCheckTimestamp",
            last_detection.map(|run| date(run.started_at)).as_deref(),
        )
        .close("DriftInformation");
    xml.open("Parameters");
    for parameter in &stack.parameters {
        xml.open("member")
            .leaf("ParameterKey", &parameter.key)
            .leaf(
                "ParameterValue",
                if parameter.no_echo { "****" } else { &parameter.value },
            )
            .leaf_opt(
                "ResolvedValue",
                parameter.resolved_value.as_deref().filter(|_| !parameter.no_echo),
            )
            .close("member");
    }
    xml.close("Parameters");
    xml.open("Outputs");
    for output in &stack.outputs {
        xml.open("member")
            .leaf("OutputKey", &output.key)
            .leaf("OutputValue", &output.value)
            .leaf_opt("Description", output.description.as_deref())
            .leaf_opt("ExportName", output.export_name.as_deref())
            .close("member");
    }
    xml.close("Outputs");
    xml.open("Capabilities");
    for capability in &stack.capabilities {
        xml.leaf("member", capability);
    }
    xml.close("Capabilities");
    xml.open("Tags");
    for (key, value) in &stack.tags {
        xml.open("member").leaf("Key", key).leaf("Value", value).close("member");
    }
    xml.close("Tags");
}

pub(super) fn event(xml: &mut Xml, stack: &Stack, event: &StackEvent) {
    xml.open("member")
        .leaf("StackId", &stack.stack_id)
        .leaf("EventId", &event.event_id)
        .leaf("StackName", &stack.stack_name)
        .leaf("LogicalResourceId", &event.logical_id)
        .leaf("PhysicalResourceId", &event.physical_id)
        .leaf("ResourceType", &event.type_name)
        .leaf("Timestamp", &date(event.timestamp))
        .leaf("ResourceStatus", &event.status)
        .leaf_opt("ResourceStatusReason", event.reason.as_deref())
        .leaf_opt("ResourceProperties", event.properties.as_deref())
        .close("member");
}

/// A StackResource (DescribeStackResources) or, with `detail`, a StackResourceDetail (DescribeStackResource).
pub(super) fn resource(xml: &mut Xml, stack: &Stack, resource: &StackResource, detail: bool) {
    xml.leaf("StackId", &stack.stack_id)
        .leaf("StackName", &stack.stack_name)
        .leaf("LogicalResourceId", &resource.logical_id)
        .leaf_opt("PhysicalResourceId", resource.physical_id.as_deref())
        .leaf("ResourceType", &resource.type_name)
        .leaf(
            if detail { "LastUpdatedTimestamp" } else { "Timestamp" },
            &date(resource.updated_at),
        )
        .leaf("ResourceStatus", &resource.status)
        .leaf_opt("ResourceStatusReason", resource.status_reason.as_deref());
}

pub(super) fn resource_summary(xml: &mut Xml, resource: &StackResource) {
    xml.open("member")
        .leaf("LogicalResourceId", &resource.logical_id)
        .leaf_opt("PhysicalResourceId", resource.physical_id.as_deref())
        .leaf("ResourceType", &resource.type_name)
        .leaf("LastUpdatedTimestamp", &date(resource.updated_at))
        .leaf("ResourceStatus", &resource.status)
        .leaf_opt("ResourceStatusReason", resource.status_reason.as_deref())
        .close("member");
}

pub(super) fn change_set(xml: &mut Xml, stack: &Stack, change_set: &ChangeSet) {
    xml.leaf("ChangeSetName", &change_set.name)
        .leaf("ChangeSetId", &change_set.id)
        .leaf("StackId", &stack.stack_id)
        .leaf("StackName", &stack.stack_name)
        .leaf_opt("Description", change_set.description.as_deref())
        .leaf("CreationTime", &date(change_set.created_at))
        .leaf("ExecutionStatus", &change_set.execution_status)
        .leaf("Status", &change_set.status)
        .leaf_opt("StatusReason", change_set.status_reason.as_deref());
    xml.open("Parameters");
    for (key, value) in &change_set.parameters {
        xml.open("member")
            .leaf("ParameterKey", key)
            .leaf("ParameterValue", value)
            .close("member");
    }
    xml.close("Parameters");
    xml.open("Capabilities");
    for capability in &change_set.capabilities {
        xml.leaf("member", capability);
    }
    xml.close("Capabilities");
    xml.open("Changes");
    for change in &change_set.changes {
        xml.open("member").leaf("Type", "Resource").open("ResourceChange");
        xml.leaf("Action", &change.action)
            .leaf("LogicalResourceId", &change.logical_id)
            .leaf_opt("PhysicalResourceId", change.physical_id.as_deref())
            .leaf("ResourceType", &change.type_name)
            .leaf_opt("Replacement", change.replacement.as_deref());
        xml.close("ResourceChange").close("member");
    }
    xml.close("Changes");
}
