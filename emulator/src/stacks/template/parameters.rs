//! Template parameters: their declarations, and the values a stack gets from the caller, the defaults and
//! Systems Manager, checked against the declared constraints.

use std::collections::BTreeMap;

use serde_json::Value;

use super::error::{TemplateError, name_list};
use super::template::{Template, is_logical_id, scalar_string};

/// What a parameter's value is, from its Type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ParameterType {
    /// `String` and the AWS-specific single-value types (`AWS::EC2::VPC::Id`, …), taken as strings.
    String,
    Number,
    /// `List<Number>`.
    NumberList,
    /// `CommaDelimitedList` and the AWS-specific list types (`List<AWS::EC2::Subnet::Id>`, …).
    List,
    /// `AWS::SSM::Parameter::Name`: the value is a parameter's name, and stays that.
    SsmName,
    /// `AWS::SSM::Parameter::Value<…>`: the value names a Systems Manager parameter whose value is used,
    /// a list when the inner type is one.
    SsmValue {
        list: bool,
    },
}

impl ParameterType {
    fn parse(type_name: &str) -> Option<Self> {
        match type_name {
            "String" => Some(Self::String),
            "Number" => Some(Self::Number),
            "List<Number>" => Some(Self::NumberList),
            "CommaDelimitedList" => Some(Self::List),
            "AWS::SSM::Parameter::Name" => Some(Self::SsmName),
            _ => {
                if let Some(inner) = type_name
                    .strip_prefix("AWS::SSM::Parameter::Value<")
                    .and_then(|rest| rest.strip_suffix('>'))
                {
                    let list = match inner {
                        "String" => false,
                        "List<String>" | "CommaDelimitedList" => true,
                        inner => match Self::parse(inner) {
                            Some(Self::String) => false,
                            Some(Self::List) => true,
                            _ => return None,
                        },
                    };
                    return Some(Self::SsmValue { list });
                }
                if let Some(inner) = type_name.strip_prefix("List<").and_then(|rest| rest.strip_suffix('>')) {
                    return is_aws_type(inner).then_some(Self::List);
                }
                is_aws_type(type_name).then_some(Self::String)
            }
        }
    }
}

/// `AWS::EC2::VPC::Id` and its kin: an `AWS::` name of at least three segments.
fn is_aws_type(type_name: &str) -> bool {
    let segments: Vec<&str> = type_name.split("::").collect();
    segments.len() >= 3
        && segments[0] == "AWS"
        && segments[1..]
            .iter()
            .all(|segment| !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// One parameter as declared.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ParameterDecl {
    pub(crate) name: String,
    pub(crate) type_name: String,
    pub(crate) kind: ParameterType,
    pub(crate) default: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) no_echo: bool,
    allowed_values: Option<Vec<String>>,
    allowed_pattern: Option<String>,
    min_length: Option<u64>,
    max_length: Option<u64>,
    min_value: Option<f64>,
    max_value: Option<f64>,
    constraint_description: Option<String>,
}

