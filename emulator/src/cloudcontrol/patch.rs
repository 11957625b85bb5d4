//! UpdateResource's PatchDocument: an RFC 6902 JSON Patch of the resource's properties, paths relative to them
//! (`/RoleArn`; Cloud Control's own examples also write `RoleArn`, which is taken the same). As Cloud Control does,
//! a patch that would change a create-only or a read-only property is refused before anything runs.

use json_patch::jsonptr::Pointer;
use json_patch::{Patch, PatchOperation};
use serde_json::Value;

use super::CloudControlError;
use crate::resources::{Failure, TypeSchema};

/// The patch of `text`, checked against `schema`'s create-only and read-only properties.
pub(super) fn parse(text: &str, schema: &TypeSchema) -> Result<Patch, CloudControlError> {
    let invalid = |reason: String| CloudControlError::invalid_request(format!("Invalid patch document: {reason}"));
    let mut document: Value = serde_json::from_str(text).map_err(|error| invalid(error.to_string()))?;
    for operation in document.as_array_mut().into_iter().flatten() {
        for member in ["path", "from"] {
            if let Some(Value::String(path)) = operation.get_mut(member)
                && !path.is_empty()
                && !path.starts_with('/')
            {
                path.insert(0, '/');
            }
        }
    }
    let patch: Patch = serde_json::from_value(document).map_err(|error| invalid(error.to_string()))?;
    let mut create_only = Vec::new();
    let mut read_only = Vec::new();
    for changed in patch.0.iter().flat_map(changed_paths) {
        let Some(property) = changed.first().map(|token| token.decoded().into_owned()) else {
            return Err(invalid("an operation may not replace the whole model".into()));
        };
        let named = format!("/properties/{property}");
        if schema.create_only.contains(&property) && !create_only.contains(&named) {
            create_only.push(named);
        } else if schema.read_only.contains(&property) && !read_only.contains(&named) {
            read_only.push(named);
        }
    }
    if !create_only.is_empty() {
        return Err(CloudControlError::new(
            "NotUpdatableException",
            format!(
                "Invalid patch update: createOnlyProperties [{}] cannot be updated",
                create_only.join(", ")
            ),
        ));
    }
    if !read_only.is_empty() {
        return Err(CloudControlError::new(
            "ValidationException",
            format!(
                "Invalid patch update: readOnlyProperties [{}] cannot be updated",
                read_only.join(", ")
            ),
        ));
    }
    Ok(patch)
}

/// The paths an operation changes (`test` and the source of `copy` change nothing).
fn changed_paths(operation: &PatchOperation) -> Vec<&Pointer> {
    match operation {
        PatchOperation::Add(op) => vec![&op.path],
        PatchOperation::Remove(op) => vec![&op.path],
        PatchOperation::Replace(op) => vec![&op.path],
        PatchOperation::Move(op) => vec![&op.from, &op.path],
        PatchOperation::Copy(op) => vec![&op.path],
        PatchOperation::Test(_) => vec![],
    }
}

/// `model` with `patch` applied: the desired model of the update (the handler's InvalidRequest if it does not apply,
/// such as a failed `test`).
pub(super) fn apply(model: &Value, patch: &Patch) -> Result<Value, Failure> {
    let mut desired = model.clone();
    json_patch::patch(&mut desired, &patch.0)
        .map_err(|error| Failure::new("InvalidRequest", format!("Invalid patch document: {error}")))?;
    Ok(desired)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> TypeSchema {
        TypeSchema::new(&["AssociationArn"], &["ClusterName"], &["AssociationArn"])
    }

    #[test]
    fn applies_paths_with_or_without_the_leading_slash() {
        let patch = parse(
            r#"[{"op":"replace","path":"/RoleArn","value":"r2"},{"op":"add","path":"Tags","value":[]}]"#,
            &schema(),
        )
        .expect("a valid patch");
        let model = json!({"ClusterName": "demo", "RoleArn": "r1"});
        assert_eq!(
            apply(&model, &patch),
            Ok(json!({"ClusterName": "demo", "RoleArn": "r2", "Tags": []}))
        );
    }

    #[test]
    fn refuses_create_only_and_read_only_properties_but_lets_tests_read_them() {
        let error = parse(r#"[{"op":"replace","path":"/ClusterName","value":"x"}]"#, &schema()).unwrap_err();
        assert_eq!(error.code, "NotUpdatableException");
        assert_eq!(
            error.message,
            "Invalid patch update: createOnlyProperties [/properties/ClusterName] cannot be updated"
        );
        let error = parse(r#"[{"op":"move","from":"/AssociationArn","path":"/X"}]"#, &schema()).unwrap_err();
        assert_eq!(error.code, "ValidationException");
        let patch = parse(r#"[{"op":"test","path":"/ClusterName","value":"other"}]"#, &schema()).expect("a test");
        assert_eq!(
            apply(&json!({"ClusterName": "demo"}), &patch).unwrap_err().code,
            "InvalidRequest"
        );
        for bad in [
            r#"{"op":"add"}"#,
            r#"[{"op":"rename","path":"/A"}]"#,
            r#"[{"op":"remove","path":""}]"#,
        ] {
            assert_eq!(
                parse(bad, &schema()).unwrap_err().code,
                "InvalidRequestException",
                "{bad}"
            );
        }
    }
}
