//! Writing a document back to JSON: serializers that keep the shape read and a fixed key order.

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::document::{ConditionBlock, KeyCondition, OneOrMany, PolicyDocument, Principals, Scalar, Statement};

impl PolicyDocument {
    /// The document as a JSON value (key order then follows serde_json's map).
    pub fn to_value(&self) -> Value {
        // Serializing these types cannot fail: every map key is a string and there are no non-finite floats.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The document as pretty-printed JSON with two-space indentation and stable key order.
    pub fn to_pretty_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

impl<T: Serialize> Serialize for OneOrMany<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.items.as_slice() {
            [only] if self.single => only.serialize(serializer),
            items => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
        }
    }
}

impl Serialize for Scalar {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::String(text) => serializer.serialize_str(text),
            Self::Bool(flag) => serializer.serialize_bool(*flag),
            Self::Number(number) => number.serialize(serializer),
        }
    }
}

impl Serialize for PolicyDocument {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if let Some(version) = self.version {
            map.serialize_entry("Version", version.as_str())?;
        }
        if let Some(id) = &self.id {
            map.serialize_entry("Id", id)?;
        }
        map.serialize_entry("Statement", &self.statements)?;
        map.end()
    }
}

impl Serialize for Statement {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if let Some(sid) = &self.sid {
            map.serialize_entry("Sid", sid)?;
        }
        map.serialize_entry("Effect", &self.effect)?;
        let action_name = if self.action.negated { "NotAction" } else { "Action" };
        map.serialize_entry(action_name, &self.action.actions)?;
        if let Some(principal) = &self.principal {
            let name = if principal.negated { "NotPrincipal" } else { "Principal" };
            map.serialize_entry(name, &principal.principals)?;
        }
        if let Some(resource) = &self.resource {
            let name = if resource.negated { "NotResource" } else { "Resource" };
            map.serialize_entry(name, &resource.resources)?;
        }
        if !self.conditions.is_empty() {
            map.serialize_entry("Condition", &ConditionsOut(&self.conditions))?;
        }
        map.end()
    }
}

impl Serialize for Principals {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Everyone => serializer.serialize_str("*"),
            Self::Typed(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (kind, values) in entries {
                    map.serialize_entry(kind.as_str(), values)?;
                }
                map.end()
            }
        }
    }
}

struct ConditionsOut<'a>(&'a [ConditionBlock]);

impl Serialize for ConditionsOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for block in self.0 {
            map.serialize_entry(&block.operator.to_string(), &KeysOut(&block.keys))?;
        }
        map.end()
    }
}

struct KeysOut<'a>(&'a [KeyCondition]);

impl Serialize for KeysOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for condition in self.0 {
            map.serialize_entry(&condition.key, &condition.values)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_keep_shapes_and_values() {
        let text = r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":["111122223333","arn:aws:iam::111122223333:root"]},"Condition":{"Bool":{"aws:SecureTransport":true},"NumericLessThan":{"n":5}}},{"Effect":"Deny","NotAction":["a:b"],"NotPrincipal":"*","NotResource":"*"}]}"#;
        let document = PolicyDocument::parse(text).unwrap();
        let written = document.to_value();
        assert_eq!(written, serde_json::from_str::<Value>(text).unwrap());
        assert_eq!(PolicyDocument::from_value(&written).unwrap(), document);
        let via_serde: PolicyDocument = serde_json::from_str(text).unwrap();
        assert_eq!(via_serde, document);
        assert!(
            serde_json::from_str::<PolicyDocument>("{\"Statement\": 1}")
                .unwrap_err()
                .to_string()
                .contains("Statement")
        );
    }
}
