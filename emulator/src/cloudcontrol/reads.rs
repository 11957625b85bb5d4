//! GetResource and ListResources: answered at once from the type's READ and LIST handlers, acting as the caller.

use serde_json::{Value, json};

use super::identifier;
use super::input::Input;
use super::mutations::require_handler;
use super::{CloudControl, CloudControlError};
use crate::context::RequestContext;
use crate::resources::Scope;

pub(super) async fn get(
    cc: &CloudControl,
    input: &Input,
    context: &RequestContext,
) -> Result<Value, CloudControlError> {
    let type_name = input.type_name()?;
    let resource_type = cc.resource_type(type_name)?;
    let schema = resource_type.schema();
    require_handler(&schema, type_name, "read")?;
    let resource = identifier::resource(&schema, type_name, input.identifier()?)?;
    let scope = Scope::for_caller(&cc.store, context, None);
    let model = resource_type
        .read(&cc.store, &scope, "", &resource)
        .await
        .map_err(|failure| CloudControlError::from_handler(type_name, &failure))?;
    Ok(json!({
        "TypeName": type_name,
        "ResourceDescription": description(&resource.physical_id, &model),
    }))
}

pub(super) async fn list(
    cc: &CloudControl,
    input: &Input,
    context: &RequestContext,
) -> Result<Value, CloudControlError> {
    let type_name = input.type_name()?;
    let resource_type = cc.resource_type(type_name)?;
    let schema = resource_type.schema();
    require_handler(&schema, type_name, "list")?;
    let selection = Value::Object(input.resource_model()?);
    let next_token = input.handler_next_token()?;
    // MaxResults is reserved in Cloud Control's model: the handler decides how much a page holds.
    input.max_results(100)?;
    let scope = Scope::for_caller(&cc.store, context, None);
    let page = resource_type
        .list(&scope, &selection, next_token)
        .await
        .map_err(|failure| CloudControlError::from_handler(type_name, &failure))?;
    let descriptions: Vec<Value> = page
        .models
        .iter()
        .map(|model| description(&schema.primary_identifier_of(model), model))
        .collect();
    let mut output = json!({"TypeName": type_name, "ResourceDescriptions": descriptions});
    if let Some(token) = page.next_token {
        output["NextToken"] = json!(token);
    }
    Ok(output)
}

/// A ResourceDescription: the identifier, and the properties as a JSON string.
fn description(identifier: &str, model: &Value) -> Value {
    json!({"Identifier": identifier, "Properties": model.to_string()})
}
