//! Change sets: what an update (or a new stack's creation) would do, reviewed, then executed. This is how
//! `aws cloudformation deploy` and CDK deploy.

use serde_json::Value;

use super::params::{does_not_exist, required, stack_parameters};
use super::{Answer, Stacks, check_capabilities, template_body, validation, xml};
use crate::clock::now_epoch_seconds;
use crate::ids::new_uuid;
use crate::protocol::query::{Params, QueryError, Xml};
use crate::stacks::engine::Plan;
use crate::stacks::template::{EvalContext, ResourceLookup, resolve};
use crate::world::stacks::{ChangeSet, ResourceChange, Stack};

/// CloudFormation's reason for a change set that changes nothing.
const NO_CHANGES: &str =
    "The submitted information didn't contain changes. Submit different information to create a change set.";

/// The stack's resources as they are, for resolving the new template's properties.
struct Existing<'a>(&'a Stack);

impl ResourceLookup for Existing<'_> {
    fn physical_id(&self, logical_id: &str) -> Option<String> {
        self.0.resources.get(logical_id)?.physical_id.clone()
    }

    fn attribute(&self, logical_id: &str, name: &str) -> Option<Value> {
        self.0.resources.get(logical_id)?.model.get(name).cloned()
    }
}

/// The resource changes from `stack` as it is to `plan`: Add, Modify (with Replacement) and Remove.
pub(super) fn changes(stacks: &Stacks<'_>, stack: &Stack, plan: &Plan) -> Vec<ResourceChange> {
    let existing = Existing(stack);
    let imports = |_: &str| None;
    let context = EvalContext {
        pseudo: &plan.pseudo,
        parameters: &plan.parameters,
        conditions: &plan.conditions,
        mappings: plan.template.mappings(),
        resources: &existing,
        imports: &imports,
        azs: &[],
    };
    let mut changes = Vec::new();
    let planned: Vec<&String> = plan.waves.iter().flatten().collect();
    for logical_id in &planned {
        let Some(decl) = plan.template.resource(logical_id) else {
            continue;
        };
        let current = stack
            .resources
            .get(logical_id.as_str())
            .filter(|r| r.physical_id.is_some() && r.status != "DELETE_COMPLETE");
        let Some(current) = current else {
            changes.push(ResourceChange {
                action: "Add".into(),
                logical_id: (*logical_id).clone(),
                physical_id: None,
                type_name: decl.type_name.clone(),
                replacement: None,
            });
            continue;
        };
        // A property that names a resource about to change resolves only then: "Conditional", as CloudFormation says.
        let replacement = match resolve(&decl.properties, &context) {
            Ok(properties) if properties == current.properties && decl.type_name == current.type_name => continue,
            Ok(properties) => {
                let replaces = decl.type_name != current.type_name
                    || stacks
                        .types
                        .get(&decl.type_name)
                        .is_some_and(|t| t.schema().replaces(&current.properties, &properties));
                if replaces { "True" } else { "False" }
            }
            Err(_) => "Conditional",
        };
        changes.push(ResourceChange {
            action: "Modify".into(),
            logical_id: (*logical_id).clone(),
            physical_id: current.physical_id.clone(),
            type_name: decl.type_name.clone(),
            replacement: Some(replacement.into()),
        });
    }
    for (logical_id, resource) in &stack.resources {
        if !planned.contains(&logical_id) && resource.status != "DELETE_COMPLETE" {
            changes.push(ResourceChange {
                action: "Remove".into(),
                logical_id: logical_id.clone(),
                physical_id: resource.physical_id.clone(),
                type_name: resource.type_name.clone(),
                replacement: None,
            });
        }
    }
    changes
}

fn find_change_set<'a>(stack: &'a Stack, name_or_id: &str) -> Result<&'a ChangeSet, QueryError> {
    stack
        .change_sets
        .iter()
        .find(|set| set.id == name_or_id || set.name == name_or_id)
        .ok_or_else(|| {
            QueryError::new(
                404,
                "ChangeSetNotFound",
                format!("ChangeSet [{name_or_id}] does not exist"),
            )
        })
}