impl ParameterDecl {
    pub(super) fn from_template(name: &str, declaration: &Value) -> Result<Self, TemplateError> {
        if !is_logical_id(name) {
            return Err(TemplateError::NonAlphanumericParameter(name.to_owned()));
        }
        let malformed = |attribute: &str| {
            TemplateError::Format(format!("[/Parameters/{name}/{attribute}] {attribute} is malformed"))
        };
        let Some(declaration) = declaration.as_object() else {
            return Err(TemplateError::Format(format!(
                "[/Parameters/{name}] Every Parameters object must contain a Type member."
            )));
        };
        let Some(type_name) = declaration.get("Type").and_then(Value::as_str) else {
            return Err(TemplateError::Format(format!(
                "[/Parameters/{name}] Every Parameters object must contain a Type member."
            )));
        };
        let kind =
            ParameterType::parse(type_name).ok_or_else(|| TemplateError::UnknownParameterType(type_name.to_owned()))?;
        let text = |attribute: &str| -> Result<Option<String>, TemplateError> {
            declaration
                .get(attribute)
                .map(|value| scalar_string(value).ok_or_else(|| malformed(attribute)))
                .transpose()
        };
        let integer = |attribute: &str| -> Result<Option<u64>, TemplateError> {
            text(attribute)?
                .map(|value| value.trim().parse().map_err(|_| malformed(attribute)))
                .transpose()
        };
        let number = |attribute: &str| -> Result<Option<f64>, TemplateError> {
            text(attribute)?
                .map(|value| value.trim().parse().map_err(|_| malformed(attribute)))
                .transpose()
        };
        let default = match declaration.get("Default") {
            // A list default of a list type, written as YAML list: its comma-delimited form.
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .map(|item| scalar_string(item).ok_or_else(|| malformed("Default")))
                    .collect::<Result<Vec<_>, _>>()?
                    .join(","),
            ),
            _ => text("Default")?,
        };
        let allowed_values = match declaration.get("AllowedValues") {
            None => None,
            Some(Value::Array(values)) => Some(
                values
                    .iter()
                    .map(|value| scalar_string(value).ok_or_else(|| malformed("AllowedValues")))
                    .collect::<Result<_, _>>()?,
            ),
            Some(_) => return Err(malformed("AllowedValues")),
        };
        let allowed_pattern = text("AllowedPattern")?;
        if let Some(pattern) = &allowed_pattern {
            fancy_regex::Regex::new(pattern).map_err(|_| malformed("AllowedPattern"))?;
        }
        Ok(Self {
            name: name.to_owned(),
            type_name: type_name.to_owned(),
            kind,
            default,
            description: text("Description")?,
            no_echo: text("NoEcho")?.is_some_and(|value| value.eq_ignore_ascii_case("true")),
            allowed_values,
            allowed_pattern,
            min_length: integer("MinLength")?,
            max_length: integer("MaxLength")?,
            min_value: number("MinValue")?,
            max_value: number("MaxValue")?,
            constraint_description: text("ConstraintDescription")?,
        })
    }

    /// Checks a value (given or default) against the declared constraints.
    fn check(&self, value: &str) -> Result<(), TemplateError> {
        let members: Vec<&str> = match self.kind {
            ParameterType::List | ParameterType::NumberList => split_list(value),
            _ => vec![value],
        };
        members
            .into_iter()
            .try_for_each(|member| self.check_member(member))
            .map_err(|error| match &self.constraint_description {
                Some(description) => TemplateError::ConstraintNotSatisfied {
                    name: self.name.clone(),
                    description: description.clone(),
                },
                None => error,
            })
    }

    fn check_member(&self, value: &str) -> Result<(), TemplateError> {
        let name = || self.name.clone();
        if let Some(allowed) = &self.allowed_values
            && !allowed.iter().any(|allowed| allowed == value)
        {
            return Err(TemplateError::NotAllowedValue(name()));
        }
        // The bounds print as written: f64's Display gives 5 for 5.0.
        if matches!(self.kind, ParameterType::Number | ParameterType::NumberList) {
            let number: f64 = value.trim().parse().map_err(|_| TemplateError::NotANumber(name()))?;
            if let Some(min) = self.min_value
                && number < min
            {
                return Err(TemplateError::TooSmall {
                    name: name(),
                    min: min.to_string(),
                });
            }
            if let Some(max) = self.max_value
                && number > max
            {
                return Err(TemplateError::TooLarge {
                    name: name(),
                    max: max.to_string(),
                });
            }
            return Ok(());
        }
        let length = value.chars().count() as u64;
        if let Some(min) = self.min_length
            && length < min
        {
            return Err(TemplateError::TooShort { name: name(), min });
        }
        if let Some(max) = self.max_length
            && length > max
        {
            return Err(TemplateError::TooLong { name: name(), max });
        }
        if let Some(pattern) = &self.allowed_pattern {
            // The pattern must match the whole value, as Java's Pattern.matches does.
            let whole =
                fancy_regex::Regex::new(&format!("^(?:{pattern})$")).map_err(|_| TemplateError::PatternMismatch {
                    name: name(),
                    pattern: pattern.clone(),
                })?;
            if !whole.is_match(value).unwrap_or(false) {
                return Err(TemplateError::PatternMismatch {
                    name: name(),
                    pattern: pattern.clone(),
                });
            }
        }
        Ok(())
    }
}

/// A comma-delimited list's members, each space-trimmed.
fn split_list(value: &str) -> Vec<&str> {
    value.split(',').map(str::trim).collect()
}

