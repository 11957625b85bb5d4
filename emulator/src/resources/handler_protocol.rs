//! Running a resource provider's handlers as CloudFormation runs a registered type: a HandlerRequest per
//! invocation (caller credentials, a bearer token kept for the whole operation, the desired and previous models),
//! and, while the handler answers IN_PROGRESS, the next invocation after its callback delay with its callback
//! context and returned model.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::{Failure, Page, Scope};
use crate::ids::new_uuid;

/// What runs a type's handlers: given a HandlerRequest (JSON as the Lambda function receives it), the
/// ProgressEvent it answers (JSON as the function returns it).
pub trait HandlerInvoker: Send + Sync {
    fn invoke(&self, request: Value) -> Pin<Box<dyn Future<Output = Value> + Send + '_>>;
}

/// CloudFormation's handler actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Create,
    Read,
    Update,
    Delete,
    List,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Action::Create => "CREATE",
            Action::Read => "READ",
            Action::Update => "UPDATE",
            Action::Delete => "DELETE",
            Action::List => "LIST",
        }
    }
}

/// At most this many invocations per operation, as CloudFormation's handler timeout bounds an operation.
const MAX_INVOCATIONS: u32 = 720;

/// One operation of a type's handlers.
pub(crate) struct Operation<'a> {
    pub action: Action,
    pub type_name: &'a str,
    pub scope: &'a Scope,
    pub logical_id: &'a str,
    pub desired: Value,
    pub previous: Option<Value>,
}

/// Runs `operation` to its end: the final event's model, or the handler's failure.
pub(crate) async fn run(invoker: &dyn HandlerInvoker, operation: Operation<'_>) -> Result<Value, Failure> {
    let event = run_to_end(invoker, operation, None).await?;
    Ok(event.get("resourceModel").cloned().unwrap_or(Value::Null))
}

/// Runs a LIST `operation` for the page after `next_token`: its models and the handler's token for the next page.
pub(crate) async fn list_page(
    invoker: &dyn HandlerInvoker,
    operation: Operation<'_>,
    next_token: Option<&str>,
) -> Result<Page, Failure> {
    let event = run_to_end(invoker, operation, next_token).await?;
    Ok(Page {
        models: event["resourceModels"].as_array().cloned().unwrap_or_default(),
        next_token: event["nextToken"]
            .as_str()
            .filter(|token| !token.is_empty())
            .map(str::to_owned),
    })
}

/// Invokes the handler until it answers SUCCESS (that event) or FAILED.
async fn run_to_end(
    invoker: &dyn HandlerInvoker,
    operation: Operation<'_>,
    next_token: Option<&str>,
) -> Result<Value, Failure> {
    let scope = operation.scope;
    let mut request = json!({
        "action": operation.action.name(),
        "awsAccountId": scope.account_id,
        "bearerToken": new_uuid(),
        "region": scope.region,
        "resourceType": operation.type_name,
        "resourceTypeVersion": "00000001",
        "requestData": {
            "callerCredentials": {
                "accessKeyId": scope.credentials.access_key_id,
                "secretAccessKey": scope.credentials.secret_access_key,
                "sessionToken": scope.credentials.session_token,
            },
            "resourceProperties": operation.desired,
            "logicalResourceId": operation.logical_id,
            "systemTags": scope.system_tags,
            "stackTags": scope.stack_tags,
        },
    });
    if let Some(stack_id) = &scope.stack_id {
        request["stackId"] = json!(stack_id);
    }
    if let Some(previous) = operation.previous {
        request["requestData"]["previousResourceProperties"] = previous;
    }
    if let Some(next_token) = next_token {
        request["nextToken"] = json!(next_token);
    }
    for _ in 0..MAX_INVOCATIONS {
        let event = invoker.invoke(request.clone()).await;
        match event["status"].as_str() {
            Some("SUCCESS") => return Ok(event),
            Some("IN_PROGRESS") => {
                let delay = event["callbackDelaySeconds"].as_f64().unwrap_or(0.0).max(0.0);
                tokio::time::sleep(Duration::from_secs_f64(delay / scope.time_compression)).await;
                request["callbackContext"] = event.get("callbackContext").cloned().unwrap_or(json!({}));
                if let Some(model) = event.get("resourceModel").filter(|model| model.is_object()) {
                    request["requestData"]["resourceProperties"] = model.clone();
                }
            }
            Some("FAILED") => {
                return Err(Failure::new(
                    event["errorCode"].as_str().unwrap_or("InternalFailure"),
                    event["message"].as_str().unwrap_or("the handler failed"),
                ));
            }
            _ => {
                return Err(Failure::new(
                    "InternalFailure",
                    format!("the handler answered no valid ProgressEvent: {}", truncated(&event)),
                ));
            }
        }
    }
    Err(Failure::new(
        "NotStabilized",
        format!("the handler was still IN_PROGRESS after {MAX_INVOCATIONS} invocations"),
    ))
}

fn truncated(event: &Value) -> String {
    let mut text = match event {
        Value::Object(map) => Value::Object(Map::from_iter(
            map.iter()
                .filter(|(key, _)| *key != "resourceModel")
                .map(|(k, v)| (k.clone(), v.clone())),
        ))
        .to_string(),
        other => other.to_string(),
    };
    text.truncate(300);
    text
}
