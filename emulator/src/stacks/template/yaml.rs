//! YAML template bodies, read into the JSON form CloudFormation works on.
//!
//! Two things differ from reading the YAML as data:
//! - the short-form tags become the long form: `!Ref X` is `{"Ref": "X"}`, `!GetAtt A.B` is
//!   `{"Fn::GetAtt": ["A", "B"]}`, `!Sub s` is `{"Fn::Sub": s}`, and so on for every `Fn::` function;
//! - CloudFormation reads YAML 1.1, where the plain (unquoted) scalars `yes`, `no`, `on`, `off` (in lower,
//!   title or upper case) are booleans; `y` and `n` stay strings, as they do in CloudFormation.
//!   serde_norway reads YAML 1.2, so those scalars come as strings, and whether one was quoted is told by
//!   the byte before it in the body (a plain scalar is handed over as a slice of the body itself).

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor};
use serde_json::{Map, Number, Value};

use super::error::TemplateError;

/// The tags CloudFormation's YAML knows, each the short form of `Fn::<tag>`; `!Ref` and `!Condition` are
/// the short forms of `Ref` and `Condition`.
const FUNCTION_TAGS: &[&str] = &[
    "And",
    "Base64",
    "Cidr",
    "Contains",
    "EachMemberEquals",
    "EachMemberIn",
    "Equals",
    "FindInMap",
    "ForEach",
    "GetAZs",
    "GetAtt",
    "If",
    "ImportValue",
    "Join",
    "Length",
    "Not",
    "Or",
    "RefAll",
    "Select",
    "Split",
    "Sub",
    "ToJsonString",
    "Transform",
    "ValueOf",
    "ValueOfAll",
];

/// Reads a YAML body into its JSON form (long-form functions, YAML 1.1 booleans).
pub(super) fn parse_yaml(body: &str) -> Result<Value, TemplateError> {
    let deserializer = serde_norway::Deserializer::from_str(body);
    YamlNode { body }.deserialize(deserializer).map_err(|error| {
        let (line, column) = error
            .location()
            .map_or((1, 1), |location| (location.line(), location.column()));
        TemplateError::YamlNotWellFormed { line, column }
    })
}

/// One node of the document; `body` is the whole document, to tell plain scalars from quoted ones.
#[derive(Clone, Copy)]
struct YamlNode<'a> {
    body: &'a str,
}

impl YamlNode<'_> {
    /// Whether `scalar`, a slice of the body, was written without quotes.
    fn is_plain(&self, scalar: &str) -> bool {
        let start = (scalar.as_ptr() as usize).wrapping_sub(self.body.as_ptr() as usize);
        if start > self.body.len() {
            return false;
        }
        !matches!(self.body.as_bytes().get(start.wrapping_sub(1)), Some(b'"' | b'\''))
    }
}

