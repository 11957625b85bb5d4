//! CreateResource, UpdateResource and DeleteResource: checked and answered at once with an IN_PROGRESS event, then
//! run in a task through the type's handlers, acting as the caller.

use std::future::Future;
use std::sync::Arc;

use serde_json::{Value, json};

use super::identifier;
use super::input::Input;
use super::patch;
use super::progress::{Operation, ProgressEvent};
use super::requests::{NewRequest, Outcome, Taken};
use super::{CloudControl, CloudControlError};
use crate::context::RequestContext;
use crate::ids::new_uuid;
use crate::resources::{Failure, Made, ResourceType, Scope, TypeSchema};
use crate::world::store::Store;

pub(super) fn create(cc: &CloudControl, input: &Input, context: &RequestContext) -> Result<Value, CloudControlError> {
    let type_name = input.type_name()?;
    let resource_type = cc.resource_type(type_name)?;
    let schema = resource_type.schema();
    require_handler(&schema, type_name, "create")?;
    let desired = Value::Object(input.desired_state()?);
    // A desired state that names the resource (an IAM role's RoleName) says which resource it runs on.
    let identifier = schema
        .primary_identifier
        .iter()
        .all(|name| desired.get(name).is_some())
        .then(|| schema.primary_identifier_of(&desired));
    let logical_id = logical_id(type_name);
    let request = Request {
        type_name,
        operation: Operation::Create,
        identifier,
        model: Some(&desired),
        fingerprint: json!(["CREATE", type_name, desired]).to_string(),
        client_token: input.client_token()?,
    };
    let to_make = desired.clone();
    start(cc, context, request, move |store, scope| async move {
        let made = resource_type.create(&store, &scope, &logical_id, &to_make).await?;
        Ok((made.physical_id, Some(made.model)))
    })
}

pub(super) fn update(cc: &CloudControl, input: &Input, context: &RequestContext) -> Result<Value, CloudControlError> {
    let type_name = input.type_name()?;
    let resource_type = cc.resource_type(type_name)?;
    let schema = resource_type.schema();
    for handler in ["update", "read"] {
        require_handler(&schema, type_name, handler)?;
    }
    let resource = identifier::resource(&schema, type_name, input.identifier()?)?;
    let patch_text = input.patch_document()?;
    let patch = patch::parse(patch_text, &schema)?;
    let logical_id = logical_id(type_name);
    let request = Request {
        type_name,
        operation: Operation::Update,
        identifier: Some(resource.physical_id.clone()),
        model: None,
        fingerprint: json!(["UPDATE", type_name, resource.physical_id, patch_text]).to_string(),
        client_token: input.client_token()?,
    };
    start(cc, context, request, move |store, scope| async move {
        let current = read_current(&resource_type, &store, &scope, &logical_id, resource).await?;
        let desired = patch::apply(&current.model, &patch)?;
        let made = resource_type
            .update(&store, &scope, &logical_id, &current, &desired, &current.model)
            .await?;
        Ok((made.physical_id, Some(made.model)))
    })
}

pub(super) fn delete(cc: &CloudControl, input: &Input, context: &RequestContext) -> Result<Value, CloudControlError> {
    let type_name = input.type_name()?;
    let resource_type = cc.resource_type(type_name)?;
    let schema = resource_type.schema();
    for handler in ["delete", "read"] {
        require_handler(&schema, type_name, handler)?;
    }
    let resource = identifier::resource(&schema, type_name, input.identifier()?)?;
    let logical_id = logical_id(type_name);
    let request = Request {
        type_name,
        operation: Operation::Delete,
        identifier: Some(resource.physical_id.clone()),
        model: None,
        fingerprint: json!(["DELETE", type_name, resource.physical_id]).to_string(),
        client_token: input.client_token()?,
    };
    start(cc, context, request, move |store, scope| async move {
        // Unlike a stack's delete, Cloud Control's fails on a resource that is not there.
        let current = read_current(&resource_type, &store, &scope, &logical_id, resource).await?;
        resource_type.delete(&store, &scope, &logical_id, &current).await?;
        Ok((current.physical_id, None))
    })
}

/// The type's handler `handler` (`create`, …), or UnsupportedActionException.
pub(super) fn require_handler(schema: &TypeSchema, type_name: &str, handler: &str) -> Result<(), CloudControlError> {
    if schema.has_handler(handler) {
        Ok(())
    } else {
        Err(CloudControlError::unsupported_action(
            type_name,
            &handler.to_ascii_uppercase(),
        ))
    }
}

/// The logical id handlers are given (and a generated name is made of): the type's last segment, as no template
/// names the resource.
fn logical_id(type_name: &str) -> String {
    type_name.rsplit("::").next().unwrap_or(type_name).to_owned()
}

/// The resource as its READ handler has it now.
async fn read_current(
    resource_type: &ResourceType,
    store: &Store,
    scope: &Scope,
    logical_id: &str,
    resource: Made,
) -> Result<Made, Failure> {
    let model = resource_type.read(store, scope, logical_id, &resource).await?;
    Ok(Made { model, ..resource })
}

/// A mutation about to be taken.
struct Request<'a> {
    type_name: &'a str,
    operation: Operation,
    identifier: Option<String>,
    model: Option<&'a Value>,
    fingerprint: String,
    client_token: Option<&'a str>,
}

/// Takes `request` and runs `work` for it in a task with the caller's scope; the answer is its event as taken (or,
/// for a retry of the same client token, as it is now).
fn start<W, F>(
    cc: &CloudControl,
    context: &RequestContext,
    request: Request<'_>,
    work: W,
) -> Result<Value, CloudControlError>
where
    W: FnOnce(Arc<Store>, Scope) -> F,
    F: Future<Output = Result<(String, Option<Value>), Failure>> + Send + 'static,
{
    let request_token = new_uuid();
    let taken = cc.requests.take(NewRequest {
        owner: &CloudControl::owner(context),
        client_token: request.client_token,
        fingerprint: request.fingerprint,
        resource: request
            .identifier
            .as_ref()
            .map(|identifier| format!("{}|{identifier}", request.type_name)),
        event: ProgressEvent::started(
            request.type_name,
            request.identifier,
            request_token.clone(),
            request.operation,
            request.model,
        ),
    })?;
    let event = match taken {
        Taken::Retried(event) => event,
        Taken::New(event) => {
            let scope = Scope::for_caller(&cc.store, context, None);
            let work = work(cc.store.clone(), scope);
            let requests = cc.requests.clone();
            let token = request_token.clone();
            let task = tokio::spawn(async move {
                let outcome: Outcome = work
                    .await
                    .map(|(identifier, model)| (identifier, model.map(|model| model.to_string())))
                    .map_err(|failure| (failure.code, failure.message));
                requests.finish(&token, outcome);
            });
            cc.requests.running(&request_token, task.abort_handle());
            event
        }
    };
    Ok(json!({ "ProgressEvent": event }))
}
