//! Policies and requests the unit tests of the evaluator share.

use serde_json::json;

use super::{Decision, RequestContext, RequestPrincipal, evaluate};
use crate::policy::PolicyDocument;

pub(super) const ACCOUNT: &str = "111122223333";
pub(super) const CLUSTER: &str = "arn:aws:eks:us-east-1:111122223333:cluster/demo";

pub(super) fn pods() -> RequestPrincipal {
    RequestPrincipal::Service("pods.eks.amazonaws.com".into())
}

pub(super) fn policy(value: serde_json::Value) -> PolicyDocument {
    PolicyDocument::from_value(&value).unwrap()
}

pub(super) fn one_statement(
    principal: serde_json::Value,
    action: serde_json::Value,
    condition: serde_json::Value,
) -> PolicyDocument {
    policy(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": principal, "Action": action, "Condition": condition}]}))
}

pub(super) fn decide(document: &PolicyDocument, request: &RequestContext) -> Decision {
    evaluate(document, request).decision
}

/// Evaluates `operator: {key: values}` against a request whose `key` has `actual` (or lacks it).
pub(super) fn condition(operator: &str, values: serde_json::Value, actual: Option<&[&str]>) -> bool {
    let document = one_statement(json!("*"), json!("sts:AssumeRole"), json!({operator: {"k": values}}));
    let mut request = RequestContext::new(pods(), "sts:AssumeRole");
    if let Some(actual) = actual {
        request = request.with_values("K", actual.iter().copied());
    }
    decide(&document, &request) == Decision::Allow
}
