//! The document model: one type per element, keeping enough of the form read (a bare string or an array,
//! `Action` or `NotAction`) to write it back alike.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;

use super::operator::ConditionOperator;

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

    pub(super) fn parse(name: &str) -> Option<Self> {
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
