//! Reading a document from JSON, each error naming the element at fault.

use std::str::FromStr;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::document::{
    ActionElement, ConditionBlock, Effect, KeyCondition, OneOrMany, PolicyDocument, PolicyVersion, PrincipalElement,
    PrincipalType, Principals, ResourceElement, Scalar, Statement,
};
use super::error::PolicyError;
use super::operator::{ConditionOperator, OperatorError};

impl PolicyDocument {
    /// Reads a policy from JSON text.
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        let value: Value = serde_json::from_str(text).map_err(|error| PolicyError::Json {
            line: error.line(),
            column: error.column(),
            message: json_error_message(&error),
        })?;
        Self::from_value(&value)
    }

    /// Reads a policy from a JSON value.
    pub fn from_value(value: &Value) -> Result<Self, PolicyError> {
        let Value::Object(object) = value else {
            return Err(PolicyError::malformed(
                "policy",
                format!("expected a JSON object, found {}", kind_of(value)),
            ));
        };
        let mut document = Self {
            version: None,
            id: None,
            statements: Vec::new(),
            unknown_elements: Vec::new(),
        };
        let mut statement = None;
        for (name, element) in object {
            match name.as_str() {
                "Version" => document.version = Some(read_version(element)?),
                "Id" => document.id = Some(read_string("Id", element)?),
                "Statement" => statement = Some(element),
                _ => document.unknown_elements.push(name.clone()),
            }
        }
        document.statements = match statement {
            None => return Err(PolicyError::malformed("policy", "the Statement element is missing")),
            Some(Value::Array(items)) if items.is_empty() => {
                return Err(PolicyError::malformed(
                    "Statement",
                    "the array is empty; a policy needs at least one statement",
                ));
            }
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(index, item)| read_statement(&format!("Statement[{index}]"), item))
                .collect::<Result<_, _>>()?,
            Some(one @ Value::Object(_)) => vec![read_statement("Statement", one)?],
            Some(other) => {
                return Err(PolicyError::malformed(
                    "Statement",
                    format!("expected an object or an array of objects, found {}", kind_of(other)),
                ));
            }
        };
        Ok(document)
    }
}

impl FromStr for PolicyDocument {
    type Err = PolicyError;

    fn from_str(text: &str) -> Result<Self, PolicyError> {
        Self::parse(text)
    }
}

impl<'de> Deserialize<'de> for PolicyDocument {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Self::from_value(&value).map_err(serde::de::Error::custom)
    }
}

pub(super) fn json_error_message(error: &serde_json::Error) -> String {
    // serde_json appends " at line L column C"; the variant carries those separately.
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(cut) => text[..cut].to_owned(),
        None => text,
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn read_version(value: &Value) -> Result<PolicyVersion, PolicyError> {
    match value.as_str() {
        Some("2012-10-17") => Ok(PolicyVersion::V2012_10_17),
        Some("2008-10-17") => Ok(PolicyVersion::V2008_10_17),
        Some(other) => Err(PolicyError::malformed(
            "Version",
            format!("{other:?} is not a policy language version; use \"2012-10-17\""),
        )),
        None => Err(PolicyError::malformed(
            "Version",
            format!("expected a string, found {}", kind_of(value)),
        )),
    }
}

fn read_string(element: &str, value: &Value) -> Result<String, PolicyError> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| PolicyError::malformed(element, format!("expected a string, found {}", kind_of(value))))
}

/// A string or a non-empty array of strings.
fn read_strings(element: &str, value: &Value) -> Result<OneOrMany<String>, PolicyError> {
    match value {
        Value::String(text) => Ok(OneOrMany::one(text.clone())),
        Value::Array(items) if items.is_empty() => Err(PolicyError::malformed(
            element,
            "the array is empty; give at least one value",
        )),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(index, item)| read_string(&format!("{element}[{index}]"), item))
            .collect::<Result<_, _>>()
            .map(OneOrMany::many),
        other => Err(PolicyError::malformed(
            element,
            format!("expected a string or an array of strings, found {}", kind_of(other)),
        )),
    }
}

/// Reads one of a pair of mutually exclusive elements such as `Action`/`NotAction`.
fn either<'a>(
    object: &'a Map<String, Value>,
    at: &str,
    positive: &str,
    negative: &str,
) -> Result<Option<(bool, &'a Value)>, PolicyError> {
    match (object.get(positive), object.get(negative)) {
        (Some(_), Some(_)) => Err(PolicyError::malformed(
            at,
            format!("has both {positive} and {negative}; a statement takes one of them"),
        )),
        (Some(value), None) => Ok(Some((false, value))),
        (None, Some(value)) => Ok(Some((true, value))),
        (None, None) => Ok(None),
    }
}