/// YAML 1.1's word booleans, as CloudFormation reads them.
fn yaml11_boolean(scalar: &str) -> Option<bool> {
    match scalar {
        "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Some(true),
        "no" | "No" | "NO" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

impl<'de> DeserializeSeed<'de> for YamlNode<'de> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for YamlNode<'de> {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a template node")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    /// Integers beyond 64 bits (an account id never is, but a long digit string may be) keep their digits.
    fn visit_i128<E>(self, value: i128) -> Result<Value, E> {
        Ok(Value::String(value.to_string()))
    }

    fn visit_u128<E>(self, value: u128) -> Result<Value, E> {
        Ok(Value::String(value.to_string()))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Value, E> {
        Number::from_f64(value)
            .map(Value::Number)
            .ok_or_else(|| E::custom("a number that is not finite"))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_borrowed_str<E>(self, value: &'de str) -> Result<Value, E> {
        match yaml11_boolean(value) {
            Some(boolean) if self.is_plain(value) => Ok(Value::Bool(boolean)),
            _ => Ok(Value::String(value.to_owned())),
        }
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key_seed(self)? {
            let key = match key {
                Value::String(key) => key,
                Value::Number(_) | Value::Bool(_) => key.to_string(),
                _ => return Err(de::Error::custom("a mapping key that is not a scalar")),
            };
            let value = map.next_value_seed(self)?;
            if object.insert(key.clone(), value).is_some() {
                return Err(de::Error::custom(format_args!("duplicate key {key}")));
            }
        }
        Ok(Value::Object(object))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        let (tag, content) = data.variant::<String>()?;
        let content = match content.newtype_variant_seed(self)? {
            // `!GetAZs` alone, as `!GetAZs ''`.
            Value::Null => Value::String(String::new()),
            content => content,
        };
        let key = match tag.as_str() {
            "Ref" | "Condition" => tag,
            "GetAtt" => return Ok(long_form_get_att(content)),
            function if FUNCTION_TAGS.contains(&function) => format!("Fn::{function}"),
            unknown => return Err(de::Error::custom(format_args!("unknown tag !{unknown}"))),
        };
        Ok(Value::Object(Map::from_iter([(key, content)])))
    }
}

/// `!GetAtt Resource.Attribute` names the attribute after the first dot (attributes may hold dots:
/// `Endpoint.Address`); the list form is kept as written.
fn long_form_get_att(content: Value) -> Value {
    let content = match content {
        Value::String(dotted) => match dotted.split_once('.') {
            Some((resource, attribute)) => Value::from(vec![resource, attribute]),
            None => Value::String(dotted),
        },
        content => content,
    };
    Value::Object(Map::from_iter([("Fn::GetAtt".to_owned(), content)]))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn short_forms_become_long_forms() {
        let body = r#"
A: !Ref Param
B: !GetAtt Role.Arn
C: !GetAtt [Db, Endpoint.Address]
D: !GetAtt Db.Endpoint.Address
E: !Sub "arn:${AWS::Partition}:s3:::${Bucket}"
F: !Sub ["${X}-y", {X: !Ref P}]
G: !Join [",", [a, !Select [0, !Split ["-", !ImportValue Exported]]]]
H: !If [IsProd, !Base64 text, !Ref AWS::NoValue]
I: !Equals [!FindInMap [M, !Ref AWS::Region, K], x]
J: !And [!Or [!Condition C1, !Not [!Condition C2]], !Condition C3]
K: !GetAZs
L: !Cidr [10.0.0.0/16, 4, 8]
"#;
        let expected = json!({
            "A": {"Ref": "Param"},
            "B": {"Fn::GetAtt": ["Role", "Arn"]},
            "C": {"Fn::GetAtt": ["Db", "Endpoint.Address"]},
            "D": {"Fn::GetAtt": ["Db", "Endpoint.Address"]},
            "E": {"Fn::Sub": "arn:${AWS::Partition}:s3:::${Bucket}"},
            "F": {"Fn::Sub": ["${X}-y", {"X": {"Ref": "P"}}]},
            "G": {"Fn::Join": [",", ["a", {"Fn::Select": [0, {"Fn::Split": ["-", {"Fn::ImportValue": "Exported"}]}]}]]},
            "H": {"Fn::If": ["IsProd", {"Fn::Base64": "text"}, {"Ref": "AWS::NoValue"}]},
            "I": {"Fn::Equals": [{"Fn::FindInMap": ["M", {"Ref": "AWS::Region"}, "K"]}, "x"]},
            "J": {"Fn::And": [{"Fn::Or": [{"Condition": "C1"}, {"Fn::Not": [{"Condition": "C2"}]}]}, {"Condition": "C3"}]},
            "K": {"Fn::GetAZs": ""},
            "L": {"Fn::Cidr": ["10.0.0.0/16", 4, 8]},
        });
        assert_eq!(parse_yaml(body), Ok(expected));
    }

    #[test]
    fn plain_yes_no_on_off_are_booleans_as_in_yaml_1_1() {
        let body = "a: yes\nb: No\nc: ON\nd: off\ne: 'yes'\nf: \"on\"\ng: y\nh: n\ni: [yes, 'no']\nj: true\n";
        let expected = json!({
            "a": true, "b": false, "c": true, "d": false, "e": "yes", "f": "on", "g": "y", "h": "n",
            "i": [true, "no"], "j": true,
        });
        assert_eq!(parse_yaml(body), Ok(expected));
    }

    #[test]
    fn numbers_and_dates_keep_their_form() {
        let body = "AWSTemplateFormatVersion: 2010-09-09\nPort: 8080\nRatio: 0.5\nAccount: 123456789012\n";
        let expected =
            json!({"AWSTemplateFormatVersion": "2010-09-09", "Port": 8080, "Ratio": 0.5, "Account": 123456789012_u64});
        assert_eq!(parse_yaml(body), Ok(expected));
    }

    #[test]
    fn malformed_yaml_names_line_and_column() {
        let error = parse_yaml("Resources:\n  A: [unclosed\n").unwrap_err();
        assert!(
            matches!(error, TemplateError::YamlNotWellFormed { line: 3, .. }),
            "{error}"
        );
        assert!(
            error
                .to_string()
                .starts_with("Template format error: YAML not well-formed. (line 3, column")
        );
    }

    #[test]
    fn unknown_tags_and_duplicate_keys_are_refused() {
        assert!(matches!(
            parse_yaml("A: !Bogus x\n"),
            Err(TemplateError::YamlNotWellFormed { line: 1, .. })
        ));
        assert!(matches!(
            parse_yaml("A: 1\nA: 2\n"),
            Err(TemplateError::YamlNotWellFormed { .. })
        ));
    }
}
