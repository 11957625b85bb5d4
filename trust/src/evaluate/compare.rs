//! The comparison behind each condition operator, between a policy value and a request value.

use super::wildcard::wildcard_match;
use crate::policy::OperatorKind;

/// The positive comparison behind an operator (`pattern` from the policy, `value` from the request), or
/// `None` for the operators this evaluator does not implement.
pub(super) fn comparison(kind: OperatorKind) -> Option<fn(&str, &str) -> bool> {
    use OperatorKind as K;
    Some(match kind {
        K::StringEquals | K::StringNotEquals => |pattern, value| pattern == value,
        K::StringEqualsIgnoreCase | K::StringNotEqualsIgnoreCase => {
            |pattern, value| pattern.to_lowercase() == value.to_lowercase()
        }
        K::StringLike | K::StringNotLike => wildcard_match,
        K::ArnEquals | K::ArnLike | K::ArnNotEquals | K::ArnNotLike => arn_match,
        K::Bool => |pattern, value| pattern.eq_ignore_ascii_case(value),
        K::NumericEquals | K::NumericNotEquals => |p, v| numbers(p, v).is_some_and(|(p, v)| v == p),
        K::NumericLessThan => |p, v| numbers(p, v).is_some_and(|(p, v)| v < p),
        K::NumericLessThanEquals => |p, v| numbers(p, v).is_some_and(|(p, v)| v <= p),
        K::NumericGreaterThan => |p, v| numbers(p, v).is_some_and(|(p, v)| v > p),
        K::NumericGreaterThanEquals => |p, v| numbers(p, v).is_some_and(|(p, v)| v >= p),
        K::DateEquals
        | K::DateNotEquals
        | K::DateLessThan
        | K::DateLessThanEquals
        | K::DateGreaterThan
        | K::DateGreaterThanEquals
        | K::BinaryEquals
        | K::IpAddress
        | K::NotIpAddress
        | K::Null => return None,
    })
}

fn numbers(pattern: &str, value: &str) -> Option<(f64, f64)> {
    Some((pattern.trim().parse().ok()?, value.trim().parse().ok()?))
}

/// `ArnEquals`/`ArnLike`: the six colon-separated parts are matched one by one, so a `*` never spans a
/// colon (except inside the resource part, which keeps its colons). A pattern of stars alone matches any
/// value; any other pattern that is not a six-part ARN matches nothing.
fn arn_match(pattern: &str, value: &str) -> bool {
    if !pattern.is_empty() && pattern.chars().all(|c| c == '*') {
        return true;
    }
    let split = |text: &str| -> Option<Vec<String>> {
        let parts: Vec<String> = text.splitn(6, ':').map(str::to_owned).collect();
        (parts.len() == 6).then_some(parts)
    };
    match (split(pattern), split(value)) {
        (Some(pattern), Some(value)) => pattern.iter().zip(&value).all(|(p, v)| wildcard_match(p, v)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::evaluate::test_support::{CLUSTER, condition};
    use serde_json::json;

    #[test]
    fn string_operators() {
        assert!(condition("StringEquals", json!("a"), Some(&["a"])));
        assert!(!condition("StringEquals", json!("a"), Some(&["A"])));
        assert!(!condition("StringEquals", json!("a"), None));
        assert!(
            condition("StringEquals", json!(["x", "a"]), Some(&["a"])),
            "values are ORed"
        );
        assert!(condition("StringEqualsIgnoreCase", json!("a"), Some(&["A"])));
        assert!(!condition("StringNotEquals", json!("a"), Some(&["a"])));
        assert!(condition("StringNotEquals", json!("a"), Some(&["b"])));
        assert!(
            !condition("StringNotEquals", json!(["b", "a"]), Some(&["a"])),
            "negated values are NORed"
        );
        assert!(
            condition("StringNotEquals", json!("a"), None),
            "a negated operator holds on a missing key"
        );
        assert!(!condition("StringNotEqualsIgnoreCase", json!("a"), Some(&["A"])));
        assert!(condition("StringLike", json!("team-*"), Some(&["team-blue"])));
        assert!(!condition("StringLike", json!("team-*"), Some(&["Team-blue"])));
        assert!(condition("StringLike", json!("t?am"), Some(&["team"])));
        assert!(condition("StringNotLike", json!("team-*"), Some(&["ops"])));
        assert!(!condition("StringNotLike", json!("team-*"), Some(&["team-x"])));
    }

    #[test]
    fn arn_operators_match_part_by_part() {
        assert!(condition("ArnEquals", json!(CLUSTER), Some(&[CLUSTER])));
        assert!(condition(
            "ArnLike",
            json!("arn:aws:eks:*:111122223333:cluster/*"),
            Some(&[CLUSTER])
        ));
        assert!(
            condition(
                "ArnEquals",
                json!("arn:aws:eks:*:111122223333:cluster/*"),
                Some(&[CLUSTER])
            ),
            "ArnEquals takes wildcards too"
        );
        assert!(condition(
            "ArnLike",
            json!("arn:aws:eks:us-east-?:*:cluster/de*"),
            Some(&[CLUSTER])
        ));
        assert!(!condition(
            "ArnLike",
            json!("arn:aws:eks:*:444455556666:cluster/*"),
            Some(&[CLUSTER])
        ));
        assert!(
            !condition("ArnLike", json!("arn:aws:eks:*:cluster/*"), Some(&[CLUSTER])),
            "a five-part pattern matches nothing"
        );
        assert!(
            !condition("ArnLike", json!("arn:aws:*:cluster/demo"), Some(&[CLUSTER])),
            "a star does not span parts"
        );
        assert!(condition("ArnLike", json!("*"), Some(&[CLUSTER])));
        assert!(!condition("ArnLike", json!("arn:*"), Some(&[CLUSTER])));
        assert!(!condition("ArnEquals", json!(CLUSTER), Some(&["not-an-arn"])));
        assert!(condition(
            "ArnNotEquals",
            json!("arn:aws:eks:us-east-1:111122223333:cluster/other"),
            Some(&[CLUSTER])
        ));
        assert!(!condition(
            "ArnNotLike",
            json!("arn:aws:eks:*:*:cluster/*"),
            Some(&[CLUSTER])
        ));
        assert!(condition("ArnNotLike", json!("arn:aws:eks:*:*:cluster/*"), None));
        assert!(!condition("ArnLike", json!("arn:aws:eks:*:*:cluster/*"), None));
    }

    #[test]
    fn bool_and_numeric() {
        assert!(condition("Bool", json!(true), Some(&["true"])));
        assert!(condition("Bool", json!("TRUE"), Some(&["true"])));
        assert!(!condition("Bool", json!("true"), Some(&["false"])));
        assert!(!condition("Bool", json!("true"), None));
        assert!(condition("BoolIfExists", json!("true"), None));
        assert!(condition("NumericLessThan", json!(3600), Some(&["900"])));
        assert!(!condition("NumericLessThan", json!("3600"), Some(&["3600"])));
        assert!(condition("NumericLessThanEquals", json!("3600"), Some(&["3600"])));
        assert!(condition("NumericGreaterThan", json!(1.5), Some(&["2"])));
        assert!(condition("NumericGreaterThanEquals", json!(2), Some(&["2.0"])));
        assert!(condition("NumericEquals", json!(2), Some(&["2.0"])));
        assert!(condition("NumericNotEquals", json!(2), Some(&["3"])));
        assert!(!condition("NumericEquals", json!(2), Some(&["two"])));
    }
}
