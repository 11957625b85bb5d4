//! The IAM policy language as a typed document: every form IAM accepts for the elements a trust policy uses,
//! read from JSON with errors that name the element at fault, and written back in a stable order.
//!
//! Reading is done by hand over [`serde_json::Value`] rather than with derived `Deserialize`, because the
//! language is full of "string or array", "`*` or object" shapes, and the errors users need are
//! "`Statement[1].Principal`: ..." rather than serde's "data did not match any variant".
//!
//! Writing keeps the shape that was read (a single string stays a string) and orders keys as IAM's own
//! examples do: `Version`, `Id`, `Statement`; in a statement `Sid`, `Effect`, `Action`, `Principal`,
//! `Resource`, `Condition`. The order does not depend on serde_json's `preserve_order` feature.
//!
//! Known leniencies: duplicate JSON keys keep the last value (serde_json's behaviour); policy variables
//! (`${aws:username}`) are kept as text and compared literally.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};
use thiserror::Error;

/// Why a text is not a policy document IAM would accept.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PolicyError {
    /// Not JSON at all.
    #[error("the policy is not valid JSON (line {line}, column {column}): {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    /// JSON, but an element has a shape the policy language does not allow.
    #[error("{element}: {problem}")]
    Malformed { element: String, problem: String },
}

impl PolicyError {
    fn malformed(element: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Malformed {
            element: element.into(),
            problem: problem.into(),
        }
    }
}

/// `Version`: the language version. Without it IAM assumes 2008-10-17, which lacks policy variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyVersion {
    V2012_10_17,
    V2008_10_17,
}

impl PolicyVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V2012_10_17 => "2012-10-17",
            Self::V2008_10_17 => "2008-10-17",
        }
    }
}

/// `Effect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Effect {
    Allow,
    Deny,
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Allow => "Allow",
            Self::Deny => "Deny",
        })
    }
}

/// A value IAM accepts either alone or as an array; `single` remembers which, so it is written back alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneOrMany<T> {
    pub items: Vec<T>,
    /// Written as a bare value rather than an array (only meaningful with exactly one item).
    pub single: bool,
}

impl<T> OneOrMany<T> {
    pub fn one(item: T) -> Self {
        Self {
            items: vec![item],
            single: true,
        }
    }
    pub fn many(items: Vec<T>) -> Self {
        Self { items, single: false }
    }
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.items.iter()
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

/// `Action` or `NotAction`: action patterns such as `sts:AssumeRole`, `sts:*`, `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionElement {
    /// `NotAction`: the statement covers every action except these.
    pub negated: bool,
    pub actions: OneOrMany<String>,
}

/// `Resource` or `NotResource`. IAM refuses both in a role trust policy (the resource is the role itself),
/// but they are part of the language, so they are read and reported rather than rejected here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceElement {
    pub negated: bool,
    pub resources: OneOrMany<String>,
}

/// `Principal` or `NotPrincipal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalElement {
    /// `NotPrincipal`: the statement covers everyone except these.
    pub negated: bool,
    pub principals: Principals,
}

/// The value of a principal element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principals {
    /// `"*"`: everyone, anonymous callers included.
    Everyone,
    /// `{"Service": ..., "AWS": ...}`, in the order written.
    Typed(Vec<(PrincipalType, OneOrMany<String>)>),
}

/// The keys of a principal object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalType {
    /// Accounts, users, roles, role sessions (`AWS`).
    Aws,
    /// Service principals such as `pods.eks.amazonaws.com`.
    Service,
    /// Identity providers (SAML, OIDC, Cognito).
    Federated,
    /// S3 canonical user ids.
    CanonicalUser,
}

impl PrincipalType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Aws => "AWS",
            Self::Service => "Service",
            Self::Federated => "Federated",
            Self::CanonicalUser => "CanonicalUser",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        match name {
            "AWS" => Some(Self::Aws),
            "Service" => Some(Self::Service),
            "Federated" => Some(Self::Federated),
            "CanonicalUser" => Some(Self::CanonicalUser),
            _ => None,
        }
    }
}

/// A scalar condition value. IAM accepts booleans and numbers as well as strings and compares their text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scalar {
    String(String),
    Bool(bool),
    Number(serde_json::Number),
}

