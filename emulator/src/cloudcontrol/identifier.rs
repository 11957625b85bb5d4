//! A resource's identifier as Cloud Control takes it: the primary identifier's values joined by `|`, or a JSON
//! object of them (`{"RoleName": "app"}`).

use serde_json::Value;

use super::CloudControlError;
use crate::resources::{Made, TypeSchema};

/// The resource `identifier` names, as the handlers are given it: its identifier and the model holding it.
pub(super) fn resource(schema: &TypeSchema, type_name: &str, identifier: &str) -> Result<Made, CloudControlError> {
    let not_primary = || {
        CloudControlError::invalid_request(format!(
            "Identifier {identifier} is not a primary identifier of {type_name} ({}); secondary identifiers are not supported",
            schema.primary_identifier.join("|")
        ))
    };
    let model = match serde_json::from_str::<Value>(identifier) {
        Ok(Value::Object(given)) => {
            let named = given.len() == schema.primary_identifier.len()
                && schema
                    .primary_identifier
                    .iter()
                    .all(|name| given.get(name).is_some_and(Value::is_string));
            if !named {
                return Err(not_primary());
            }
            Value::Object(given)
        }
        _ => schema.model_of_identifier(identifier).ok_or_else(not_primary)?,
    };
    Ok(Made {
        physical_id: schema.primary_identifier_of(&model),
        model,
    })
}
