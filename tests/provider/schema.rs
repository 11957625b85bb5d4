//! The resource schema: valid for CloudFormation, a drop-in for the published type, and in sync with the Rust model.

use std::collections::BTreeSet;

use jsonschema::{Retrieve, Uri};
use pia_handlers::{ResourceModel, Tag};
use pia_provider::schema::RESOURCE_SCHEMA;
use serde_json::{Value, json};

fn resource_schema() -> Value {
    serde_json::from_str(RESOURCE_SCHEMA).unwrap()
}

fn published_schema() -> Value {
    serde_json::from_str(include_str!(
        "../../schema/published/aws-eks-podidentityassociation.json"
    ))
    .unwrap()
}

/// Serves the meta-schema's sibling documents from the repository instead of the network.
struct MetaSchemaFiles;

impl Retrieve for MetaSchemaFiles {
    fn retrieve(&self, uri: &Uri<String>) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let text = match uri.as_str() {
            "https://schema.cloudformation.us-east-1.amazonaws.com/base.definition.schema.v1.json" => {
                include_str!("../../schema/meta-schema/base.definition.schema.v1.json")
            }
            "https://schema.cloudformation.us-east-1.amazonaws.com/provider.configuration.definition.schema.v1.json" => {
                include_str!("../../schema/meta-schema/provider.configuration.definition.schema.v1.json")
            }
            other => return Err(format!("no offline copy of {other}").into()),
        };
        Ok(serde_json::from_str(text)?)
    }
}

fn meta_schema_validator() -> jsonschema::Validator {
    let meta: Value = serde_json::from_str(include_str!(
        "../../schema/meta-schema/provider.definition.schema.v1.json"
    ))
    .unwrap();
    jsonschema::draft7::options()
        .with_retriever(MetaSchemaFiles)
        .build(&meta)
        .unwrap()
}

