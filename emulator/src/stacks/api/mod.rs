//! CloudFormation's stack actions (query protocol, 2010-05-15): validate, create, update and delete stacks, with
//! change sets as `aws cloudformation deploy` uses them, describe them, their events and resources, and detect their
//! drift. Each
//! operation answers at once and runs in the background, as CloudFormation's do; clients poll (the SDKs' waiters
//! included). Every action is authorized (`cloudformation:<Action>` on the stack); the resources are then made
//! with the caller's own identity.

mod change_sets;
mod drift;
mod params;
mod xml;

use std::collections::BTreeMap;
use std::sync::Arc;

use super::engine::{Engine, Plan, StackPlace};
use super::template::{MAX_TEMPLATE_BODY_BYTES, Template, summary};
use crate::authz::{Ask, authorize};
use crate::clock::now_epoch_seconds;
use crate::context::RequestContext;
use crate::ids::new_uuid;
use crate::protocol::query::{Params, QueryError, Xml};
use crate::resources::{Registry, Scope};
use crate::trust::{TrustContext, TrustPrincipal, trust_allows};
use crate::world::stacks::Stack;
use crate::world::store::Store;
use params::{does_not_exist, required, stack_parameters, stack_tags};

/// The service principal a stack's service role trusts.
const CLOUDFORMATION_PRINCIPAL: &str = "cloudformation.amazonaws.com";

/// How long a stack action waits for its operation to finish before answering.
const SETTLE_AT_MOST: std::time::Duration = std::time::Duration::from_secs(2);

/// The actions served.
pub(crate) const ACTIONS: &[&str] = &[
    "ValidateTemplate",
    "GetTemplateSummary",
    "CreateStack",
    "UpdateStack",
    "DeleteStack",
    "DescribeStacks",
    "DescribeStackEvents",
    "DescribeStackResource",
    "DescribeStackResources",
    "ListStackResources",
    "ListStacks",
    "GetTemplate",
    "ListExports",
    "CreateChangeSet",
    "DescribeChangeSet",
    "ExecuteChangeSet",
    "DeleteChangeSet",
    "ListChangeSets",
    "DetectStackDrift",
    "DescribeStackDriftDetectionStatus",
    "DescribeStackResourceDrifts",
    "DetectStackResourceDrift",
];

/// What the stack actions work with.
pub(crate) struct Stacks<'a> {
    pub store: &'a Arc<Store>,
    pub types: &'a Arc<Registry>,
    pub context: &'a RequestContext,
}

type Answer = Result<Option<String>, QueryError>;

pub(crate) async fn handle(stacks: &Stacks<'_>, action: &str, params: &Params) -> Answer {
    let region = stacks.region();
    let account = stacks.context.caller.account_id.clone();
    let resource = params
        .get("StackName")
        .map(|name| {
            if name.starts_with("arn:") {
                name.to_owned()
            } else {
                format!(
                    "arn:{}:cloudformation:{region}:{account}:stack/{name}/*",
                    pia_core::partition_of_region(&region)
                )
            }
        })
        .unwrap_or_else(|| "*".to_owned());
    {
        let state = stacks.store.state();
        authorize(
            &state,
            stacks.context,
            &Ask::new(format!("cloudformation:{action}"), resource),
        )
        .map_err(|denied| QueryError::access_denied(denied.message))?;
    }
    match action {
        "ValidateTemplate" => validate_template(params),
        "GetTemplateSummary" => stacks.get_template_summary(params),
        "CreateStack" => stacks.settled(stacks.create_stack(params)).await,
        "UpdateStack" => stacks.settled(stacks.update_stack(params)).await,
        "DeleteStack" => {
            let answer = stacks.delete_stack(params);
            if let Some(name) = params.get("StackName") {
                stacks.wait_for(name).await;
            }
            answer
        }
        "DescribeStacks" => stacks.describe_stacks(params),
        "DescribeStackEvents" => stacks.describe_stack_events(params),
        "DescribeStackResource" => stacks.describe_stack_resource(params),
        "DescribeStackResources" | "ListStackResources" => stacks.list_stack_resources(params, action),
        "ListStacks" => stacks.list_stacks(params),
        "GetTemplate" => stacks.get_template(params),
        "ListExports" => stacks.list_exports(),
        "CreateChangeSet" => stacks.create_change_set(params),
        "DescribeChangeSet" => stacks.describe_change_set(params),
        "ExecuteChangeSet" => {
            let answer = stacks.execute_change_set(params);
            if let Ok(stack) = stacks.stack_of_change_set(params) {
                stacks.wait_for(&stack.stack_id).await;
            }
            answer
        }
        "DeleteChangeSet" => stacks.delete_change_set(params),
        "ListChangeSets" => stacks.list_change_sets(params),
        "DetectStackDrift" => stacks.detect_stack_drift(params),
        "DescribeStackDriftDetectionStatus" => stacks.describe_stack_drift_detection_status(params),
        "DescribeStackResourceDrifts" => stacks.describe_stack_resource_drifts(params),
        "DetectStackResourceDrift" => stacks.detect_stack_resource_drift(params).await,
        _ => Err(QueryError::new(
            400,
            "InvalidAction",
            format!("Could not find operation {action}"),
        )),
    }
}

