//! What the engine needs from a resource type's schema: its primary identifier, which properties are set only
//! at creation (a change replaces the resource) or only read, and which handlers it has.

use serde_json::Value;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TypeSchema {
    pub primary_identifier: Vec<String>,
    pub create_only: Vec<String>,
    pub read_only: Vec<String>,
    /// The handlers the type has (`create`, `read`, `update`, `delete`, `list`), as Cloud Control checks them.
    pub handlers: Vec<String>,
}

/// `/properties/Name` → `Name` (nested paths keep their first segment: a change below it counts as a change of it).
fn property_names(schema: &Value, key: &str) -> Vec<String> {
    schema[key]
        .as_array()
        .map(|paths| {
            paths
                .iter()
                .filter_map(Value::as_str)
                .filter_map(|path| path.strip_prefix("/properties/"))
                .map(|path| path.split('/').next().unwrap_or(path).to_owned())
                .collect()
        })
        .unwrap_or_default()
}

impl TypeSchema {
    /// From a resource schema as the registry holds it.
    pub fn from_schema(schema: &Value) -> Self {
        Self {
            primary_identifier: property_names(schema, "primaryIdentifier"),
            create_only: property_names(schema, "createOnlyProperties"),
            read_only: property_names(schema, "readOnlyProperties"),
            handlers: schema["handlers"]
                .as_object()
                .map(|handlers| handlers.keys().cloned().collect())
                .unwrap_or_default(),
        }
    }

    /// A type with the create, read, update and delete handlers.
    pub fn new(primary_identifier: &[&str], create_only: &[&str], read_only: &[&str]) -> Self {
        let owned = |names: &[&str]| names.iter().map(|name| (*name).to_owned()).collect();
        Self {
            primary_identifier: owned(primary_identifier),
            create_only: owned(create_only),
            read_only: owned(read_only),
            handlers: owned(&["create", "read", "update", "delete"]),
        }
    }

    /// Whether the type has the `handler` handler (`create`, `read`, …).
    pub fn has_handler(&self, handler: &str) -> bool {
        self.handlers.iter().any(|name| name == handler)
    }

    /// The model naming the resource of `identifier` (its parts split at `|`, as [`Self::primary_identifier_of`]
    /// joins them); `None` if it has not as many parts as the primary identifier.
    pub fn model_of_identifier(&self, identifier: &str) -> Option<Value> {
        let parts: Vec<&str> = identifier.split('|').collect();
        (parts.len() == self.primary_identifier.len()).then(|| {
            Value::Object(
                self.primary_identifier
                    .iter()
                    .zip(parts)
                    .map(|(name, part)| (name.clone(), Value::String(part.to_owned())))
                    .collect(),
            )
        })
    }

    /// The primary identifier's value in `model` (several parts joined by `|`, as Cloud Control writes them).
    pub fn primary_identifier_of(&self, model: &Value) -> String {
        self.primary_identifier
            .iter()
            .map(|name| match &model[name] {
                Value::String(text) => text.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join("|")
    }

    /// Whether going from `old` to `new` properties changes a create-only one (so the resource is replaced).
    pub fn replaces(&self, old: &Value, new: &Value) -> bool {
        self.create_only.iter().any(|name| old.get(name) != new.get(name))
    }

    /// Copies the read-only properties (the identifier among them) of `from` into `into`.
    pub fn carry_read_only(&self, from: &Value, into: &mut Value) {
        let Some(target) = into.as_object_mut() else {
            return;
        };
        for name in self.read_only.iter().chain(&self.primary_identifier) {
            if let Some(value) = from.get(name) {
                target.insert(name.clone(), value.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_lists_and_compares_create_only_properties() {
        let schema = TypeSchema::from_schema(&json!({
            "primaryIdentifier": ["/properties/AssociationArn"],
            "createOnlyProperties": ["/properties/ClusterName", "/properties/Namespace"],
            "readOnlyProperties": ["/properties/AssociationArn", "/properties/AssociationId"],
            "handlers": {"create": {}, "read": {}, "list": {}},
        }));
        assert!(schema.has_handler("list") && !schema.has_handler("update"));
        assert_eq!(
            schema.model_of_identifier("arn"),
            Some(json!({"AssociationArn": "arn"}))
        );
        assert_eq!(schema.model_of_identifier("a|b"), None);
        assert_eq!(schema.primary_identifier, ["AssociationArn"]);
        let old = json!({"ClusterName": "demo", "Namespace": "a", "RoleArn": "r1"});
        assert!(!schema.replaces(&old, &json!({"ClusterName": "demo", "Namespace": "a", "RoleArn": "r2"})));
        assert!(schema.replaces(&old, &json!({"ClusterName": "demo", "Namespace": "b", "RoleArn": "r1"})));
        let mut desired = json!({"RoleArn": "r2"});
        schema.carry_read_only(&json!({"AssociationArn": "arn", "AssociationId": "a-1"}), &mut desired);
        assert_eq!(
            desired,
            json!({"RoleArn": "r2", "AssociationArn": "arn", "AssociationId": "a-1"})
        );
        assert_eq!(schema.primary_identifier_of(&desired), "arn");
    }
}
