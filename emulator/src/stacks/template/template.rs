//! A parsed template: its sections read and checked, as CloudFormation does before it looks at any value.

use serde_json::{Map, Value};

use super::error::{TemplateError, name_list};
use super::outputs::OutputDecl;
use super::parameters::ParameterDecl;
use super::references::check_references;
use super::rules::RuleDecl;
use super::yaml::parse_yaml;

/// The largest `TemplateBody` the API accepts (CreateStack, UpdateStack, ValidateTemplate, …).
pub(crate) const MAX_TEMPLATE_BODY_BYTES: usize = 51_200;
/// The largest template at all (one given by `TemplateURL`).
pub(crate) const MAX_TEMPLATE_BYTES: usize = 1_000_000;
pub(crate) const MAX_RESOURCES: usize = 500;
pub(crate) const MAX_PARAMETERS: usize = 200;
pub(crate) const MAX_OUTPUTS: usize = 200;

/// The top-level sections of a template.
const SECTIONS: &[&str] = &[
    "AWSTemplateFormatVersion",
    "Description",
    "Metadata",
    "Parameters",
    "Rules",
    "Mappings",
    "Conditions",
    "Transform",
    "Resources",
    "Outputs",
    "Hooks",
];

/// The attributes a resource may have besides its Type.
const RESOURCE_ATTRIBUTES: &[&str] = &[
    "Type",
    "Properties",
    "DependsOn",
    "Condition",
    "DeletionPolicy",
    "UpdateReplacePolicy",
    "Metadata",
    "CreationPolicy",
    "UpdatePolicy",
    "Version",
];

/// A template body, parsed and checked.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Template {
    description: Option<String>,
    transforms: Vec<String>,
    parameters: Vec<ParameterDecl>,
    mappings: Map<String, Value>,
    conditions: Map<String, Value>,
    rules: Vec<RuleDecl>,
    resources: Vec<ResourceDecl>,
    outputs: Vec<OutputDecl>,
}

/// One resource as declared: its values are the template's, functions unresolved.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ResourceDecl {
    pub(crate) logical_id: String,
    pub(crate) type_name: String,
    /// An object (empty when the template has no Properties).
    pub(crate) properties: Value,
    pub(crate) depends_on: Vec<String>,
    pub(crate) condition: Option<String>,
    pub(crate) deletion_policy: Option<String>,
    pub(crate) update_replace_policy: Option<String>,
    /// Metadata, CreationPolicy and UpdatePolicy: their references order the resource too.
    pub(crate) attributes: Map<String, Value>,
}

impl Template {
    /// Parses a body (JSON when it starts with `{`, YAML otherwise) and checks it as CloudFormation's
    /// ValidateTemplate does: sections, resources, limits, and every reference (Ref, Fn::GetAtt, Fn::Sub,
    /// DependsOn, conditions, mappings) naming something the template declares, without cycles.
    pub(crate) fn parse(body: &str) -> Result<Self, TemplateError> {
        if body.len() > MAX_TEMPLATE_BYTES {
            return Err(TemplateError::TemplateTooLarge {
                max: MAX_TEMPLATE_BYTES,
            });
        }
        let document = if body.trim_start().starts_with('{') {
            serde_json::from_str(body).map_err(|error| TemplateError::JsonNotWellFormed {
                line: error.line(),
                column: error.column(),
            })?
        } else {
            parse_yaml(body)?
        };
        let Value::Object(sections) = document else {
            return Err(TemplateError::UnsupportedStructure);
        };
        let template = Self::from_sections(sections)?;
        check_references(&template)?;
        Ok(template)
    }

