//! The resource schema drives request validation. Its validator is generated from the schema file at build time
//! (checked against JSON Schema draft-07 then: a schema that is not one does not compile), so a process never
//! compiles a schema; its one pattern is built when a Create or Update first needs it.

use pia_handlers::model::template_boolean;
use serde_json::{Map, Value};
use thiserror::Error;

/// The resource schema, as registered with CloudFormation.
pub const RESOURCE_SCHEMA: &str = include_str!("../schema/aws-eks-podidentityassociation.json");

/// The longest validation message returned; a hostile payload must not produce a megabyte of error text.
const MAX_MESSAGE_CHARS: usize = 1_000;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct InvalidModel(pub String);

/// The validator generated from [`RESOURCE_SCHEMA`]'s file. Its patterns go to the `regex` engine: linear time
/// whatever the input, and they need nothing more (no look-around, no back-reference).
#[jsonschema::validator(
    path = "schema/aws-eks-podidentityassociation.json",
    draft = Draft7,
    pattern_options = { engine = regex },
    methods = { is_valid = true, validate = false, iter_errors = true }
)]
struct ResourceSchema;

pub struct ModelValidator {
    schema: Value,
    boolean_properties: Vec<String>,
}

impl ModelValidator {
    pub fn new() -> Self {
        let schema: Value = serde_json::from_str(RESOURCE_SCHEMA).expect("the bundled resource schema is JSON");
        let boolean_properties = schema["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, property)| property["type"] == "boolean")
            .map(|(name, _)| name.clone())
            .collect();
        Self {
            schema,
            boolean_properties,
        }
    }

    pub fn schema(&self) -> &Value {
        &self.schema
    }

    /// Turns the template strings of the properties the schema types as boolean into booleans, as the model's
    /// decoding does ([`template_boolean`]), so that the schema sees what the handler will.
    pub fn coerce(&self, model: &mut Map<String, Value>) {
        for name in &self.boolean_properties {
            if let Some(value) = model.get_mut(name)
                && let Some(flag) = value.as_str().and_then(template_boolean)
            {
                *value = Value::Bool(flag);
            }
        }
    }

    /// Checks a desired model against the schema; the message names each offending property.
    pub fn validate(&self, model: &Value) -> Result<(), InvalidModel> {
        // The yes-or-no check costs a fraction of collecting errors; errors are collected only for a model that fails.
        if ResourceSchema::is_valid(model) {
            return Ok(());
        }
        let problems: Vec<String> = ResourceSchema::iter_errors(model)
            .map(|error| self.describe(&error))
            .collect();
        if problems.is_empty() {
            return Ok(());
        }
        let mut message = format!("the model does not match the resource schema: {}", problems.join("; "));
        if message.chars().count() > MAX_MESSAGE_CHARS {
            message = message.chars().take(MAX_MESSAGE_CHARS).chain("…".chars()).collect();
        }
        Err(InvalidModel(message))
    }

    fn describe(&self, error: &jsonschema::ValidationError<'_>) -> String {
        // A failed cross-property rule (under a top-level combiner): its `$comment` states the rule.
        let schema_path = error.schema_path().as_str();
        let mut segments = schema_path.split('/').skip(1);
        if let (Some(combiner @ ("allOf" | "anyOf" | "oneOf")), Some(index)) = (segments.next(), segments.next())
            && let Some(rule) = self.schema[combiner][index.parse::<usize>().unwrap_or(usize::MAX)]["$comment"].as_str()
        {
            return rule.to_owned();
        }
        let property = error.instance_path().as_str().trim_start_matches('/').replace('/', ".");
        let what = if property.is_empty() {
            "the model".to_owned()
        } else {
            format!("property {property}")
        };
        format!("{what}: {}", error.masked())
    }
}

impl Default for ModelValidator {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn valid() -> Value {
        json!({
            "ClusterName": "prod",
            "Namespace": "default",
            "ServiceAccount": "app",
            "RoleArn": "arn:aws:iam::111122223333:role/app",
        })
    }

