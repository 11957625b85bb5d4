//! Evaluates one request against one policy, the way IAM decides a trust policy: an explicit `Deny` wins,
//! otherwise an applicable `Allow` allows, otherwise the request is implicitly denied.
//!
//! Covered: `Principal`/`NotPrincipal` (`*`, `AWS` account ids, account roots, role, user and role-session
//! ARNs, `Service`, `Federated`), `Action`/`NotAction` with `*` and `?` (case-insensitive),
//! `Resource`/`NotResource` when the request names a resource, and `Condition` with the String, Arn, Bool,
//! Numeric and Null operators, `IfExists`, and the `ForAnyValue:`/`ForAllValues:` set qualifiers.
//! Date, Binary and IP address operators are recognised but not evaluated: such a condition counts as not
//! holding and its trace says [`ConditionOutcome::Unsupported`], so callers can say the verdict is uncertain.
//!
//! Semantics that are easy to get wrong, all from the IAM reference:
//! - several operators, and several keys in one operator, are ANDed; several values for one key are ORed
//!   (NORed for the negated operators such as `StringNotEquals`);
//! - a key absent from the request makes a condition false, except for negated operators (true), `IfExists`
//!   (true), `ForAllValues` (true, vacuously) and `Null` (which tests exactly that);
//! - `ArnEquals` and `ArnLike` are the same test: each of the six colon-separated parts is matched with
//!   wildcards.
//!
//! A choice IAM does not document: a multi-valued key tested without a set qualifier matches when any of its
//! values matches (and a negated operator when none does).

mod action;
mod compare;
mod condition;
mod decision;
mod principal;
mod request;
#[cfg(test)]
mod test_support;
mod wildcard;

pub use condition::{ConditionOutcome, ConditionTrace};
pub use decision::{Decision, Evaluation, StatementOutcome, StatementTrace, evaluate};
pub use principal::{AwsPrincipal, RequestPrincipal};
pub use request::RequestContext;
