//! Whether a statement's `Action` or `Resource` element covers the request's.

use super::wildcard::wildcard_match;
use crate::policy::{ActionElement, ResourceElement};

/// Whether an `Action` element lists `action`, or a `NotAction` element does not; actions compare without
/// regard to case.
pub(super) fn action_matches(element: &ActionElement, action: &str) -> bool {
    let listed = element
        .actions
        .iter()
        .any(|pattern| wildcard_match(&pattern.to_lowercase(), &action.to_lowercase()));
    listed != element.negated
}

/// Whether a `Resource` element lists `resource`, or a `NotResource` element does not.
pub(super) fn resource_matches(element: &ResourceElement, resource: &str) -> bool {
    let listed = element
        .resources
        .iter()
        .any(|pattern| wildcard_match(pattern, resource));
    listed != element.negated
}

#[cfg(test)]
mod tests {
    use crate::evaluate::test_support::{decide, one_statement, pods, policy};
    use crate::evaluate::{Decision, RequestContext, evaluate};
    use serde_json::json;

    #[test]
    fn actions_match_without_regard_to_case_and_not_action_inverts() {
        let request = RequestContext::new(pods(), "sts:AssumeRole");
        for (action, expected) in [
            (json!("sts:AssumeRole"), Decision::Allow),
            (json!("STS:assumerole"), Decision::Allow),
            (json!(["sts:TagSession", "sts:*"]), Decision::Allow),
            (json!("sts:Assume*"), Decision::Allow),
            (json!("*"), Decision::Allow),
            (json!("sts:TagSession"), Decision::ImplicitDeny),
            (json!("sts:AssumeRoleWithWebIdentity"), Decision::ImplicitDeny),
            (json!("iam:*"), Decision::ImplicitDeny),
        ] {
            let document = one_statement(json!({"Service": "pods.eks.amazonaws.com"}), action.clone(), json!({}));
            assert_eq!(decide(&document, &request), expected, "{action}");
        }
        let not_action =
            policy(json!({"Statement": [{"Effect": "Allow", "Principal": "*", "NotAction": "sts:TagSession"}]}));
        assert_eq!(decide(&not_action, &request), Decision::Allow);
        let tag = RequestContext::new(pods(), "sts:TagSession");
        let evaluation = evaluate(&not_action, &tag);
        assert_eq!(evaluation.decision, Decision::ImplicitDeny);
        assert!(
            evaluation.reason.contains("its NotAction excludes sts:TagSession"),
            "{}",
            evaluation.reason
        );
    }

    #[test]
    fn resources_are_tested_only_when_the_request_names_one() {
        let document = policy(
            json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "arn:aws:iam::*:role/app-*"}]}),
        );
        let request = RequestContext::new(pods(), "sts:AssumeRole");
        assert_eq!(decide(&document, &request), Decision::Allow);
        assert_eq!(
            decide(
                &document,
                &request.clone().with_resource("arn:aws:iam::111122223333:role/app-x")
            ),
            Decision::Allow
        );
        assert_eq!(
            decide(&document, &request.with_resource("arn:aws:iam::111122223333:role/db")),
            Decision::ImplicitDeny
        );
    }
}