impl Scalar {
    /// The text IAM compares: `true`, `42`, or the string itself.
    pub fn as_text(&self) -> Cow<'_, str> {
        match self {
            Self::String(text) => Cow::Borrowed(text),
            Self::Bool(flag) => Cow::Owned(flag.to_string()),
            Self::Number(number) => Cow::Owned(number.to_string()),
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

/// `ForAnyValue:` / `ForAllValues:`, for context keys with several values such as `aws:TagKeys`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetQualifier {
    ForAnyValue,
    ForAllValues,
}

/// The comparison of a condition operator, without its qualifier or `IfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OperatorKind {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

impl OperatorKind {
    const ALL: [Self; 27] = [
        Self::StringEquals,
        Self::StringNotEquals,
        Self::StringEqualsIgnoreCase,
        Self::StringNotEqualsIgnoreCase,
        Self::StringLike,
        Self::StringNotLike,
        Self::NumericEquals,
        Self::NumericNotEquals,
        Self::NumericLessThan,
        Self::NumericLessThanEquals,
        Self::NumericGreaterThan,
        Self::NumericGreaterThanEquals,
        Self::DateEquals,
        Self::DateNotEquals,
        Self::DateLessThan,
        Self::DateLessThanEquals,
        Self::DateGreaterThan,
        Self::DateGreaterThanEquals,
        Self::Bool,
        Self::BinaryEquals,
        Self::IpAddress,
        Self::NotIpAddress,
        Self::ArnEquals,
        Self::ArnLike,
        Self::ArnNotEquals,
        Self::ArnNotLike,
        Self::Null,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::StringEquals => "StringEquals",
            Self::StringNotEquals => "StringNotEquals",
            Self::StringEqualsIgnoreCase => "StringEqualsIgnoreCase",
            Self::StringNotEqualsIgnoreCase => "StringNotEqualsIgnoreCase",
            Self::StringLike => "StringLike",
            Self::StringNotLike => "StringNotLike",
            Self::NumericEquals => "NumericEquals",
            Self::NumericNotEquals => "NumericNotEquals",
            Self::NumericLessThan => "NumericLessThan",
            Self::NumericLessThanEquals => "NumericLessThanEquals",
            Self::NumericGreaterThan => "NumericGreaterThan",
            Self::NumericGreaterThanEquals => "NumericGreaterThanEquals",
            Self::DateEquals => "DateEquals",
            Self::DateNotEquals => "DateNotEquals",
            Self::DateLessThan => "DateLessThan",
            Self::DateLessThanEquals => "DateLessThanEquals",
            Self::DateGreaterThan => "DateGreaterThan",
            Self::DateGreaterThanEquals => "DateGreaterThanEquals",
            Self::Bool => "Bool",
            Self::BinaryEquals => "BinaryEquals",
            Self::IpAddress => "IpAddress",
            Self::NotIpAddress => "NotIpAddress",
            Self::ArnEquals => "ArnEquals",
            Self::ArnLike => "ArnLike",
            Self::ArnNotEquals => "ArnNotEquals",
            Self::ArnNotLike => "ArnNotLike",
            Self::Null => "Null",
        }
    }

    /// The "does not match" operators: they hold when the key is absent, and their values are NORed.
    pub fn is_negated(self) -> bool {
        matches!(
            self,
            Self::StringNotEquals
                | Self::StringNotEqualsIgnoreCase
                | Self::StringNotLike
                | Self::NumericNotEquals
                | Self::DateNotEquals
                | Self::NotIpAddress
                | Self::ArnNotEquals
                | Self::ArnNotLike
        )
    }
}

/// A condition operator as written: `[ForAnyValue:|ForAllValues:]Kind[IfExists]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConditionOperator {
    pub qualifier: Option<SetQualifier>,
    pub kind: OperatorKind,
    /// The condition also holds when the key is absent from the request.
    pub if_exists: bool,
}

impl ConditionOperator {
    pub const fn new(kind: OperatorKind) -> Self {
        Self {
            qualifier: None,
            kind,
            if_exists: false,
        }
    }
}

impl fmt::Display for ConditionOperator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.qualifier {
            Some(SetQualifier::ForAnyValue) => f.write_str("ForAnyValue:")?,
            Some(SetQualifier::ForAllValues) => f.write_str("ForAllValues:")?,
            None => {}
        }
        f.write_str(self.kind.as_str())?;
        if self.if_exists {
            f.write_str("IfExists")?;
        }
        Ok(())
    }
}

/// A condition operator name that is not one (`StringEqualz`, `NullIfExists`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{problem}")]
pub struct OperatorError {
    problem: String,
}

impl FromStr for ConditionOperator {
    type Err = OperatorError;