    #[test]
    fn accepts_a_minimal_model_and_every_partition() {
        let validator = ModelValidator::new();
        validator.validate(&valid()).unwrap();
        for partition in [
            "aws",
            "aws-cn",
            "aws-us-gov",
            "aws-iso",
            "aws-iso-b",
            "aws-iso-f",
            "aws-eusc",
        ] {
            let mut model = valid();
            model["RoleArn"] = json!(format!("arn:{partition}:iam::111122223333:role/path/to/app"));
            model["TargetRoleArn"] = json!(format!("arn:{partition}:iam::444455556666:role/target"));
            validator.validate(&model).unwrap();
        }
    }

    #[test]
    fn names_the_offending_property() {
        let validator = ModelValidator::new();
        let cases = [
            (json!({"RoleArn": "not-an-arn"}), "property RoleArn"),
            (
                json!({"RoleArn": "arn:aws:iam::111122223333:user/bob"}),
                "property RoleArn",
            ),
            (
                json!({"TargetRoleArn": "arn:aws:s3:::bucket"}),
                "property TargetRoleArn",
            ),
            (json!({"ClusterName": ""}), "property ClusterName"),
            (json!({"DisableSessionTags": "yes"}), "property DisableSessionTags"),
            (json!({"Tags": [{"Key": "", "Value": "v"}]}), "property Tags.0.Key"),
            (json!({"Tags": [{"Key": "k"}]}), "property Tags.0"),
            (json!({"Unknown": 1}), "the model"),
        ];
        for (patch, expected) in cases {
            let mut model = valid();
            for (key, value) in patch.as_object().unwrap() {
                model[key] = value.clone();
            }
            let message = validator.validate(&model).unwrap_err().0;
            assert!(message.contains(expected), "{patch}: {message}");
        }
        let mut model = valid();
        model.as_object_mut().unwrap().remove("RoleArn");
        assert!(
            validator
                .validate(&model)
                .unwrap_err()
                .0
                .contains("\"RoleArn\" is a required property")
        );
    }

    #[test]
    fn at_most_fifty_tags() {
        let validator = ModelValidator::new();
        let mut model = valid();
        model["Tags"] = (0..50).map(|i| json!({"Key": format!("k{i}"), "Value": "v"})).collect();
        validator.validate(&model).unwrap();
        model["Tags"] = (0..51).map(|i| json!({"Key": format!("k{i}"), "Value": "v"})).collect();
        assert!(validator.validate(&model).unwrap_err().0.contains("property Tags"));
    }

    #[test]
    fn policy_requires_disable_session_tags() {
        let validator = ModelValidator::new();
        let mut model = valid();
        model["Policy"] = json!("{\"Version\":\"2012-10-17\",\"Statement\":[]}");
        let message = validator.validate(&model).unwrap_err().0;
        assert!(
            message.contains("Policy requires DisableSessionTags: true"),
            "{message}"
        );
        model["DisableSessionTags"] = json!(false);
        assert!(validator.validate(&model).is_err());
        model["DisableSessionTags"] = json!(true);
        validator.validate(&model).unwrap();
    }

    #[test]
    fn coerces_template_strings_to_booleans() {
        let validator = ModelValidator::new();
        let mut model = valid();
        model["DisableSessionTags"] = json!("True");
        validator.coerce(model.as_object_mut().unwrap());
        assert_eq!(model["DisableSessionTags"], json!(true));
        model["DisableSessionTags"] = json!("maybe");
        validator.coerce(model.as_object_mut().unwrap());
        assert_eq!(model["DisableSessionTags"], json!("maybe"));
    }

    #[test]
    fn long_messages_are_bounded() {
        let validator = ModelValidator::new();
        let mut model = valid();
        model["Tags"] = (0..500).map(|_| json!({"Key": "", "Value": "x".repeat(300)})).collect();
        let message = validator.validate(&model).unwrap_err().0;
        assert!(message.chars().count() <= MAX_MESSAGE_CHARS + 1);
    }
}