    fn from_sections(sections: Map<String, Value>) -> Result<Self, TemplateError> {
        for (name, value) in &sections {
            refuse_nulls(value, &format!("/{name}"))?;
        }
        let unknown: Vec<&str> = sections
            .keys()
            .map(String::as_str)
            .filter(|name| !SECTIONS.contains(name))
            .collect();
        if !unknown.is_empty() {
            return Err(TemplateError::UnknownSections(name_list(unknown)));
        }
        let parameters = section(&sections, "Parameters")?;
        limit("parameters", parameters.len(), MAX_PARAMETERS)?;
        let resources = section(&sections, "Resources")?;
        if resources.is_empty() {
            return Err(TemplateError::NoResources);
        }
        limit("resources", resources.len(), MAX_RESOURCES)?;
        let outputs = section(&sections, "Outputs")?;
        limit("outputs", outputs.len(), MAX_OUTPUTS)?;
        let mappings = section(&sections, "Mappings")?;
        for (name, mapping) in &mappings {
            let well_formed = mapping
                .as_object()
                .is_some_and(|keys| keys.values().all(Value::is_object));
            if !well_formed {
                return Err(TemplateError::Format(format!(
                    "Mappings attribute {name} must be a map of maps"
                )));
            }
        }
        Ok(Self {
            description: sections.get("Description").and_then(scalar_string),
            transforms: transforms(sections.get("Transform"))?,
            parameters: parameters
                .iter()
                .map(|(name, declaration)| ParameterDecl::from_template(name, declaration))
                .collect::<Result<_, _>>()?,
            conditions: section(&sections, "Conditions")?,
            rules: section(&sections, "Rules")?
                .iter()
                .map(|(name, declaration)| RuleDecl::from_template(name, declaration))
                .collect::<Result<_, _>>()?,
            resources: resources
                .iter()
                .map(|(id, declaration)| ResourceDecl::from_template(id, declaration))
                .collect::<Result<_, _>>()?,
            outputs: outputs
                .iter()
                .map(|(name, declaration)| OutputDecl::from_template(name, declaration))
                .collect::<Result<_, _>>()?,
            mappings,
        })
    }

    pub(crate) fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The Transform section (`AWS::Serverless-2016-10-31`, …), as ValidateTemplate's DeclaredTransforms.
    pub(crate) fn transforms(&self) -> &[String] {
        &self.transforms
    }

    pub(crate) fn parameters(&self) -> &[ParameterDecl] {
        &self.parameters
    }

    pub(crate) fn parameter(&self, name: &str) -> Option<&ParameterDecl> {
        self.parameters.iter().find(|parameter| parameter.name == name)
    }

    pub(crate) fn mappings(&self) -> &Map<String, Value> {
        &self.mappings
    }

    /// The Conditions section: each condition's function, unevaluated.
    pub(crate) fn conditions(&self) -> &Map<String, Value> {
        &self.conditions
    }

    pub(crate) fn rules(&self) -> &[RuleDecl] {
        &self.rules
    }

    pub(crate) fn resources(&self) -> &[ResourceDecl] {
        &self.resources
    }

    pub(crate) fn resource(&self, logical_id: &str) -> Option<&ResourceDecl> {
        self.resources.iter().find(|resource| resource.logical_id == logical_id)
    }

    pub(crate) fn outputs(&self) -> &[OutputDecl] {
        &self.outputs
    }
}

impl ResourceDecl {
    fn from_template(logical_id: &str, declaration: &Value) -> Result<Self, TemplateError> {
        if !is_logical_id(logical_id) {
            return Err(TemplateError::NonAlphanumericResource(logical_id.to_owned()));
        }
        let Some(declaration) = declaration.as_object() else {
            return Err(TemplateError::MissingType(logical_id.to_owned()));
        };
        if let Some(unknown) = declaration
            .keys()
            .find(|key| !RESOURCE_ATTRIBUTES.contains(&key.as_str()))
        {
            return Err(TemplateError::UnknownResourceAttribute(unknown.clone()));
        }
        let Some(type_name) = declaration.get("Type").and_then(Value::as_str) else {
            return Err(TemplateError::MissingType(logical_id.to_owned()));
        };
        let properties = match declaration.get("Properties") {
            None => Value::Object(Map::new()),
            Some(properties @ Value::Object(_)) => properties.clone(),
            Some(_) => {
                return Err(TemplateError::Format(format!(
                    "[/Resources/{logical_id}/Properties] Every Properties member must be an object"
                )));
            }
        };
        let depends_on = match declaration.get("DependsOn") {
            None => Vec::new(),
            Some(Value::String(name)) => vec![name.clone()],
            Some(Value::Array(names)) => names
                .iter()
                .map(|name| name.as_str().map(str::to_owned))
                .collect::<Option<_>>()
                .ok_or_else(|| depends_on_error(logical_id))?,
            Some(_) => return Err(depends_on_error(logical_id)),
        };
        let string_attribute = |name: &str| -> Result<Option<String>, TemplateError> {
            match declaration.get(name) {
                None => Ok(None),
                Some(Value::String(value)) => Ok(Some(value.clone())),
                Some(_) => Err(TemplateError::Format(format!(
                    "[/Resources/{logical_id}/{name}] {name} must be a string"
                ))),
            }
        };
        Ok(Self {
            logical_id: logical_id.to_owned(),
            type_name: type_name.to_owned(),
            properties,
            depends_on,
            condition: string_attribute("Condition")?,
            deletion_policy: string_attribute("DeletionPolicy")?,
            update_replace_policy: string_attribute("UpdateReplacePolicy")?,
            attributes: ["Metadata", "CreationPolicy", "UpdatePolicy"]
                .into_iter()
                .filter_map(|name| Some((name.to_owned(), declaration.get(name)?.clone())))
                .collect(),
        })
    }
}