    /// Operator names are matched without regard to case (leniently: a checker should rather read a policy IAM
    /// may accept than refuse it); they are written back canonically.
    fn from_str(text: &str) -> Result<Self, OperatorError> {
        let unknown = || OperatorError {
            problem: format!("unknown condition operator {text:?}"),
        };
        let (qualifier, rest) = match text.split_once(':') {
            Some((prefix, rest)) if prefix.eq_ignore_ascii_case("ForAnyValue") => {
                (Some(SetQualifier::ForAnyValue), rest)
            }
            Some((prefix, rest)) if prefix.eq_ignore_ascii_case("ForAllValues") => {
                (Some(SetQualifier::ForAllValues), rest)
            }
            Some(_) => return Err(unknown()),
            None => (None, text),
        };
        let lower = rest.to_ascii_lowercase();
        let (if_exists, base) = match lower.strip_suffix("ifexists") {
            Some(base) => (true, base),
            None => (false, lower.as_str()),
        };
        let kind = OperatorKind::ALL
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(base))
            .ok_or_else(unknown)?;
        if kind == OperatorKind::Null && if_exists {
            return Err(OperatorError {
                problem: format!("{text:?}: Null tests whether the key exists, so it takes no IfExists"),
            });
        }
        Ok(Self {
            qualifier,
            kind,
            if_exists,
        })
    }
}

/// One key of an operator block and the values it is compared with (ORed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCondition {
    /// The context key as written (`aws:SourceArn`); keys compare without regard to case.
    pub key: String,
    pub values: OneOrMany<Scalar>,
}

/// `{"StringEquals": {"aws:SourceAccount": "111122223333", ...}}`: an operator and its keys (ANDed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionBlock {
    pub operator: ConditionOperator,
    pub keys: Vec<KeyCondition>,
}

/// One statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    /// Absent in identity-based policies; required in a role trust policy.
    pub principal: Option<PrincipalElement>,
    pub action: ActionElement,
    pub resource: Option<ResourceElement>,
    /// Operator blocks, all of which must hold (ANDed). Empty when the statement has no `Condition`.
    pub conditions: Vec<ConditionBlock>,
    /// Elements the language does not define. IAM refuses documents with them; their names are kept so a
    /// checker can say so instead of failing to read the policy at all. They are not written back.
    pub unknown_elements: Vec<String>,
}

impl Statement {
    /// `Sid "x"` or `statement 2` (1-based), for messages.
    pub fn label(&self, index: usize) -> String {
        match &self.sid {
            Some(sid) if !sid.is_empty() => format!("statement {} (Sid {sid:?})", index + 1),
            _ => format!("statement {}", index + 1),
        }
    }

    /// Every condition key the statement tests, as written.
    pub fn condition_keys(&self) -> impl Iterator<Item = &str> {
        self.conditions
            .iter()
            .flat_map(|block| block.keys.iter().map(|k| k.key.as_str()))
    }

    /// Whether any condition of the statement tests `key` (compared without regard to case).
    pub fn tests_key(&self, key: &str) -> bool {
        self.condition_keys().any(|k| k.eq_ignore_ascii_case(key))
    }
}

/// A policy document.
///
/// Equality is structural and order-sensitive (statements, condition blocks); to compare meaning regardless of
/// the order JSON objects were written in, compare [`PolicyDocument::to_value`]s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDocument {
    pub version: Option<PolicyVersion>,
    pub id: Option<String>,
    /// Written as an array even if read from a single object.
    pub statements: Vec<Statement>,
    /// Top-level elements other than `Version`, `Id` and `Statement` (see [`Statement::unknown_elements`]).
    pub unknown_elements: Vec<String>,
}

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

