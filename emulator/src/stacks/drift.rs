//! Drift detection: each resource's actual properties (its type's Read, through the handlers for a provider's
//! type) against the properties the template gave it. Only the properties the template sets are compared; the
//! tags CloudFormation adds (the stack's and the `aws:` ones) are never drift, and a resource that is gone is
//! DELETED.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::clock::now_epoch_seconds;
use crate::resources::{Made, Registry, Scope};
use crate::world::stacks::{PropertyDifference, ResourceDrift, StackResource};
use crate::world::store::Store;

/// The drift of one resource as it is now.
pub(crate) async fn detect(store: &Store, types: &Registry, scope: &Scope, resource: &StackResource) -> ResourceDrift {
    let expected = resource.properties.clone();
    let checked_at = now_epoch_seconds();
    let not_checked = |expected: Value| ResourceDrift {
        status: "NOT_CHECKED".to_owned(),
        expected,
        actual: None,
        differences: Vec::new(),
        checked_at,
    };
    let (Some(resource_type), Some(physical_id)) = (types.get(&resource.type_name), resource.physical_id.clone())
    else {
        return not_checked(expected);
    };
    let current = Made {
        physical_id,
        model: resource.model.clone(),
    };
    let actual = match resource_type.read(store, scope, &resource.logical_id, &current).await {
        Ok(actual) => actual,
        Err(failure) if failure.code == "NotFound" => {
            return ResourceDrift {
                status: "DELETED".to_owned(),
                expected,
                actual: None,
                differences: Vec::new(),
                checked_at,
            };
        }
        Err(_) => return not_checked(expected),
    };
    let ignored_tags: BTreeSet<&str> = scope.stack_tags.keys().map(String::as_str).collect();
    let mut actual_compared = json!({});
    let mut differences = Vec::new();
    for (name, expected_value) in expected.as_object().into_iter().flatten() {
        let found = actual.get(name).filter(|value| !value.is_null()).cloned();
        let found = match (name.as_str(), found) {
            ("Tags", Some(tags)) => Some(own_tags(&tags, &ignored_tags)),
            (_, found) => found,
        };
        let expected_value = if name == "Tags" {
            sorted_tags(expected_value)
        } else {
            expected_value.clone()
        };
        if let Some(found) = &found {
            actual_compared[name] = found.clone();
        }
        match found {
            Some(found) if found == expected_value => {}
            Some(found) => differences.push(PropertyDifference {
                path: format!("/{name}"),
                expected: Some(expected_value),
                actual: Some(found),
                kind: "NOT_EQUAL".to_owned(),
            }),
            None => differences.push(PropertyDifference {
                path: format!("/{name}"),
                expected: Some(expected_value),
                actual: None,
                kind: "REMOVE".to_owned(),
            }),
        }
    }
    // A property the template leaves out is not compared, except tags someone added beside the template's.
    if expected.get("Tags").is_none()
        && let Some(tags) = actual.get("Tags")
    {
        let added = own_tags(tags, &ignored_tags);
        if added.as_array().is_some_and(|tags| !tags.is_empty()) {
            differences.push(PropertyDifference {
                path: "/Tags".to_owned(),
                expected: None,
                actual: Some(added.clone()),
                kind: "ADD".to_owned(),
            });
            actual_compared["Tags"] = added;
        }
    }
    ResourceDrift {
        status: if differences.is_empty() { "IN_SYNC" } else { "MODIFIED" }.to_owned(),
        expected,
        actual: Some(actual_compared),
        differences,
        checked_at,
    }
}

/// `[{Key, Value}]` without CloudFormation's own tags, in key order.
fn own_tags(tags: &Value, ignored: &BTreeSet<&str>) -> Value {
    let kept: Vec<Value> = tags
        .as_array()
        .into_iter()
        .flatten()
        .filter(|tag| {
            let key = tag["Key"].as_str().unwrap_or_default();
            !key.to_ascii_lowercase().starts_with("aws:") && !ignored.contains(key)
        })
        .cloned()
        .collect();
    sorted_tags(&Value::Array(kept))
}

fn sorted_tags(tags: &Value) -> Value {
    let mut tags: Vec<Value> = tags.as_array().cloned().unwrap_or_default();
    tags.sort_by(|a, b| a["Key"].as_str().cmp(&b["Key"].as_str()));
    Value::Array(tags)
}