/// The template body of a request (TemplateBody; a TemplateURL cannot be fetched offline).
fn template_body(params: &Params) -> Result<&str, QueryError> {
    if params.get("TemplateURL").is_some() {
        return Err(QueryError::new(
            400,
            "ValidationError",
            "TemplateURL is not supported by the emulator (it is offline): pass TemplateBody",
        ));
    }
    let body = params.get("TemplateBody").ok_or_else(|| {
        QueryError::new(
            400,
            "ValidationError",
            "Either Template URL or Template Body must be specified.",
        )
    })?;
    if body.len() > MAX_TEMPLATE_BODY_BYTES {
        return Err(QueryError::validation(
            None,
            "templateBody",
            &format!("Member must have length less than or equal to {MAX_TEMPLATE_BODY_BYTES}"),
        ));
    }
    Ok(body)
}

fn validation(message: impl Into<String>) -> QueryError {
    QueryError::new(400, "ValidationError", message)
}

fn validate_template(params: &Params) -> Answer {
    let template = Template::parse(template_body(params)?).map_err(|error| validation(error.to_string()))?;
    let summary = summary(&template);
    let mut xml = Xml::new();
    xml.open("Parameters");
    for parameter in &summary.parameters {
        xml.open("member")
            .leaf("ParameterKey", &parameter.key)
            .leaf_opt("DefaultValue", parameter.default_value.as_deref())
            .leaf("NoEcho", if parameter.no_echo { "true" } else { "false" })
            .leaf_opt("Description", parameter.description.as_deref())
            .close("member");
    }
    xml.close("Parameters");
    xml.leaf_opt("Description", summary.description.as_deref());
    xml.open("Capabilities");
    for capability in &summary.capabilities {
        xml.leaf("member", capability);
    }
    xml.close("Capabilities");
    xml.leaf_opt("CapabilitiesReason", summary.capabilities_reason.as_deref());
    xml.open("DeclaredTransforms");
    for transform in &summary.declared_transforms {
        xml.leaf("member", transform);
    }
    xml.close("DeclaredTransforms");
    Ok(Some(xml.finish()))
}