fn json_error_message(error: &serde_json::Error) -> String {
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
                .map_err(|error: OperatorError| PolicyError::malformed(at, error.problem))?;
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
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: Value) -> Result<PolicyDocument, PolicyError> {
        PolicyDocument::from_value(&value)
    }

    fn malformed(value: Value) -> String {
        match parse(value) {
            Err(error @ PolicyError::Malformed { .. }) => error.to_string(),
            other => panic!("expected a shape error, got {other:?}"),
        }
    }

    #[test]
    fn reads_every_legal_shape() {
        let document = parse(json!({
            "Version": "2012-10-17",
            "Id": "trust",
            "Statement": [
                {"Sid": "Pods", "Effect": "Allow", "Principal": {"Service": ["pods.eks.amazonaws.com"], "AWS": "111122223333"},
                 "Action": ["sts:AssumeRole", "sts:TagSession"],
                 "Condition": {"StringEquals": {"aws:SourceAccount": ["111122223333"]}, "Bool": {"aws:SecureTransport": true},
                               "NumericLessThan": {"sts:DurationSeconds": 3600}, "ForAllValues:StringLikeIfExists": {"aws:TagKeys": "eks-*"}}},
                {"Effect": "Deny", "NotPrincipal": "*", "NotAction": "sts:AssumeRole", "Resource": "*"},
                {"Effect": "Allow", "Principal": "*", "Action": "*", "NotResource": ["arn:aws:iam::*:role/x"]}
            ]
        }))
        .unwrap();
        assert_eq!(document.version, Some(PolicyVersion::V2012_10_17));
        assert_eq!(document.id.as_deref(), Some("trust"));
        assert_eq!(document.statements.len(), 3);
        let first = &document.statements[0];
        assert_eq!(first.sid.as_deref(), Some("Pods"));
        let Some(PrincipalElement {
            negated: false,
            principals: Principals::Typed(types),
        }) = &first.principal
        else {
            panic!("{:?}", first.principal)
        };
        assert_eq!(types.len(), 2);
        assert!(
            types
                .iter()
                .any(|(kind, values)| *kind == PrincipalType::Service && !values.single)
        );
        assert_eq!(first.conditions.len(), 4);
        let set = first
            .conditions
            .iter()
            .find(|b| b.operator.qualifier.is_some())
            .unwrap();
        assert_eq!(set.operator.to_string(), "ForAllValues:StringLikeIfExists");
        assert!(set.operator.if_exists);
        assert!(first.tests_key("AWS:SOURCEACCOUNT"));
        let second = &document.statements[1];
        assert!(second.action.negated && second.principal.as_ref().unwrap().negated);
        assert_eq!(second.principal.as_ref().unwrap().principals, Principals::Everyone);
        assert!(document.statements[2].resource.as_ref().unwrap().negated);
    }

    #[test]
    fn a_single_statement_object_and_no_version_are_legal() {
        let document =
            parse(json!({"Statement": {"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": "sts:AssumeRole"}}))
                .unwrap();
        assert_eq!(document.version, None);
        assert_eq!(document.statements.len(), 1);
        assert!(document.statements[0].action.actions.single);
    }

    #[test]
    fn unknown_elements_are_kept_for_the_checker() {
        let document = parse(json!({"Version": "2012-10-17", "Comment": "x",
            "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole", "Note": 1}]}))
        .unwrap();
        assert_eq!(document.unknown_elements, ["Comment"]);
        assert_eq!(document.statements[0].unknown_elements, ["Note"]);
    }

    #[test]
    fn shape_errors_name_the_element() {
        let ok = json!({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"});
        let with = |key: &str, value: Value| {
            let mut statement = ok.clone();
            statement[key] = value;
            json!({"Version": "2012-10-17", "Statement": [statement]})
        };
        let cases = [
            (json!([]), "policy: expected a JSON object, found an array"),
            (json!({"Version": "2012-10-17"}), "Statement element is missing"),
            (json!({"Statement": []}), "Statement: the array is empty"),
            (json!({"Statement": "x"}), "Statement: expected an object or an array"),
            (
                json!({"Statement": [1]}),
                "Statement[0]: expected an object, found a number",
            ),
            (
                json!({"Version": "2020-01-01", "Statement": [ok.clone()]}),
                "Version: \"2020-01-01\" is not a policy language version",
            ),
            (
                json!({"Version": 2012, "Statement": [ok.clone()]}),
                "Version: expected a string",
            ),
            (
                with("Effect", json!("allow")),
                "Statement[0].Effect: expected \"Allow\" or \"Deny\"",
            ),
            (
                json!({"Statement": [{"Principal": "*", "Action": "a:b"}]}),
                "Effect element is missing",
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "Principal": "*"}]}),
                "Action element is missing",
            ),
            (with("NotAction", json!("x:y")), "has both Action and NotAction"),
            (with("NotPrincipal", json!("*")), "has both Principal and NotPrincipal"),
            (with("Action", json!([])), "Statement[0].Action: the array is empty"),
            (
                with("Action", json!(["sts:AssumeRole", 7])),
                "Statement[0].Action[1]: expected a string, found a number",
            ),
            (
                with("Action", json!({"a": 1})),
                "expected a string or an array of strings, found an object",
            ),
            (with("Principal", json!("pods.eks.amazonaws.com")), "is not a principal"),
            (
                with("Principal", json!({})),
                "Statement[0].Principal: the object is empty",
            ),
            (
                with("Principal", json!({"Services": "x"})),
                "unknown principal type \"Services\"",
            ),
            (
                with("Principal", json!({"Service": null})),
                "Statement[0].Principal.Service: expected a string or an array",
            ),
            (with("Principal", json!(true)), "expected \"*\" or an object"),
            (
                with("Condition", json!([])),
                "Statement[0].Condition: expected an object",
            ),
            (
                with("Condition", json!({"StringEqualz": {"a": "b"}})),
                "unknown condition operator \"StringEqualz\"",
            ),
            (
                with("Condition", json!({"ForSomeValues:StringEquals": {"a": "b"}})),
                "unknown condition operator",
            ),
            (
                with("Condition", json!({"NullIfExists": {"a": "true"}})),
                "takes no IfExists",
            ),
            (
                with("Condition", json!({"StringEquals": "x"})),
                "Statement[0].Condition.StringEquals: expected an object",
            ),
            (
                with("Condition", json!({"StringEquals": {}})),
                "give at least one condition key",
            ),
            (
                with("Condition", json!({"StringEquals": {"k": null}})),
                "Statement[0].Condition.StringEquals.k: expected a string, boolean or number",
            ),
            (
                with("Condition", json!({"StringEquals": {"k": [{"a": 1}]}})),
                "StringEquals.k[0]: expected a string",
            ),
            (
                with("Condition", json!({"StringEquals": {"k": []}})),
                "StringEquals.k: the array is empty",
            ),
            (with("Sid", json!(5)), "Statement[0].Sid: expected a string"),
            (json!({"Id": [], "Statement": [ok.clone()]}), "Id: expected a string"),
        ];
        for (input, expected) in cases {
            let message = malformed(input.clone());
            assert!(
                message.contains(expected),
                "{input}\n  got: {message}\n  want: {expected}"
            );
        }
    }

    #[test]
    fn operators_parse_without_regard_to_case_and_print_canonically() {
        let operator: ConditionOperator = "forallvalues:stringlikeifexists".parse().unwrap();
        assert_eq!(operator.to_string(), "ForAllValues:StringLikeIfExists");
        for kind in OperatorKind::ALL {
            let parsed: ConditionOperator = kind.as_str().parse().unwrap();
            assert_eq!(parsed, ConditionOperator::new(kind));
        }
        assert!("".parse::<ConditionOperator>().is_err());
        assert!("IfExists".parse::<ConditionOperator>().is_err());
        assert!(":".parse::<ConditionOperator>().is_err());
    }

    #[test]
    fn invalid_json_reports_where() {
        let error = PolicyDocument::parse("{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n}").unwrap_err();
        let PolicyError::Json { line, .. } = &error else {
            panic!("{error:?}")
        };
        assert_eq!(*line, 4);
        assert!(
            error.to_string().starts_with("the policy is not valid JSON (line 4"),
            "{error}"
        );
        assert!(matches!(PolicyDocument::parse(""), Err(PolicyError::Json { .. })));
    }

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

    /// A deterministic stream of mangled documents: the parser must answer each with Ok or Err, never panic.
    #[test]
    fn mangled_inputs_never_panic() {
        let seed = r#"{"Version":"2012-10-17","Statement":[{"Sid":"x","Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com","AWS":["1"]},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"},"ForAnyValue:ArnLikeIfExists":{"aws:SourceArn":["arn:*",true,1.5]}}}]}"#;
        let bytes = seed.as_bytes();
        let replacements: &[&[u8]] = &[
            b"",
            b"[",
            b"]",
            b"{",
            b"}",
            b"\"",
            b",",
            b":",
            b"null",
            b"1e999",
            b"-",
            b"\\u0000",
            "é".as_bytes(),
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..4000 {
            let mut mangled = bytes.to_vec();
            for _ in 0..=(next() % 3) {
                let at = (next() as usize) % mangled.len().max(1);
                let end = (at + (next() as usize % 4)).min(mangled.len());
                let with = replacements[(next() as usize) % replacements.len()];
                mangled.splice(at..end, with.iter().copied());
            }
            let text = String::from_utf8_lossy(&mangled);
            if let Ok(mut document) = PolicyDocument::parse(&text) {
                // Whatever parsed must write back to something that parses to the same document. Unknown
                // elements are not written (IAM would refuse them), so they are left out of the comparison.
                document.unknown_elements.clear();
                document
                    .statements
                    .iter_mut()
                    .for_each(|statement| statement.unknown_elements.clear());
                assert_eq!(
                    PolicyDocument::parse(&document.to_pretty_json()).unwrap(),
                    document,
                    "{text}"
                );
            }
        }
        // Structurally odd but valid JSON values.
        for value in [
            json!(null),
            json!(1),
            json!("x"),
            json!({"Statement": [[]]}),
            json!({"Statement": [{"Effect": ["Allow"]}]}),
        ] {
            assert!(parse(value).is_err());
        }
    }
}
