//! What the engine writes on a stack as it goes: statuses and CloudFormation's events, newest last.

use serde_json::Value;

use crate::clock::now_epoch_seconds;
use crate::ids::new_uuid;
use crate::world::stacks::{StackEvent, StackResource};
use crate::world::store::Store;

/// The type name stack-level events carry.
pub(crate) const STACK_TYPE: &str = "AWS::CloudFormation::Stack";

/// Sets the stack's status, with its event.
pub(crate) fn stack_status(store: &Store, stack_id: &str, status: &str, reason: Option<&str>) {
    let mut state = store.state();
    let Some(stack) = state.stacks.get_mut(stack_id) else {
        return;
    };
    stack.status = status.to_owned();
    stack.status_reason = reason.map(str::to_owned);
    let event = StackEvent {
        event_id: new_uuid(),
        logical_id: stack.stack_name.clone(),
        physical_id: stack.stack_id.clone(),
        type_name: STACK_TYPE.to_owned(),
        timestamp: now_epoch_seconds(),
        status: status.to_owned(),
        reason: reason.map(str::to_owned),
        properties: None,
    };
    stack.events.push(event);
}

/// What one resource event says.
pub(crate) struct ResourceEvent<'a> {
    pub logical_id: &'a str,
    pub type_name: &'a str,
    pub physical_id: Option<&'a str>,
    pub status: &'a str,
    pub reason: Option<&'a str>,
    pub properties: Option<&'a Value>,
}

/// Records an event of a resource the stack no longer tracks (the old self of a replaced resource).
pub(crate) fn untracked_event(store: &Store, stack_id: &str, event: ResourceEvent<'_>) {
    let mut state = store.state();
    let Some(stack) = state.stacks.get_mut(stack_id) else {
        return;
    };
    stack.events.push(StackEvent {
        event_id: new_uuid(),
        logical_id: event.logical_id.to_owned(),
        physical_id: event.physical_id.unwrap_or_default().to_owned(),
        type_name: event.type_name.to_owned(),
        timestamp: now_epoch_seconds(),
        status: event.status.to_owned(),
        reason: event.reason.map(str::to_owned),
        properties: event.properties.map(Value::to_string),
    });
}

/// Records a resource's event, and its status on the stack's resource (made if new).
pub(crate) fn resource_event(store: &Store, stack_id: &str, event: ResourceEvent<'_>, wave: usize) {
    let mut state = store.state();
    let Some(stack) = state.stacks.get_mut(stack_id) else {
        return;
    };
    let now = now_epoch_seconds();
    let resource = stack
        .resources
        .entry(event.logical_id.to_owned())
        .or_insert_with(|| StackResource {
            logical_id: event.logical_id.to_owned(),
            physical_id: None,
            type_name: event.type_name.to_owned(),
            status: String::new(),
            status_reason: None,
            properties: Value::Null,
            model: Value::Null,
            wave,
            deletion_policy: None,
            updated_at: now,
            drift: None,
        });
    resource.status = event.status.to_owned();
    resource.status_reason = event.reason.map(str::to_owned);
    resource.updated_at = now;
    if let Some(physical_id) = event.physical_id {
        resource.physical_id = Some(physical_id.to_owned());
    }
    let physical_id = resource.physical_id.clone().unwrap_or_default();
    stack.events.push(StackEvent {
        event_id: new_uuid(),
        logical_id: event.logical_id.to_owned(),
        physical_id,
        type_name: event.type_name.to_owned(),
        timestamp: now,
        status: event.status.to_owned(),
        reason: event.reason.map(str::to_owned),
        properties: event.properties.map(Value::to_string),
    });
}