fn depends_on_error(logical_id: &str) -> TemplateError {
    TemplateError::Format(format!(
        "[/Resources/{logical_id}/DependsOn] DependsOn must be a string or a list of strings"
    ))
}

/// Logical ids (of resources, parameters, outputs) are ASCII letters and digits.
pub(super) fn is_logical_id(name: &str) -> bool {
    !name.is_empty() && name.len() <= 255 && name.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A section that must be an object (absent: empty).
fn section(sections: &Map<String, Value>, name: &str) -> Result<Map<String, Value>, TemplateError> {
    match sections.get(name) {
        None => Ok(Map::new()),
        Some(Value::Object(members)) => Ok(members.clone()),
        Some(_) => Err(TemplateError::Format(format!(
            "{name} section must be an object (a JSON object or a YAML mapping)"
        ))),
    }
}

fn limit(section: &'static str, count: usize, max: usize) -> Result<(), TemplateError> {
    if count > max {
        return Err(TemplateError::TooMany { section, count, max });
    }
    Ok(())
}

fn transforms(transform: Option<&Value>) -> Result<Vec<String>, TemplateError> {
    let names = match transform {
        None => return Ok(Vec::new()),
        Some(Value::Array(names)) => names.iter().collect(),
        Some(name) => vec![name],
    };
    names
        .into_iter()
        .map(|name| match name {
            Value::String(name) => Ok(name.clone()),
            // A transform with parameters: {"Name": "AWS::Include", "Parameters": {...}}.
            Value::Object(transform) => transform
                .get("Name")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| TemplateError::Format("Transform must name a macro".to_owned())),
            _ => Err(TemplateError::Format("Transform must name a macro".to_owned())),
        })
        .collect()
}

/// CloudFormation refuses a null anywhere in a template (an empty YAML value included).
fn refuse_nulls(value: &Value, path: &str) -> Result<(), TemplateError> {
    match value {
        Value::Null => Err(TemplateError::NullValue(path.to_owned())),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(index, item)| refuse_nulls(item, &format!("{path}/{index}"))),
        Value::Object(members) => members
            .iter()
            .try_for_each(|(key, member)| refuse_nulls(member, &format!("{path}/{key}"))),
        _ => Ok(()),
    }
}

