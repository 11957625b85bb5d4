//! The stack engine: creates, updates and deletes a stack's resources as CloudFormation does. Resources go in
//! dependency waves (each wave's resources at once), every step is an event on the stack, a failed create rolls
//! back (everything made is deleted), a failed update rolls back to the previous template, an update changes a
//! resource in place unless a create-only property changed (then a new one is made first and the old deleted in
//! the cleanup), and a delete goes in reverse waves, keeping what `DeletionPolicy: Retain` keeps.

mod plan;
mod record;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;
use tokio::task::JoinSet;

pub(crate) use plan::{Plan, StackPlace};
use record::{ResourceEvent, resource_event, stack_status, untracked_event};

use super::template::{EvalContext, ResourceDecl, ResourceLookup, TemplateError, outputs, resolve};
use crate::resources::{Failure, Made, Registry, ResourceType, Scope};
use crate::world::stacks::{StackOutput, StackParameter, StackResource};
use crate::world::store::Store;

pub(crate) struct Engine {
    pub store: Arc<Store>,
    pub types: Arc<Registry>,
}

/// The stack's resources as they are: what `Ref` and `Fn::GetAtt` read.
struct Snapshot(BTreeMap<String, (String, Value)>);

impl ResourceLookup for Snapshot {
    fn physical_id(&self, logical_id: &str) -> Option<String> {
        self.0.get(logical_id).map(|(physical, _)| physical.clone())
    }

    fn attribute(&self, logical_id: &str, name: &str) -> Option<Value> {
        let (_, model) = self.0.get(logical_id)?;
        model.get(name).filter(|value| !value.is_null()).cloned()
    }
}

/// One resource's step in a deployment.
enum Step {
    Create,
    Update(StackResource),
    /// Made anew (a create-only property or the type changed); the old one is deleted in the cleanup.
    Replace(StackResource),
}

/// What a deployment did, to be undone on failure or finished in the cleanup.
#[derive(Default)]
struct Done {
    created: Vec<(String, String, Made)>,
    updated: Vec<StackResource>,
    replaced: Vec<StackResource>,
}

impl Engine {
    fn snapshot(&self, stack_id: &str) -> Snapshot {
        let state = self.store.state();
        let resources = state
            .stacks
            .get(stack_id)
            .map(|stack| {
                stack
                    .resources
                    .values()
                    .filter_map(|r| Some((r.logical_id.clone(), (r.physical_id.clone()?, r.model.clone()))))
                    .collect()
            })
            .unwrap_or_default();
        Snapshot(resources)
    }

    /// The exports of every stack in the scope's account and region, by name.
    fn exports(&self, scope: &Scope) -> BTreeMap<String, String> {
        let state = self.store.state();
        state
            .stacks
            .in_scope(&scope.account_id, &scope.region)
            .filter(|stack| stack.deleted_at.is_none())
            .flat_map(|stack| stack.outputs.iter())
            .filter_map(|output| Some((output.export_name.clone()?, output.value.clone())))
            .collect()
    }

    fn resolve_properties(
        &self,
        scope: &Scope,
        plan: &Plan,
        stack_id: &str,
        decl: &ResourceDecl,
    ) -> Result<Value, TemplateError> {
        let snapshot = self.snapshot(stack_id);
        let exports = self.exports(scope);
        let imports = |name: &str| exports.get(name).cloned();
        let context = EvalContext {
            pseudo: &plan.pseudo,
            parameters: &plan.parameters,
            conditions: &plan.conditions,
            mappings: plan.template.mappings(),
            resources: &snapshot,
            imports: &imports,
            azs: &[],
        };
        resolve(&decl.properties, &context)
    }

    /// Writes the plan's template and parameters on the stack, as the operation's new state.
    fn adopt(&self, stack_id: &str, plan: &Plan) {
        let mut state = self.store.state();
        if let Some(stack) = state.stacks.get_mut(stack_id) {
            stack.template_body = plan.body.clone();
            stack.description = plan.template.description().map(str::to_owned);
            stack.parameters = plan
                .parameters
                .iter()
                .map(|(key, value)| StackParameter {
                    key: key.to_owned(),
                    value: value.value.clone(),
                    resolved_value: value.resolved_value.clone(),
                    no_echo: value.no_echo,
                })
                .collect();
        }
    }