#[test]
fn the_schema_is_valid_for_the_cloudformation_meta_schema() {
    let validator = meta_schema_validator();
    let errors: Vec<String> = validator
        .iter_errors(&resource_schema())
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

/// The provider's validator is generated from the schema at build time, which also checks it against draft-07;
/// this says so where a reader looks for it.
#[test]
fn the_schema_is_a_draft_07_schema() {
    jsonschema::draft7::meta::validate(&resource_schema()).unwrap();
}

#[test]
fn the_meta_schema_check_catches_broken_schemas() {
    let validator = meta_schema_validator();
    let mut broken = resource_schema();
    broken["properties"]["RoleArn"]["type"] = json!("text");
    assert!(!validator.is_valid(&broken));
    let mut broken = resource_schema();
    broken.as_object_mut().unwrap().remove("primaryIdentifier");
    assert!(!validator.is_valid(&broken));
}

#[test]
fn identifiers_lists_tagging_and_permissions_are_the_published_ones() {
    let ours = resource_schema();
    let published = published_schema();
    for key in [
        "typeName",
        "required",
        "primaryIdentifier",
        "createOnlyProperties",
        "readOnlyProperties",
        "replacementStrategy",
        "tagging",
        "handlers",
        "additionalProperties",
    ] {
        assert_eq!(ours[key], published[key], "{key} differs from the published schema");
    }
    assert!(ours.get("writeOnlyProperties").is_none());
    assert!(ours.get("additionalIdentifiers").is_none());
    let names = |schema: &Value| {
        schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(names(&ours), names(&published));
    for (name, property) in published["properties"].as_object().unwrap() {
        assert_eq!(ours["properties"][name]["type"], property["type"], "type of {name}");
    }
}

#[test]
fn the_weak_spots_of_the_published_schema_are_fixed() {
    let ours = resource_schema();
    assert!(ours["properties"]["RoleArn"]["pattern"].is_string());
    assert!(ours["properties"]["TargetRoleArn"]["pattern"].is_string());
    assert!(ours["properties"]["DisableSessionTags"].get("minLength").is_none());
    assert_eq!(ours["properties"]["Tags"]["maxItems"], 50);
    for (name, property) in ours["properties"].as_object().unwrap() {
        let description = property["description"].as_str().unwrap();
        assert!(
            !description.starts_with("The Disable") && !description.starts_with("The Target Role Arn"),
            "{name}"
        );
    }
}

/// The JSON schema schemars derives from the Rust model must describe the same properties, with the same JSON
/// types and the same Tag shape, as `schema/`: the two cannot drift apart.
#[test]
fn the_rust_model_matches_the_schema() {
    let schema = resource_schema();
    let derived = serde_json::to_value(schemars::schema_for!(ResourceModel)).unwrap();
    let properties = schema["properties"].as_object().unwrap();
    let derived_properties = derived["properties"].as_object().unwrap();
    assert_eq!(
        properties.keys().collect::<BTreeSet<_>>(),
        derived_properties.keys().collect::<BTreeSet<_>>(),
        "property names"
    );
    for (name, property) in properties {
        let derived_type = json_type(&derived_properties[name]);
        assert_eq!(
            property["type"].as_str(),
            Some(derived_type.as_str()),
            "JSON type of {name}"
        );
    }
    assert_eq!(
        derived["additionalProperties"],
        json!(false),
        "the model rejects unknown properties, as the schema does"
    );

    let tag_schema = &schema["definitions"]["Tag"];
    let derived_tag = serde_json::to_value(schemars::schema_for!(Tag)).unwrap();
    assert_eq!(
        tag_schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<BTreeSet<_>>(),
        derived_tag["properties"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<BTreeSet<_>>()
    );
    let required = |s: &Value| {
        s["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(required(tag_schema), required(&derived_tag), "required Tag fields");
    assert_eq!(derived_tag["additionalProperties"], json!(false));
}

/// The type schemars gives an `Option<T>` property: T's type, without the null it adds.
fn json_type(property: &Value) -> String {
    match &property["type"] {
        Value::String(single) => single.clone(),
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap()
            .to_owned(),
        _ => panic!("untyped property {property}"),
    }
}

/// Round trip: every property of the schema survives decoding into the model and encoding back.
#[test]
fn a_full_model_round_trips() {
    let full = json!({
        "ClusterName": "c", "RoleArn": "arn:aws:iam::111122223333:role/r", "Namespace": "n", "ServiceAccount": "s",
        "AssociationArn": "arn:aws:eks:us-east-1:111122223333:podidentityassociation/c/a-0123456789abcdefg",
        "AssociationId": "a-0123456789abcdefg", "TargetRoleArn": "arn:aws:iam::444455556666:role/t",
        "Policy": "{}", "ExternalId": "e", "DisableSessionTags": true, "Tags": [{"Key": "k", "Value": "v"}]
    });
    let model: ResourceModel = serde_json::from_value(full.clone()).unwrap();
    assert_eq!(serde_json::to_value(model).unwrap(), full);
    let schema_names: BTreeSet<String> = resource_schema()["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(
        full.as_object().unwrap().keys().cloned().collect::<BTreeSet<_>>(),
        schema_names
    );
}

/// Every code the provider answers is in the README's error section, and the contract harness teaches `cfn test`
/// every code CloudFormation defines (its own enum lacks UnauthorizedTaggingOperation and would crash on it).
#[test]
fn every_answered_code_is_documented_and_known_to_the_contract_harness() {
    let readme = include_str!("../../README.md");
    let section = &readme[readme.find("### Error mapping").expect("the README's error section")..];
    for code in pia_handlers::error::ANSWERED_CODES {
        assert!(
            section.contains(&format!("`{}`", code.as_str())),
            "{code:?} not in the README"
        );
    }
    let harness = include_str!("../../cfn-plugin/rpdk/rust/contract.py");
    let listed = &harness[harness
        .find("CLOUDFORMATION_ERROR_CODES = (")
        .expect("the harness's code list")..];
    let listed = &listed[..listed.find(')').unwrap()];
    for code in pia_handlers::HandlerErrorCode::ALL {
        assert!(
            listed.contains(&format!("\"{}\"", code.as_str())),
            "{code:?} unknown to the contract harness"
        );
    }
}
