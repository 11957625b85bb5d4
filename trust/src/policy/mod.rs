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

mod document;
mod error;
mod input;
mod operator;
mod read;
mod write;

pub use document::{
    ActionElement, ConditionBlock, Effect, KeyCondition, OneOrMany, PolicyDocument, PolicyVersion, PrincipalElement,
    PrincipalType, Principals, ResourceElement, Scalar, Statement,
};
pub use error::PolicyError;
pub use input::{PolicyInput, decode_policy_text};
pub use operator::{ConditionOperator, OperatorError, OperatorKind, SetQualifier};