/// The parameters of one stack, each with the value it was given (or its default) and the value `Ref`
/// gives.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Parameters {
    values: BTreeMap<String, ParameterValue>,
}

/// One parameter's value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ParameterValue {
    /// As given or defaulted: for a Systems Manager type, the parameter's name.
    pub(crate) value: String,
    /// For a Systems Manager type, the value read from the parameter store (DescribeStacks' ResolvedValue).
    pub(crate) resolved_value: Option<String>,
    /// Whether the API must show it as `****`.
    pub(crate) no_echo: bool,
    /// What `Ref` gives: a string, or a list of strings for list types.
    pub(crate) reference: Value,
}

impl Parameters {
    pub(crate) fn get(&self, name: &str) -> Option<&ParameterValue> {
        self.values.get(name)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &ParameterValue)> {
        self.values.iter().map(|(name, value)| (name.as_str(), value))
    }
}

/// The parameters of a stack of `template`: `given` values (by key) over the defaults, checked against
/// each declaration, Systems Manager types resolved through `ssm_lookup` (a parameter's name to its value).
pub(crate) fn resolve_parameters(
    template: &Template,
    given: &BTreeMap<String, String>,
    ssm_lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Parameters, TemplateError> {
    let unknown: Vec<&str> = given
        .keys()
        .map(String::as_str)
        .filter(|key| template.parameter(key).is_none())
        .collect();
    if !unknown.is_empty() {
        return Err(TemplateError::UnknownParameters(name_list(unknown)));
    }
    let missing: Vec<&str> = template
        .parameters()
        .iter()
        .filter(|declaration| !given.contains_key(&declaration.name) && declaration.default.is_none())
        .map(|declaration| declaration.name.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(TemplateError::MissingParameterValues(name_list(missing)));
    }
    let mut values = BTreeMap::new();
    for declaration in template.parameters() {
        let Some(value) = given.get(&declaration.name).or(declaration.default.as_ref()) else {
            continue;
        };
        declaration.check(value)?;
        let (resolved_value, reference) = match declaration.kind {
            ParameterType::SsmValue { list } => {
                let resolved = ssm_lookup(value).ok_or_else(|| TemplateError::SsmParameterNotFound(value.clone()))?;
                let reference = if list {
                    list_value(&resolved)
                } else {
                    Value::String(resolved.clone())
                };
                (Some(resolved), reference)
            }
            ParameterType::List | ParameterType::NumberList => (None, list_value(value)),
            ParameterType::String | ParameterType::Number | ParameterType::SsmName => {
                (None, Value::String(value.clone()))
            }
        };
        values.insert(
            declaration.name.clone(),
            ParameterValue {
                value: value.clone(),
                resolved_value,
                no_echo: declaration.no_echo,
                reference,
            },
        );
    }
    Ok(Parameters { values })
}

fn list_value(value: &str) -> Value {
    Value::from(split_list(value))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const TEMPLATE: &str = r#"
Parameters:
  Name:
    Type: String
    MinLength: 2
    MaxLength: 5
    AllowedPattern: "[a-z]+"
  Env:
    Type: String
    Default: dev
    AllowedValues: [dev, prod]
  Size:
    Type: Number
    Default: 3
    MinValue: 1
    MaxValue: 10
  Ports:
    Type: List<Number>
    Default: "80, 443"
  Subnets:
    Type: List<AWS::EC2::Subnet::Id>
    Default: subnet-1,subnet-2
  Vpc:
    Type: AWS::EC2::VPC::Id
    Default: vpc-1
  Secret:
    Type: String
    NoEcho: true
    Default: hunter2
  Ami:
    Type: AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>
    Default: /aws/ami/latest
  Zones:
    Type: AWS::SSM::Parameter::Value<List<String>>
    Default: /zones
Resources:
  A: {Type: T}
"#;

    fn ssm(name: &str) -> Option<String> {
        match name {
            "/aws/ami/latest" => Some("ami-123".to_owned()),
            "/zones" => Some("a,b".to_owned()),
            _ => None,
        }
    }

    fn resolve(given: &[(&str, &str)]) -> Result<Parameters, TemplateError> {
        let template = Template::parse(TEMPLATE).unwrap();
        let given = given.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        resolve_parameters(&template, &given, &ssm)
    }

    fn error(given: &[(&str, &str)]) -> String {
        resolve(given).unwrap_err().to_string()
    }

    #[test]
    fn values_come_from_the_caller_the_defaults_and_systems_manager() {
        let parameters = resolve(&[("Name", "abc"), ("Env", "prod")]).unwrap();
        let reference = |name: &str| parameters.get(name).unwrap().reference.clone();
        assert_eq!(reference("Name"), json!("abc"));
        assert_eq!(reference("Env"), json!("prod"));
        assert_eq!(reference("Size"), json!("3"));
        assert_eq!(reference("Ports"), json!(["80", "443"]));
        assert_eq!(reference("Subnets"), json!(["subnet-1", "subnet-2"]));
        assert_eq!(reference("Vpc"), json!("vpc-1"));
        assert_eq!(reference("Ami"), json!("ami-123"));
        assert_eq!(reference("Zones"), json!(["a", "b"]));
        let ami = parameters.get("Ami").unwrap();
        assert_eq!(
            (ami.value.as_str(), ami.resolved_value.as_deref()),
            ("/aws/ami/latest", Some("ami-123"))
        );
        let no_echo: Vec<&str> = parameters
            .iter()
            .filter(|(_, value)| value.no_echo)
            .map(|(name, _)| name)
            .collect();
        assert_eq!(no_echo, ["Secret"]);
    }

    #[test]
    fn missing_and_unknown_parameters_are_named() {
        assert_eq!(error(&[]), "Parameters: [Name] must have values");
        assert_eq!(
            error(&[("Name", "abc"), ("Nope", "x"), ("Zap", "y")]),
            "Parameters: [Nope, Zap] do not exist in the template"
        );
    }

    #[test]
    fn constraints_are_checked_with_cloudformation_messages() {
        assert_eq!(
            error(&[("Name", "a")]),
            "Parameter 'Name' must contain at least 2 characters"
        );
        assert_eq!(
            error(&[("Name", "abcdef")]),
            "Parameter 'Name' must contain at most 5 characters"
        );
        assert_eq!(error(&[("Name", "AB")]), "Parameter 'Name' must match pattern [a-z]+");
        assert_eq!(
            error(&[("Name", "abc"), ("Env", "qa")]),
            "Parameter 'Env' must be one of AllowedValues"
        );
        assert_eq!(
            error(&[("Name", "abc"), ("Size", "x")]),
            "Parameter 'Size' must be a number"
        );
        assert_eq!(
            error(&[("Name", "abc"), ("Size", "0")]),
            "Parameter 'Size' must be a number not less than 1"
        );
        assert_eq!(
            error(&[("Name", "abc"), ("Size", "11")]),
            "Parameter 'Size' must be a number not greater than 10"
        );
        assert_eq!(
            error(&[("Name", "abc"), ("Ports", "80,http")]),
            "Parameter 'Ports' must be a number"
        );
    }

    #[test]
    fn a_constraint_description_replaces_the_reason() {
        let template = Template::parse(
            "Parameters:\n  P:\n    Type: String\n    AllowedPattern: '\\d+'\n    ConstraintDescription: digits only\nResources: {A: {Type: T}}\n",
        )
        .unwrap();
        let given = BTreeMap::from([("P".to_owned(), "x".to_owned())]);
        assert_eq!(
            resolve_parameters(&template, &given, &ssm).unwrap_err().to_string(),
            "Parameter P failed to satisfy constraint: digits only"
        );
    }

    #[test]
    fn an_unknown_systems_manager_parameter_fails() {
        assert_eq!(
            error(&[("Name", "abc"), ("Ami", "/missing")]),
            "Template error: Unable to fetch parameters [/missing] from parameter store for this account."
        );
    }

    #[test]
    fn unknown_types_are_refused() {
        for type_name in ["Strin", "List<String>", "AWS::SSM::Parameter::Value<Bogus>"] {
            let body = format!("Parameters: {{P: {{Type: '{type_name}'}}}}\nResources: {{A: {{Type: T}}}}\n");
            assert_eq!(
                Template::parse(&body).unwrap_err().to_string(),
                format!("Template format error: Unrecognized parameter type: {type_name}")
            );
        }
    }
}