    fn finish_outputs(&self, scope: &Scope, stack_id: &str, plan: &Plan) -> Result<(), TemplateError> {
        let snapshot = self.snapshot(stack_id);
        let exports = self.exports(scope);
        let imports = |name: &str| exports.get(name).cloned();
        let context = EvalContext {
            pseudo: &plan.pseudo,
            parameters: &plan.parameters,
            conditions: &plan.conditions,
            mappings: plan.template.mappings(),
            resources: &snapshot,
            imports: &imports,
            azs: &[],
        };
        let resolved = outputs(&plan.template, &context)?;
        let mut state = self.store.state();
        if let Some(stack) = state.stacks.get_mut(stack_id) {
            stack.outputs = resolved
                .into_iter()
                .map(|output| StackOutput {
                    key: output.key,
                    value: output.value,
                    description: output.description,
                    export_name: output.export_name,
                })
                .collect();
        }
        Ok(())
    }

    /// Creates a new stack's resources; rolls back on failure unless rollback is disabled.
    pub async fn create(self: Arc<Self>, scope: Scope, plan: Plan) {
        let stack_id = scope.stack_id.clone().unwrap_or_default();
        self.adopt(&stack_id, &plan);
        stack_status(&self.store, &stack_id, "CREATE_IN_PROGRESS", Some("User Initiated"));
        let mut done = Done::default();
        let result = match self.deploy(&scope, &stack_id, &plan, &mut done).await {
            Ok(()) => self
                .finish_outputs(&scope, &stack_id, &plan)
                .map_err(|error| error.to_string()),
            Err(reason) => Err(reason),
        };
        match result {
            Ok(()) => stack_status(&self.store, &stack_id, "CREATE_COMPLETE", None),
            Err(reason) => {
                let disable_rollback = self
                    .store
                    .state()
                    .stacks
                    .get(&stack_id)
                    .is_some_and(|stack| stack.disable_rollback);
                if disable_rollback {
                    stack_status(&self.store, &stack_id, "CREATE_FAILED", Some(&reason));
                    return;
                }
                let reason = format!("{reason}. Rollback requested by user.");
                stack_status(&self.store, &stack_id, "ROLLBACK_IN_PROGRESS", Some(&reason));
                let rolled_back = self.delete_all(&scope, &stack_id, true).await;
                let status = if rolled_back {
                    "ROLLBACK_COMPLETE"
                } else {
                    "ROLLBACK_FAILED"
                };
                stack_status(&self.store, &stack_id, status, None);
            }
        }
    }