/// The capabilities a template needs that the request did not acknowledge, refused as CloudFormation does.
fn check_capabilities(template: &Template, given: &[String]) -> Result<(), QueryError> {
    let needed = summary(template).capabilities;
    let acknowledged = |needed: &str| {
        given.iter().any(|g| g == needed)
            || (needed == "CAPABILITY_IAM" && given.iter().any(|g| g == "CAPABILITY_NAMED_IAM"))
    };
    let missing: Vec<&str> = needed.into_iter().filter(|c| !acknowledged(c)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(QueryError::new(
        400,
        "InsufficientCapabilitiesException",
        format!("Requires capabilities : [{}]", missing.join(", ")),
    ))
}

impl Stacks<'_> {
    /// Waits (briefly) for the operation just started on the stack an answer names by its StackId.
    async fn settled(&self, answer: Answer) -> Answer {
        if let Ok(Some(xml)) = &answer
            && let Some(id) = xml
                .strip_prefix("<StackId>")
                .and_then(|rest| rest.split_once("</StackId>"))
                .map(|(id, _)| id.to_owned())
        {
            self.wait_for(&id).await;
        }
        answer
    }

    /// Lets an operation that finishes at once finish before its answer: clients then see the result on their
    /// first poll instead of waiting out their waiter's delay. The operation stays asynchronous: one that takes
    /// longer than [`SETTLE_AT_MOST`] goes on after the answer, as CloudFormation's do.
    async fn wait_for(&self, name_or_id: &str) {
        let started = std::time::Instant::now();
        while started.elapsed() < SETTLE_AT_MOST {
            let busy = self.find(name_or_id).is_ok_and(|stack| stack.busy());
            if !busy {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    fn region(&self) -> String {
        self.context
            .region
            .clone()
            .unwrap_or_else(|| crate::config::DEFAULT_REGION.to_owned())
    }

    fn engine(&self) -> Arc<Engine> {
        Arc::new(Engine {
            store: self.store.clone(),
            types: self.types.clone(),
        })
    }

    fn place(&self, stack_id: &str, stack_name: &str) -> StackPlace {
        let region = self.region();
        StackPlace {
            stack_id: stack_id.to_owned(),
            stack_name: stack_name.to_owned(),
            account_id: self.context.caller.account_id.clone(),
            partition: pia_core::partition_of_region(&region),
            region,
        }
    }

    fn find(&self, name_or_id: &str) -> Result<Stack, QueryError> {
        let state = self.store.state();
        state
            .stacks
            .find(name_or_id, &self.context.caller.account_id, &self.region())
            .cloned()
            .ok_or_else(|| does_not_exist(name_or_id))
    }

    /// Who acts for the stack's resources: its service role's session when it has one, else the caller.
    fn scope(&self, stack: &Stack) -> Scope {
        let service_role = stack.role_arn.as_deref().and_then(|role_arn| {
            let issued = self.store.issue_role_session(
                role_arn,
                "AWSCloudFormation",
                BTreeMap::new(),
                std::time::Duration::from_secs(3600),
                None,
            );
            let identity = self.store.state().identities.get(&issued.access_key_id)?.identity();
            Some(RequestContext {
                request_id: self.context.request_id.clone(),
                caller: identity,
                access_key_id: Some(issued.access_key_id),
                region: self.context.region.clone(),
            })
        });
        let acting = service_role.as_ref().unwrap_or(self.context);
        let mut scope = Scope::for_caller(self.store, acting, Some((&stack.stack_id, &stack.stack_name)));
        scope.stack_tags = stack.tags.iter().cloned().collect();
        scope.system_tags = BTreeMap::from([
            ("aws:cloudformation:stack-name".to_owned(), stack.stack_name.clone()),
            ("aws:cloudformation:stack-id".to_owned(), stack.stack_id.clone()),
        ]);
        scope
    }

    fn plan(
        &self,
        body: &str,
        given: BTreeMap<String, String>,
        stack_id: &str,
        stack_name: &str,
    ) -> Result<Plan, QueryError> {
        let parameters = self.store.state().settings.ssm_parameters.clone();
        let parameter_store = |name: &str| parameters.get(name).cloned();
        Plan::new(
            body,
            given,
            &self.place(stack_id, stack_name),
            self.types,
            &parameter_store,
        )
        .map_err(|error| validation(error.to_string()))
    }

    /// A new stack record (not yet started).
    fn new_stack(&self, name: &str, params: &Params, status: &str) -> Result<Stack, QueryError> {
        let valid = !name.is_empty()
            && name.len() <= 128
            && name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !valid {
            return Err(validation(format!(
                "1 validation error detected: Value '{name}' at 'stackName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*"
            )));
        }
        if self.find(name).is_ok() {
            return Err(QueryError::new(
                400,
                "AlreadyExistsException",
                format!("Stack [{name}] already exists"),
            ));
        }
        let region = self.region();
        let account = &self.context.caller.account_id;
        Ok(Stack {
            stack_id: format!(
                "arn:{}:cloudformation:{region}:{account}:stack/{name}/{}",
                pia_core::partition_of_region(&region),
                new_uuid()
            ),
            stack_name: name.to_owned(),
            account_id: account.clone(),
            region,
            status: status.to_owned(),
            status_reason: None,
            description: None,
            template_body: String::new(),
            parameters: Vec::new(),
            capabilities: params.list("Capabilities"),
            tags: stack_tags(params),
            role_arn: self.service_role(params)?,
            outputs: Vec::new(),
            resources: BTreeMap::new(),
            events: Vec::new(),
            change_sets: Vec::new(),
            drift_detections: Vec::new(),
            disable_rollback: params.get("DisableRollback") == Some("true")
                || params.get("OnFailure") == Some("DO_NOTHING"),
            created_at: now_epoch_seconds(),
            updated_at: None,
            deleted_at: None,
        })
    }

    /// A request's `RoleARN`: a role of the caller's account that CloudFormation may assume, which the caller may pass.
    fn service_role(&self, params: &Params) -> Result<Option<String>, QueryError> {
        let Some(role_arn) = params.get("RoleARN") else {
            return Ok(None);
        };
        let state = self.store.state();
        let invalid = || validation(format!("Role {role_arn} is invalid or cannot be assumed"));
        let role = state.roles.get(role_arn).ok_or_else(invalid)?;
        if role.account_id != self.context.caller.account_id
            || !trust_allows(
                &role.trust_policy,
                &TrustPrincipal::Service(CLOUDFORMATION_PRINCIPAL),
                &["sts:AssumeRole"],
                &TrustContext::new(),
            )
        {
            return Err(invalid());
        }
        let ask = Ask::new("iam:PassRole", role_arn).with("iam:PassedToService", [CLOUDFORMATION_PRINCIPAL]);
        authorize(&state, self.context, &ask).map_err(|denied| QueryError::access_denied(denied.message))?;
        Ok(Some(role_arn.to_owned()))
    }

    fn create_stack(&self, params: &Params) -> Answer {
        let name = required(params, "StackName")?;
        let body = template_body(params)?;
        let stack = self.new_stack(name, params, "CREATE_IN_PROGRESS")?;
        let plan = self.plan(body, stack_parameters(params, None)?, &stack.stack_id, name)?;
        check_capabilities(&plan.template, &stack.capabilities)?;
        let stack_id = stack.stack_id.clone();
        let scope = self.scope(&stack);
        self.store.state().stacks.insert(stack);
        tokio::spawn(self.engine().create(scope, plan));
        let mut xml = Xml::new();
        xml.leaf("StackId", &stack_id);
        Ok(Some(xml.finish()))
    }

    /// The plan a stack was last deployed with, for an update's rollback.
    fn current_plan(&self, stack: &Stack) -> Result<Plan, QueryError> {
        let given = stack
            .parameters
            .iter()
            .map(|p| (p.key.clone(), p.value.clone()))
            .collect();
        self.plan(&stack.template_body, given, &stack.stack_id, &stack.stack_name)
    }

    fn check_updatable(stack: &Stack) -> Result<(), QueryError> {
        let updatable = matches!(
            stack.status.as_str(),
            "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "UPDATE_ROLLBACK_COMPLETE"
        );
        if updatable {
            return Ok(());
        }
        Err(validation(format!(
            "Stack:{} is in {} state and can not be updated.",
            stack.stack_id, stack.status
        )))
    }

    fn update_stack(&self, params: &Params) -> Answer {
        let stack = self.find(required(params, "StackName")?)?;
        Self::check_updatable(&stack)?;
        let body = if params.get("UsePreviousTemplate") == Some("true") {
            stack.template_body.clone()
        } else {
            template_body(params)?.to_owned()
        };
        let plan = self.plan(
            &body,
            stack_parameters(params, Some(&stack))?,
            &stack.stack_id,
            &stack.stack_name,
        )?;
        let capabilities = params.list("Capabilities");
        check_capabilities(&plan.template, &capabilities)?;
        let changes = change_sets::changes(self, &stack, &plan);
        if changes.is_empty() && plan.body == stack.template_body {
            return Err(validation("No updates are to be performed."));
        }
        let previous = self.current_plan(&stack)?;
        self.start_update(&stack, plan, previous, capabilities);
        let mut xml = Xml::new();
        xml.leaf("StackId", &stack.stack_id);
        Ok(Some(xml.finish()))
    }

    fn start_update(&self, stack: &Stack, plan: Plan, previous: Plan, capabilities: Vec<String>) {
        {
            let mut state = self.store.state();
            if let Some(record) = state.stacks.get_mut(&stack.stack_id) {
                record.updated_at = Some(now_epoch_seconds());
                record.capabilities = capabilities;
                record.status = "UPDATE_IN_PROGRESS".to_owned();
            }
        }
        tokio::spawn(self.engine().update(self.scope(stack), plan, previous));
    }

    fn delete_stack(&self, params: &Params) -> Answer {
        let name = required(params, "StackName")?;
        // Deleting a stack that does not exist succeeds, as CloudFormation's does.
        let Ok(stack) = self.find(name) else {
            return Ok(None);
        };
        if stack.deleted_at.is_some() || stack.status == "DELETE_IN_PROGRESS" {
            return Ok(None);
        }
        if stack.busy() {
            return Err(validation(format!(
                "Stack [{}] cannot be deleted while in status {}",
                stack.stack_name, stack.status
            )));
        }
        {
            let mut state = self.store.state();
            if let Some(record) = state.stacks.get_mut(&stack.stack_id) {
                record.status = "DELETE_IN_PROGRESS".to_owned();
            }
        }
        tokio::spawn(self.engine().delete(self.scope(&stack)));
        Ok(None)
    }

    fn describe_stacks(&self, params: &Params) -> Answer {
        let stacks: Vec<Stack> = match params.get("StackName") {
            Some(name) => vec![self.find(name)?],
            None => {
                let state = self.store.state();
                let region = self.region();
                state
                    .stacks
                    .in_scope(&self.context.caller.account_id, &region)
                    .filter(|stack| stack.deleted_at.is_none())
                    .cloned()
                    .collect()
            }
        };
        let mut out = Xml::new();
        out.open("Stacks");
        for stack in &stacks {
            out.open("member");
            xml::stack(&mut out, stack);
            out.close("member");
        }
        out.close("Stacks");
        Ok(Some(out.finish()))
    }

    fn describe_stack_events(&self, params: &Params) -> Answer {
        let stack = self.find(required(params, "StackName")?)?;
        let mut out = Xml::new();
        out.open("StackEvents");
        for event in stack.events.iter().rev() {
            xml::event(&mut out, &stack, event);
        }
        out.close("StackEvents");
        Ok(Some(out.finish()))
    }

    fn describe_stack_resource(&self, params: &Params) -> Answer {
        let stack = self.find(required(params, "StackName")?)?;
        let logical_id = required(params, "LogicalResourceId")?;
        let resource = stack.resources.get(logical_id).ok_or_else(|| {
            validation(format!(
                "Resource {logical_id} does not exist for stack {}",
                stack.stack_name
            ))
        })?;
        let mut out = Xml::new();
        out.open("StackResourceDetail");
        xml::resource(&mut out, &stack, resource, true);
        out.close("StackResourceDetail");
        Ok(Some(out.finish()))
    }

    fn list_stack_resources(&self, params: &Params, action: &str) -> Answer {
        let stack = self.find(required(params, "StackName")?)?;
        let mut out = Xml::new();
        let listed = stack.resources.values().filter(|resource| {
            params
                .get("LogicalResourceId")
                .is_none_or(|id| id == resource.logical_id)
        });
        if action == "ListStackResources" {
            out.open("StackResourceSummaries");
            for resource in listed {
                xml::resource_summary(&mut out, resource);
            }
            out.close("StackResourceSummaries");
        } else {
            out.open("StackResources");
            for resource in listed {
                out.open("member");
                xml::resource(&mut out, &stack, resource, false);
                out.close("member");
            }
            out.close("StackResources");
        }
        Ok(Some(out.finish()))
    }

    fn list_stacks(&self, params: &Params) -> Answer {
        let filter = params.list("StackStatusFilter");
        let state = self.store.state();
        let region = self.region();
        let mut out = Xml::new();
        out.open("StackSummaries");
        for stack in state.stacks.in_scope(&self.context.caller.account_id, &region) {
            if !filter.is_empty() && !filter.contains(&stack.status) {
                continue;
            }
            out.open("member")
                .leaf("StackId", &stack.stack_id)
                .leaf("StackName", &stack.stack_name)
                .leaf_opt("TemplateDescription", stack.description.as_deref())
                .leaf("CreationTime", &xml::date(stack.created_at))
                .leaf_opt("LastUpdatedTime", stack.updated_at.map(xml::date).as_deref())
                .leaf_opt("DeletionTime", stack.deleted_at.map(xml::date).as_deref())
                .leaf("StackStatus", &stack.status)
                .leaf_opt("StackStatusReason", stack.status_reason.as_deref())
                .close("member");
        }
        out.close("StackSummaries");
        Ok(Some(out.finish()))
    }

    /// A template's parameters, capabilities and resource types, from a TemplateBody or a stack's template (what
    /// `aws cloudformation deploy` reads to keep a stack's parameters).
    fn get_template_summary(&self, params: &Params) -> Answer {
        let body = match params.get("StackName") {
            Some(name) => self.find(name)?.template_body,
            None => template_body(params)?.to_owned(),
        };
        let template = Template::parse(&body).map_err(|error| validation(error.to_string()))?;
        let summary = summary(&template);
        let mut out = Xml::new();
        out.open("Parameters");
        for parameter in template.parameters() {
            out.open("member")
                .leaf("ParameterKey", &parameter.name)
                .leaf_opt("DefaultValue", parameter.default.as_deref())
                .leaf("ParameterType", &parameter.type_name)
                .leaf("NoEcho", if parameter.no_echo { "true" } else { "false" })
                .leaf_opt("Description", parameter.description.as_deref())
                .close("member");
        }
        out.close("Parameters");
        out.leaf_opt("Description", summary.description.as_deref());
        out.open("Capabilities");
        for capability in &summary.capabilities {
            out.leaf("member", capability);
        }
        out.close("Capabilities");
        out.leaf_opt("CapabilitiesReason", summary.capabilities_reason.as_deref());
        let mut types: Vec<&str> = template.resources().iter().map(|r| r.type_name.as_str()).collect();
        types.sort_unstable();
        types.dedup();
        out.open("ResourceTypes");
        for type_name in types {
            out.leaf("member", type_name);
        }
        out.close("ResourceTypes");
        out.leaf("Version", "2010-09-09");
        out.open("DeclaredTransforms");
        for transform in &summary.declared_transforms {
            out.leaf("member", transform);
        }
        out.close("DeclaredTransforms");
        Ok(Some(out.finish()))
    }

    fn get_template(&self, params: &Params) -> Answer {
        let stack = self.find(required(params, "StackName")?)?;
        let mut out = Xml::new();
        out.leaf("TemplateBody", &stack.template_body);
        out.open("StagesAvailable")
            .leaf("member", "Original")
            .leaf("member", "Processed")
            .close("StagesAvailable");
        Ok(Some(out.finish()))
    }

    fn list_exports(&self) -> Answer {
        let state = self.store.state();
        let region = self.region();
        let mut out = Xml::new();
        out.open("Exports");
        for stack in state.stacks.in_scope(&self.context.caller.account_id, &region) {
            if stack.deleted_at.is_some() {
                continue;
            }
            for output in &stack.outputs {
                if let Some(name) = &output.export_name {
                    out.open("member")
                        .leaf("ExportingStackId", &stack.stack_id)
                        .leaf("Name", name)
                        .leaf("Value", &output.value)
                        .close("member");
                }
            }
        }
        out.close("Exports");
        Ok(Some(out.finish()))
    }
}