/// A scalar as CloudFormation reads it where a string is expected: numbers and booleans in their text form.
pub(crate) fn scalar_string(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(boolean) => Some(boolean.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_error(body: &str) -> String {
        Template::parse(body).unwrap_err().to_string()
    }

    #[test]
    fn resources_are_read_with_their_attributes() {
        let template = Template::parse(
            r#"
Resources:
  Queue:
    Type: AWS::SQS::Queue
  Role:
    Type: AWS::IAM::Role
    DependsOn: Queue
    DeletionPolicy: Retain
    UpdateReplacePolicy: Delete
    Metadata: {Note: kept}
    Properties:
      RoleName: r
"#,
        )
        .unwrap();
        let role = template.resource("Role").unwrap();
        assert_eq!(role.type_name, "AWS::IAM::Role");
        assert_eq!(role.properties, serde_json::json!({"RoleName": "r"}));
        assert_eq!(role.depends_on, ["Queue"]);
        assert_eq!(role.deletion_policy.as_deref(), Some("Retain"));
        assert_eq!(role.update_replace_policy.as_deref(), Some("Delete"));
        assert_eq!(role.attributes["Metadata"], serde_json::json!({"Note": "kept"}));
        assert_eq!(template.resource("Queue").unwrap().properties, serde_json::json!({}));
    }

    #[test]
    fn structural_errors_are_worded_as_cloudformation_words_them() {
        assert_eq!(
            parse_error("Resources: {A: {Type: T}}\nBogus: 1\nOther: 2\n"),
            "Template format error: Invalid template property or properties [Bogus, Other]"
        );
        assert_eq!(
            parse_error("Description: nothing\n"),
            "Template format error: At least one Resources member must be defined."
        );
        assert_eq!(
            parse_error("Resources: {}\n"),
            "Template format error: At least one Resources member must be defined."
        );
        assert_eq!(
            parse_error("Resources: {A: {Properties: {}}}\n"),
            "Template format error: [/Resources/A] Every Resources object must contain a Type member."
        );
        assert_eq!(
            parse_error("Resources: {A: {Type: T, Propertys: {}}}\n"),
            "Invalid template resource property 'Propertys'"
        );
        assert_eq!(
            parse_error("Resources: {my-a: {Type: T}}\n"),
            "Template format error: Resource name my-a is non alphanumeric."
        );
        assert_eq!(
            parse_error("Resources:\n  A:\n    Type: T\n    Properties:\n      Name:\n"),
            "[/Resources/A/Properties/Name] 'null' values are not allowed in templates"
        );
        assert_eq!(
            parse_error("just text"),
            "Template format error: unsupported structure."
        );
        assert_eq!(
            parse_error("{\"Resources\": {\"A\": }"),
            "Template format error: JSON not well-formed. (line 1, column 21)"
        );
    }

    #[test]
    fn limits_are_enforced() {
        let resources: String = (0..=MAX_RESOURCES).map(|i| format!("  R{i}: {{Type: T}}\n")).collect();
        assert_eq!(
            parse_error(&format!("Resources:\n{resources}")),
            "Template format error: Number of resources, 501, is greater than maximum allowed, 500"
        );
        let outputs: String = (0..=MAX_OUTPUTS).map(|i| format!("  O{i}: {{Value: v}}\n")).collect();
        assert_eq!(
            parse_error(&format!("Resources: {{A: {{Type: T}}}}\nOutputs:\n{outputs}")),
            "Template format error: Number of outputs, 201, is greater than maximum allowed, 200"
        );
        let parameters: String = (0..=MAX_PARAMETERS)
            .map(|i| format!("  P{i}: {{Type: String}}\n"))
            .collect();
        assert_eq!(
            parse_error(&format!("Resources: {{A: {{Type: T}}}}\nParameters:\n{parameters}")),
            "Template format error: Number of parameters, 201, is greater than maximum allowed, 200"
        );
        let largest_body = format!(
            "Description: {}\nResources: {{A: {{Type: T}}}}\n",
            "x".repeat(MAX_TEMPLATE_BODY_BYTES)
        );
        assert!(Template::parse(&largest_body).is_ok(), "what the API accepts parses");
        let huge = format!(
            "Description: {}\nResources: {{A: {{Type: T}}}}\n",
            "x".repeat(MAX_TEMPLATE_BYTES)
        );
        assert_eq!(parse_error(&huge), "Template may not exceed 1000000 bytes in size.");
    }

    #[test]
    fn transforms_are_declared() {
        let template =
            Template::parse("Transform: [AWS::Serverless-2016-10-31, {Name: AWS::Include, Parameters: {Location: s3://b/k}}]\nResources: {A: {Type: T}}\n")
                .unwrap();
        assert_eq!(template.transforms(), ["AWS::Serverless-2016-10-31", "AWS::Include"]);
    }
}