    /// Updates a stack to `plan`; on failure, back to what it was.
    pub async fn update(self: Arc<Self>, scope: Scope, plan: Plan, previous: Plan) {
        let stack_id = scope.stack_id.clone().unwrap_or_default();
        let before: BTreeMap<String, StackResource> = self
            .store
            .state()
            .stacks
            .get(&stack_id)
            .map(|stack| stack.resources.clone())
            .unwrap_or_default();
        self.adopt(&stack_id, &plan);
        stack_status(&self.store, &stack_id, "UPDATE_IN_PROGRESS", Some("User Initiated"));
        let mut done = Done::default();
        let result = match self.deploy(&scope, &stack_id, &plan, &mut done).await {
            Ok(()) => self
                .finish_outputs(&scope, &stack_id, &plan)
                .map_err(|error| error.to_string()),
            Err(reason) => Err(reason),
        };
        match result {
            Ok(()) => {
                stack_status(&self.store, &stack_id, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", None);
                // The replaced resources' old selves, and the resources the new template no longer has.
                let kept: Vec<String> = plan.waves.iter().flatten().cloned().collect();
                let mut old: Vec<StackResource> = done.replaced;
                old.extend(before.values().filter(|r| !kept.contains(&r.logical_id)).cloned());
                old.sort_by_key(|resource| std::cmp::Reverse(resource.wave));
                for resource in &old {
                    let removed = !kept.contains(&resource.logical_id);
                    self.delete_one(&scope, &stack_id, resource, removed).await;
                    if !kept.contains(&resource.logical_id) {
                        self.store
                            .state()
                            .stacks
                            .get_mut(&stack_id)
                            .map(|stack| stack.resources.remove(&resource.logical_id));
                    }
                }
                stack_status(&self.store, &stack_id, "UPDATE_COMPLETE", None);
            }
            Err(reason) => {
                stack_status(&self.store, &stack_id, "UPDATE_ROLLBACK_IN_PROGRESS", Some(&reason));
                for (logical_id, type_name, made) in done.created.iter().rev() {
                    let current = StackResource {
                        logical_id: logical_id.clone(),
                        physical_id: Some(made.physical_id.clone()),
                        type_name: type_name.clone(),
                        status: String::new(),
                        status_reason: None,
                        properties: Value::Null,
                        model: made.model.clone(),
                        wave: 0,
                        deletion_policy: None,
                        updated_at: 0.0,
                        drift: None,
                    };
                    self.delete_one(&scope, &stack_id, &current, false).await;
                }
                for old in &done.updated {
                    self.revert(&scope, &stack_id, old).await;
                }
                {
                    let mut state = self.store.state();
                    if let Some(stack) = state.stacks.get_mut(&stack_id) {
                        stack.resources = before;
                    }
                }
                self.adopt(&stack_id, &previous);
                let _ = self.finish_outputs(&scope, &stack_id, &previous);
                stack_status(&self.store, &stack_id, "UPDATE_ROLLBACK_COMPLETE", None);
            }
        }
    }

    /// Deletes the stack's resources in reverse waves; the stack is then DELETE_COMPLETE.
    pub async fn delete(self: Arc<Self>, scope: Scope) {
        let stack_id = scope.stack_id.clone().unwrap_or_default();
        stack_status(&self.store, &stack_id, "DELETE_IN_PROGRESS", Some("User Initiated"));
        if self.delete_all(&scope, &stack_id, false).await {
            {
                let mut state = self.store.state();
                if let Some(stack) = state.stacks.get_mut(&stack_id) {
                    stack.deleted_at = Some(crate::clock::now_epoch_seconds());
                    stack.outputs.clear();
                }
            }
            stack_status(&self.store, &stack_id, "DELETE_COMPLETE", None);
        } else {
            stack_status(
                &self.store,
                &stack_id,
                "DELETE_FAILED",
                Some("The following resource(s) failed to delete: see the stack's events."),
            );
        }
    }

    /// Makes the plan's resources wave by wave; the first failure's reason.
    async fn deploy(&self, scope: &Scope, stack_id: &str, plan: &Plan, done: &mut Done) -> Result<(), String> {
        for (wave_index, wave) in plan.waves.iter().enumerate() {
            let mut running = JoinSet::new();
            for logical_id in wave {
                let Some(decl) = plan.template.resource(logical_id) else {
                    continue;
                };
                let Some(resource_type) = self.types.get(&decl.type_name) else {
                    return Err(format!("Unrecognized resource type {}", decl.type_name));
                };
                let properties = match self.resolve_properties(scope, plan, stack_id, decl) {
                    Ok(properties) => properties,
                    Err(error) => return Err(error.to_string()),
                };
                let existing = self
                    .store
                    .state()
                    .stacks
                    .get(stack_id)
                    .and_then(|stack| stack.resources.get(logical_id).cloned())
                    .filter(|r| r.physical_id.is_some() && r.status != "DELETE_COMPLETE");
                // The old self of a replaced resource is deleted in the cleanup as its UpdateReplacePolicy says.
                let replaced = |old: StackResource| {
                    Step::Replace(StackResource {
                        deletion_policy: decl.update_replace_policy.clone(),
                        ..old
                    })
                };
                let step = match existing {
                    None => Step::Create,
                    Some(old) if old.type_name != decl.type_name => replaced(old),
                    Some(old) if old.properties == properties => continue,
                    Some(old) if resource_type.schema().replaces(&old.properties, &properties) => replaced(old),
                    Some(old) => Step::Update(old),
                };
                let task = Task {
                    store: self.store.clone(),
                    scope: scope.clone(),
                    stack_id: stack_id.to_owned(),
                    logical_id: logical_id.clone(),
                    type_name: decl.type_name.clone(),
                    resource_type,
                    properties,
                    wave: wave_index,
                    deletion_policy: decl.deletion_policy.clone(),
                };
                running.spawn(task.run(step));
            }
            let mut failures = Vec::new();
            while let Some(joined) = running.join_next().await {
                match joined {
                    Ok(Outcome::Made {
                        logical_id,
                        type_name,
                        made,
                        step,
                    }) => match *step {
                        Step::Create => done.created.push((logical_id, type_name, made)),
                        Step::Replace(old) => {
                            done.created.push((logical_id, type_name, made));
                            done.replaced.push(old);
                        }
                        Step::Update(old) => done.updated.push(old),
                    },
                    Ok(Outcome::Failed { logical_id }) => failures.push(logical_id),
                    Err(error) => failures.push(format!("(a task that ended: {error})")),
                }
            }
            if !failures.is_empty() {
                failures.sort();
                let verb = if done.updated.is_empty() && done.replaced.is_empty() {
                    "create"
                } else {
                    "update"
                };
                return Err(format!(
                    "The following resource(s) failed to {verb}: [{}]",
                    failures.join(", ")
                ));
            }
        }
        Ok(())
    }

    /// Deletes every resource of the stack in reverse waves; whether all went.
    async fn delete_all(&self, scope: &Scope, stack_id: &str, rolling_back: bool) -> bool {
        let mut resources: Vec<StackResource> = self
            .store
            .state()
            .stacks
            .get(stack_id)
            .map(|stack| stack.resources.values().cloned().collect())
            .unwrap_or_default();
        resources.sort_by_key(|resource| std::cmp::Reverse(resource.wave));
        let mut all = true;
        for resource in resources {
            if resource.status == "DELETE_COMPLETE" || resource.status == "DELETE_SKIPPED" {
                continue;
            }
            // A resource whose creation failed was never made: nothing to delete.
            if rolling_back && resource.status == "CREATE_FAILED" {
                continue;
            }
            all &= self.delete_one(scope, stack_id, &resource, true).await;
        }
        all
    }

    /// Deletes one resource with its events (or skips it under `DeletionPolicy: Retain`); `tracked`: the stack's
    /// record of the resource follows (not for the old self of a replaced resource).
    async fn delete_one(&self, scope: &Scope, stack_id: &str, resource: &StackResource, tracked: bool) -> bool {
        let record = |event: ResourceEvent<'_>| {
            if tracked {
                resource_event(&self.store, stack_id, event, resource.wave);
            } else {
                untracked_event(&self.store, stack_id, event);
            }
        };
        let Some(physical_id) = resource.physical_id.clone() else {
            return true;
        };
        fn event<'a>(
            resource: &'a StackResource,
            physical_id: &'a str,
            status: &'a str,
            reason: Option<&'a str>,
        ) -> ResourceEvent<'a> {
            ResourceEvent {
                logical_id: &resource.logical_id,
                type_name: &resource.type_name,
                physical_id: Some(physical_id),
                status,
                reason,
                properties: None,
            }
        }
        if resource.deletion_policy.as_deref() == Some("Retain") {
            record(event(resource, &physical_id, "DELETE_SKIPPED", None));
            return true;
        }
        record(event(resource, &physical_id, "DELETE_IN_PROGRESS", None));
        let Some(resource_type) = self.types.get(&resource.type_name) else {
            record(event(
                resource,
                &physical_id,
                "DELETE_FAILED",
                Some("the type is no longer registered"),
            ));
            return false;
        };
        let made = Made {
            physical_id: physical_id.clone(),
            model: resource.model.clone(),
        };
        match resource_type
            .delete(&self.store, scope, &resource.logical_id, &made)
            .await
        {
            Ok(()) => {
                record(event(resource, &physical_id, "DELETE_COMPLETE", None));
                true
            }
            Err(failure) => {
                let reason = failure_reason(&failure);
                record(event(resource, &physical_id, "DELETE_FAILED", Some(&reason)));
                false
            }
        }
    }

    /// Updates a resource back to what it was (an update's rollback).
    async fn revert(&self, scope: &Scope, stack_id: &str, old: &StackResource) {
        let Some(resource_type) = self.types.get(&old.type_name) else {
            return;
        };
        let physical_id = old.physical_id.clone().unwrap_or_default();
        let event = |status| ResourceEvent {
            logical_id: &old.logical_id,
            type_name: &old.type_name,
            physical_id: Some(&physical_id),
            status,
            reason: None,
            properties: Some(&old.properties),
        };
        resource_event(&self.store, stack_id, event("UPDATE_IN_PROGRESS"), old.wave);
        let current = Made {
            physical_id: physical_id.clone(),
            model: old.model.clone(),
        };
        let reverted = resource_type
            .update(
                &self.store,
                scope,
                &old.logical_id,
                &current,
                &old.properties,
                &old.properties,
            )
            .await;
        let status = if reverted.is_ok() {
            "UPDATE_COMPLETE"
        } else {
            "UPDATE_FAILED"
        };
        resource_event(&self.store, stack_id, event(status), old.wave);
    }
}