impl Stacks<'_> {
    /// The stack a change set request names: by StackName, or through a ChangeSetName that is an ARN.
    pub(super) fn stack_of_change_set(&self, params: &Params) -> Result<Stack, QueryError> {
        if let Some(name) = params.get("StackName") {
            return self.find(name);
        }
        let change_set = required(params, "ChangeSetName")?;
        let state = self.store.state();
        let region = self.region();
        state
            .stacks
            .in_scope(&self.context.caller.account_id, &region)
            .find(|stack| stack.change_sets.iter().any(|set| set.id == change_set))
            .cloned()
            .ok_or_else(|| {
                QueryError::new(
                    404,
                    "ChangeSetNotFound",
                    format!("ChangeSet [{change_set}] does not exist"),
                )
            })
    }

    pub(super) fn create_change_set(&self, params: &Params) -> Answer {
        let stack_name = required(params, "StackName")?;
        let name = required(params, "ChangeSetName")?;
        let kind = params.get("ChangeSetType").unwrap_or("UPDATE");
        // A new stack exists only once its change set is accepted: a refused one leaves nothing behind.
        let mut new_stack = None;
        let stack = match kind {
            "CREATE" => match self.find(stack_name) {
                Ok(stack) if stack.status == "REVIEW_IN_PROGRESS" => stack,
                Ok(_) => {
                    return Err(QueryError::new(
                        400,
                        "AlreadyExistsException",
                        format!(
                            "Stack [{stack_name}] already exists and cannot be created again with the changeSet [{name}]."
                        ),
                    ));
                }
                Err(_) => {
                    let stack = self.new_stack(stack_name, params, "REVIEW_IN_PROGRESS")?;
                    new_stack = Some(stack.clone());
                    stack
                }
            },
            "UPDATE" => {
                let stack = self.find(stack_name)?;
                if stack.status == "REVIEW_IN_PROGRESS" {
                    return Err(validation(format!("Stack [{stack_name}] does not exist")));
                }
                stack
            }
            other => {
                return Err(QueryError::validation(
                    Some(other),
                    "changeSetType",
                    "Member must satisfy enum value set: [UPDATE, IMPORT, CREATE]",
                ));
            }
        };
        if stack.change_sets.iter().any(|set| set.name == name) {
            return Err(QueryError::new(
                400,
                "AlreadyExistsException",
                format!("ChangeSet {name} cannot be created due to a mismatch with existing attribute Template"),
            ));
        }
        let body = if params.get("UsePreviousTemplate") == Some("true") {
            stack.template_body.clone()
        } else {
            template_body(params)?.to_owned()
        };
        let given = stack_parameters(params, Some(&stack))?;
        let plan = self.plan(&body, given.clone(), &stack.stack_id, &stack.stack_name)?;
        let capabilities = params.list("Capabilities");
        check_capabilities(&plan.template, &capabilities)?;
        if let Some(new_stack) = new_stack {
            self.store.state().stacks.insert(new_stack);
        }
        let changes = changes(self, &stack, &plan);
        let empty = changes.is_empty() && kind == "UPDATE";
        let region = self.region();
        let change_set = ChangeSet {
            id: format!(
                "arn:{}:cloudformation:{region}:{}:changeSet/{name}/{}",
                pia_core::partition_of_region(&region),
                self.context.caller.account_id,
                new_uuid()
            ),
            name: name.to_owned(),
            kind: kind.to_owned(),
            status: if empty { "FAILED" } else { "CREATE_COMPLETE" }.to_owned(),
            status_reason: empty.then(|| NO_CHANGES.to_owned()),
            execution_status: if empty { "UNAVAILABLE" } else { "AVAILABLE" }.to_owned(),
            template_body: body,
            parameters: given,
            capabilities,
            description: params.get("Description").map(str::to_owned),
            changes,
            created_at: now_epoch_seconds(),
        };
        let id = change_set.id.clone();
        {
            let mut state = self.store.state();
            if let Some(record) = state.stacks.get_mut(&stack.stack_id) {
                record.change_sets.push(change_set);
            }
        }
        let mut out = Xml::new();
        out.leaf("Id", &id).leaf("StackId", &stack.stack_id);
        Ok(Some(out.finish()))
    }

    pub(super) fn describe_change_set(&self, params: &Params) -> Answer {
        let stack = self.stack_of_change_set(params)?;
        let change_set = find_change_set(&stack, required(params, "ChangeSetName")?)?;
        let mut out = Xml::new();
        xml::change_set(&mut out, &stack, change_set);
        Ok(Some(out.finish()))
    }

    pub(super) fn execute_change_set(&self, params: &Params) -> Answer {
        let stack = self.stack_of_change_set(params)?;
        let change_set = find_change_set(&stack, required(params, "ChangeSetName")?)?.clone();
        if change_set.execution_status != "AVAILABLE" {
            return Err(QueryError::new(
                400,
                "InvalidChangeSetStatus",
                format!(
                    "ChangeSet [{}] cannot be executed in its current execution status of [{}]",
                    change_set.id, change_set.execution_status
                ),
            ));
        }
        let plan = self.plan(
            &change_set.template_body,
            change_set.parameters.clone(),
            &stack.stack_id,
            &stack.stack_name,
        )?;
        {
            let mut state = self.store.state();
            if let Some(record) = state.stacks.get_mut(&stack.stack_id) {
                // Executing a change set deletes the stack's others, which no longer apply, as CloudFormation does.
                record.change_sets.retain(|set| set.id == change_set.id);
                for set in &mut record.change_sets {
                    set.execution_status = "EXECUTE_COMPLETE".to_owned();
                }
                if params.get("DisableRollback") == Some("true") {
                    record.disable_rollback = true;
                }
            }
        }
        if change_set.kind == "CREATE" {
            {
                let mut state = self.store.state();
                if let Some(record) = state.stacks.get_mut(&stack.stack_id) {
                    record.capabilities = change_set.capabilities.clone();
                    record.status = "CREATE_IN_PROGRESS".to_owned();
                }
            }
            tokio::spawn(self.engine().create(self.scope(&stack), plan));
        } else {
            Self::check_updatable(&stack)?;
            let previous = self.current_plan(&stack)?;
            self.start_update(&stack, plan, previous, change_set.capabilities.clone());
        }
        // An empty result element: the SDKs expect one, as the output shape has a result wrapper.
        Ok(Some(String::new()))
    }

    pub(super) fn delete_change_set(&self, params: &Params) -> Answer {
        let stack = self.stack_of_change_set(params)?;
        let id = find_change_set(&stack, required(params, "ChangeSetName")?)?.id.clone();
        let mut state = self.store.state();
        if let Some(record) = state.stacks.get_mut(&stack.stack_id) {
            record.change_sets.retain(|set| set.id != id);
        }
        Ok(Some(String::new()))
    }

    pub(super) fn list_change_sets(&self, params: &Params) -> Answer {
        let name = required(params, "StackName")?;
        let stack = self.find(name).map_err(|_| does_not_exist(name))?;
        let mut out = Xml::new();
        out.open("Summaries");
        for set in &stack.change_sets {
            out.open("member")
                .leaf("StackId", &stack.stack_id)
                .leaf("StackName", &stack.stack_name)
                .leaf("ChangeSetId", &set.id)
                .leaf("ChangeSetName", &set.name)
                .leaf("ExecutionStatus", &set.execution_status)
                .leaf("Status", &set.status)
                .leaf_opt("StatusReason", set.status_reason.as_deref())
                .leaf("CreationTime", &xml::date(set.created_at))
                .leaf_opt("Description", set.description.as_deref())
                .close("member");
        }
        out.close("Summaries");
        Ok(Some(out.finish()))
    }
}
