//! IAM's checks of a permission policy document (an identity-based or a session policy), before it is stored.

use serde_json::Value;

/// Why IAM refuses a permission policy, in its words (MalformedPolicyDocument).
pub(crate) fn permission_policy_problem(document: &str) -> Option<&'static str> {
    let Ok(value) = serde_json::from_str::<Value>(document) else {
        return Some("This policy contains invalid Json");
    };
    let statements: Vec<&Value> = match value.get("Statement") {
        Some(Value::Array(items)) if !items.is_empty() => items.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => return Some("Syntax errors in policy."),
    };
    for statement in statements {
        let Some(statement) = statement.as_object() else {
            return Some("Syntax errors in policy.");
        };
        if statement.contains_key("Principal") || statement.contains_key("NotPrincipal") {
            return Some("Policy document should not specify a principal.");
        }
        if !statement.contains_key("Action") && !statement.contains_key("NotAction") {
            return Some("Policy statement must contain actions.");
        }
        if !statement.contains_key("Resource") && !statement.contains_key("NotResource") {
            return Some("Policy statement must contain resources.");
        }
    }
    pia_trust::PolicyDocument::from_value(&value)
        .err()
        .map(|_| "Syntax errors in policy.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_policies_are_checked_like_iam() {
        let ok = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"eks:*","Resource":"*"}]}"#;
        assert_eq!(permission_policy_problem(ok), None);
        for (document, problem) in [
            ("nope", "This policy contains invalid Json"),
            ("{}", "Syntax errors in policy."),
            (
                r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}"#,
                "Policy document should not specify a principal.",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"s3:*"}}"#,
                "Policy statement must contain resources.",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Resource":"*"}}"#,
                "Policy statement must contain actions.",
            ),
            (
                r#"{"Statement":{"Effect":"Maybe","Action":"s3:*","Resource":"*"}}"#,
                "Syntax errors in policy.",
            ),
        ] {
            assert_eq!(permission_policy_problem(document), Some(problem), "{document}");
        }
    }
}