fn failure_reason(failure: &Failure) -> String {
    format!("{} (HandlerErrorCode: {})", failure.message, failure.code)
}

/// One resource's create, update or replacement, run beside the others of its wave.
struct Task {
    store: Arc<Store>,
    scope: Scope,
    stack_id: String,
    logical_id: String,
    type_name: String,
    resource_type: ResourceType,
    properties: Value,
    wave: usize,
    deletion_policy: Option<String>,
}

enum Outcome {
    Made {
        logical_id: String,
        type_name: String,
        made: Made,
        step: Box<Step>,
    },
    Failed {
        logical_id: String,
    },
}

impl Task {
    async fn run(self, step: Step) -> Outcome {
        let (in_progress, complete, failed) = match step {
            Step::Update(_) => ("UPDATE_IN_PROGRESS", "UPDATE_COMPLETE", "UPDATE_FAILED"),
            Step::Create | Step::Replace(_) => ("CREATE_IN_PROGRESS", "CREATE_COMPLETE", "CREATE_FAILED"),
        };
        let old_physical = match &step {
            Step::Update(old) => old.physical_id.clone(),
            _ => None,
        };
        let reason = matches!(step, Step::Replace(_))
            .then_some("Requested update requires the creation of a new physical resource; hence creating one.");
        resource_event(
            &self.store,
            &self.stack_id,
            ResourceEvent {
                logical_id: &self.logical_id,
                type_name: &self.type_name,
                physical_id: old_physical.as_deref(),
                status: in_progress,
                reason,
                properties: Some(&self.properties),
            },
            self.wave,
        );
        let result = match &step {
            Step::Update(old) => {
                let current = Made {
                    physical_id: old.physical_id.clone().unwrap_or_default(),
                    model: old.model.clone(),
                };
                self.resource_type
                    .update(
                        &self.store,
                        &self.scope,
                        &self.logical_id,
                        &current,
                        &self.properties,
                        &old.properties,
                    )
                    .await
            }
            Step::Create | Step::Replace(_) => {
                self.resource_type
                    .create(&self.store, &self.scope, &self.logical_id, &self.properties)
                    .await
            }
        };
        match result {
            Ok(made) => {
                {
                    let mut state = self.store.state();
                    if let Some(resource) = state
                        .stacks
                        .get_mut(&self.stack_id)
                        .and_then(|stack| stack.resources.get_mut(&self.logical_id))
                    {
                        resource.properties = self.properties.clone();
                        resource.model = made.model.clone();
                        resource.type_name = self.type_name.clone();
                        resource.deletion_policy = self.deletion_policy.clone();
                        resource.wave = self.wave;
                    }
                }
                resource_event(
                    &self.store,
                    &self.stack_id,
                    ResourceEvent {
                        logical_id: &self.logical_id,
                        type_name: &self.type_name,
                        physical_id: Some(&made.physical_id),
                        status: complete,
                        reason: None,
                        properties: None,
                    },
                    self.wave,
                );
                Outcome::Made {
                    logical_id: self.logical_id,
                    type_name: self.type_name,
                    made,
                    step: Box::new(step),
                }
            }
            Err(failure) => {
                let reason = failure_reason(&failure);
                resource_event(
                    &self.store,
                    &self.stack_id,
                    ResourceEvent {
                        logical_id: &self.logical_id,
                        type_name: &self.type_name,
                        physical_id: old_physical.as_deref(),
                        status: failed,
                        reason: Some(&reason),
                        properties: None,
                    },
                    self.wave,
                );
                Outcome::Failed {
                    logical_id: self.logical_id,
                }
            }
        }
    }
}