const STATEMENT_ELEMENTS: [&str; 9] = [
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

fn read_statement(at: &str, value: &Value) -> Result<Statement, PolicyError> {
    let Value::Object(object) = value else {
        return Err(PolicyError::malformed(
            at,
            format!("expected an object, found {}", kind_of(value)),
        ));
    };
    let sid = object
        .get("Sid")
        .map(|sid| read_string(&format!("{at}.Sid"), sid))
        .transpose()?;
    let effect = match object.get("Effect") {
        Some(Value::String(effect)) if effect == "Allow" => Effect::Allow,
        Some(Value::String(effect)) if effect == "Deny" => Effect::Deny,
        Some(other) => {
            return Err(PolicyError::malformed(
                format!("{at}.Effect"),
                format!("expected \"Allow\" or \"Deny\" (case matters), found {other}"),
            ));
        }
        None => {
            return Err(PolicyError::malformed(
                at,
                "the Effect element is missing; add \"Effect\": \"Allow\"",
            ));
        }
    };
    let action = match either(object, at, "Action", "NotAction")? {
        Some((negated, value)) => {
            let name = if negated { "NotAction" } else { "Action" };
            ActionElement {
                negated,
                actions: read_strings(&format!("{at}.{name}"), value)?,
            }
        }
        None => {
            return Err(PolicyError::malformed(
                at,
                "the Action element is missing; add e.g. \"Action\": \"sts:AssumeRole\"",
            ));
        }
    };
    let principal = either(object, at, "Principal", "NotPrincipal")?
        .map(|(negated, value)| {
            let name = if negated { "NotPrincipal" } else { "Principal" };
            read_principals(&format!("{at}.{name}"), value).map(|principals| PrincipalElement { negated, principals })
        })
        .transpose()?;
    let resource = either(object, at, "Resource", "NotResource")?
        .map(|(negated, value)| {
            let name = if negated { "NotResource" } else { "Resource" };
            read_strings(&format!("{at}.{name}"), value).map(|resources| ResourceElement { negated, resources })
        })
        .transpose()?;
    let conditions = match object.get("Condition") {
        Some(value) => read_conditions(&format!("{at}.Condition"), value)?,
        None => Vec::new(),
    };
    let unknown_elements = object
        .keys()
        .filter(|name| !STATEMENT_ELEMENTS.contains(&name.as_str()))
        .cloned()
        .collect();
    Ok(Statement {
        sid,
        effect,
        principal,
        action,
        resource,
        conditions,
        unknown_elements,
    })
}

fn read_principals(at: &str, value: &Value) -> Result<Principals, PolicyError> {
    match value {
        Value::String(text) if text == "*" => Ok(Principals::Everyone),
        Value::Object(object) if object.is_empty() => {
            Err(PolicyError::malformed(at, "the object is empty; name at least one principal"))
        }
        Value::Object(object) => object
            .iter()
            .map(|(name, values)| {
                let kind = PrincipalType::parse(name).ok_or_else(|| {
                    PolicyError::malformed(
                        at,
                        format!("unknown principal type {name:?}; use \"AWS\", \"Service\", \"Federated\" or \"CanonicalUser\""),
                    )
                })?;
                Ok((kind, read_strings(&format!("{at}.{name}"), values)?))
            })
            .collect::<Result<_, _>>()
            .map(Principals::Typed),
        Value::String(text) => Err(PolicyError::malformed(
            at,
            format!("{text:?} is not a principal; write \"*\" or an object such as {{\"Service\": \"pods.eks.amazonaws.com\"}}"),
        )),
        other => Err(PolicyError::malformed(
            at,
            format!("expected \"*\" or an object such as {{\"Service\": \"pods.eks.amazonaws.com\"}}, found {}", kind_of(other)),
        )),
    }
}

fn read_conditions(at: &str, value: &Value) -> Result<Vec<ConditionBlock>, PolicyError> {
    let Value::Object(operators) = value else {
        return Err(PolicyError::malformed(
            at,
            format!(
                "expected an object such as {{\"StringEquals\": {{\"aws:SourceAccount\": \"111122223333\"}}}}, found {}",
                kind_of(value)
            ),
        ));
    };
    operators
        .iter()
        .map(|(name, keys)| {
            let operator: ConditionOperator = name
                .parse()
                .map_err(|error: OperatorError| PolicyError::malformed(at, error.to_string()))?;
            let block_at = format!("{at}.{name}");
            let Value::Object(keys) = keys else {
                return Err(PolicyError::malformed(
                    block_at,
                    format!(
                        "expected an object of condition keys and values, found {}",
                        kind_of(keys)
                    ),
                ));
            };
            if keys.is_empty() {
                return Err(PolicyError::malformed(
                    block_at,
                    "the object is empty; give at least one condition key",
                ));
            }
            let keys = keys
                .iter()
                .map(|(key, values)| {
                    Ok(KeyCondition {
                        key: key.clone(),
                        values: read_scalars(&format!("{block_at}.{key}"), values)?,
                    })
                })
                .collect::<Result<_, _>>()?;
            Ok(ConditionBlock { operator, keys })
        })
        .collect()
}

fn read_scalar(at: &str, value: &Value) -> Result<Scalar, PolicyError> {
    match value {
        Value::String(text) => Ok(Scalar::String(text.clone())),
        Value::Bool(flag) => Ok(Scalar::Bool(*flag)),
        Value::Number(number) => Ok(Scalar::Number(number.clone())),
        other => Err(PolicyError::malformed(
            at,
            format!(
                "expected a string, boolean or number (or an array of them), found {}",
                kind_of(other)
            ),
        )),
    }
}

fn read_scalars(at: &str, value: &Value) -> Result<OneOrMany<Scalar>, PolicyError> {
    match value {
        Value::Array(items) if items.is_empty() => Err(PolicyError::malformed(
            at,
            "the array is empty; give at least one value",
        )),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(index, item)| read_scalar(&format!("{at}[{index}]"), item))
            .collect::<Result<_, _>>()
            .map(OneOrMany::many),
        other => read_scalar(at, other).map(OneOrMany::one),
    }
}

#[cfg(test)]
mod tests;
