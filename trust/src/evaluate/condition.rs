//! Whether the conditions of a statement hold: absent keys, `IfExists`, the set qualifiers and `Null`.

use super::compare::comparison;
use super::request::RequestContext;
use crate::policy::{ConditionBlock, ConditionOperator, OperatorKind, SetQualifier};

/// How one condition (operator + key) fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConditionOutcome {
    Holds,
    Fails,
    /// Date, Binary and IP operators: not evaluated, counted as not holding.
    Unsupported,
}

/// One condition of a statement, with what the request had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionTrace {
    pub operator: ConditionOperator,
    /// The key as written in the policy.
    pub key: String,
    /// The policy's values as text.
    pub expected: Vec<String>,
    /// The request's values, `None` when it lacks the key.
    pub actual: Option<Vec<String>>,
    pub outcome: ConditionOutcome,
}

impl ConditionTrace {
    /// One sentence: what the condition asks and what the request had.
    pub fn describe(&self) -> String {
        let operator = &self.operator;
        let key = &self.key;
        let expected = quote_list(&self.expected);
        if self.outcome == ConditionOutcome::Unsupported {
            return format!("{operator} on {key} cannot be evaluated by this checker and counts as not holding");
        }
        let had = match &self.actual {
            None => format!("the request has no {key}"),
            Some(values) if values.is_empty() => format!("the request has no value for {key}"),
            Some(values) => format!("the request has {}", quote_list(values)),
        };
        if self.operator.kind == OperatorKind::Null {
            let wants_absent = self.expected.iter().any(|e| e.eq_ignore_ascii_case("true"));
            let wants = if wants_absent { "to be absent" } else { "to be present" };
            return format!("{operator} requires {key} {wants}, and {had}");
        }
        let relation = match (self.operator.qualifier, self.operator.kind.is_negated()) {
            (Some(SetQualifier::ForAllValues), false) => format!("requires every value of {key} to match {expected}"),
            (Some(SetQualifier::ForAllValues), true) => format!("requires no value of {key} to match {expected}"),
            (Some(SetQualifier::ForAnyValue), false) => format!("requires some value of {key} to match {expected}"),
            (Some(SetQualifier::ForAnyValue), true) => format!("requires some value of {key} not to match {expected}"),
            (None, false) => format!("requires {key} to match {expected}"),
            (None, true) => format!("requires {key} not to match {expected}"),
        };
        format!("{operator} {relation}, and {had}")
    }
}

fn quote_list(values: &[String]) -> String {
    match values {
        [one] => format!("{one:?}"),
        many => format!(
            "one of [{}]",
            many.iter().map(|v| format!("{v:?}")).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// The conditions of `blocks` that do not hold for `request`: all of them, not just the first.
pub(super) fn unmet_conditions(blocks: &[ConditionBlock], request: &RequestContext) -> Vec<ConditionTrace> {
    blocks
        .iter()
        .flat_map(|block| {
            block.keys.iter().map(move |condition| {
                let expected: Vec<String> = condition.values.iter().map(|v| v.as_text().into_owned()).collect();
                let actual = request.values(&condition.key);
                let outcome = condition_outcome(block.operator, &expected, actual);
                ConditionTrace {
                    operator: block.operator,
                    key: condition.key.clone(),
                    expected,
                    actual: actual.map(<[String]>::to_vec),
                    outcome,
                }
            })
        })
        .filter(|trace| trace.outcome != ConditionOutcome::Holds)
        .collect()
}

/// Whether one condition holds. `actual` is `None` when the request lacks the key.
fn condition_outcome(operator: ConditionOperator, expected: &[String], actual: Option<&[String]>) -> ConditionOutcome {
    let present = actual.filter(|values| !values.is_empty());
    if operator.kind == OperatorKind::Null {
        // "true": the key must be absent; "false": it must be present. Several values are ORed.
        let holds = expected.iter().any(|value| {
            (value.eq_ignore_ascii_case("true") && present.is_none())
                || (value.eq_ignore_ascii_case("false") && present.is_some())
        });
        return verdict(holds);
    }
    let Some(compare) = comparison(operator.kind) else {
        return ConditionOutcome::Unsupported;
    };
    let negated = operator.kind.is_negated();
    let Some(values) = present else {
        let holds = match operator.qualifier {
            Some(SetQualifier::ForAllValues) => true,
            Some(SetQualifier::ForAnyValue) => operator.if_exists,
            None => operator.if_exists || negated,
        };
        return verdict(holds);
    };
    // A request value "matches" when it matches any policy value (ORed); negated operators want no match.
    let matches = |value: &String| expected.iter().any(|pattern| compare(pattern, value));
    let satisfies = |value: &String| matches(value) != negated;
    let holds = match operator.qualifier {
        Some(SetQualifier::ForAllValues) => values.iter().all(satisfies),
        Some(SetQualifier::ForAnyValue) => values.iter().any(satisfies),
        None => values.iter().any(matches) != negated,
    };
    verdict(holds)
}

fn verdict(holds: bool) -> ConditionOutcome {
    if holds {
        ConditionOutcome::Holds
    } else {
        ConditionOutcome::Fails
    }
}

#[cfg(test)]
mod tests {
    use crate::evaluate::test_support::condition;
    use serde_json::json;

    #[test]
    fn if_exists() {
        assert!(condition("StringEqualsIfExists", json!("a"), None));
        assert!(condition("StringEqualsIfExists", json!("a"), Some(&["a"])));
        assert!(!condition("StringEqualsIfExists", json!("a"), Some(&["b"])));
        assert!(condition("ArnLikeIfExists", json!("arn:aws:eks:*:*:cluster/*"), None));
        assert!(!condition(
            "ArnLikeIfExists",
            json!("arn:aws:eks:*:*:cluster/*"),
            Some(&["arn:aws:s3:::b"])
        ));
        assert!(condition("StringNotEqualsIfExists", json!("a"), None));
    }

    #[test]
    fn set_qualifiers_on_tag_keys() {
        let all = Some(&["eks-cluster-arn", "kubernetes-namespace"][..]);
        assert!(condition(
            "ForAllValues:StringEquals",
            json!(["eks-cluster-arn", "kubernetes-namespace", "x"]),
            all
        ));
        assert!(!condition("ForAllValues:StringEquals", json!(["eks-cluster-arn"]), all));
        assert!(condition(
            "ForAllValues:StringLike",
            json!(["eks-*", "kubernetes-*"]),
            all
        ));
        assert!(
            condition("ForAllValues:StringEquals", json!("anything"), None),
            "vacuously true without the key"
        );
        assert!(condition(
            "ForAnyValue:StringEquals",
            json!("kubernetes-namespace"),
            all
        ));
        assert!(!condition("ForAnyValue:StringEquals", json!("team"), all));
        assert!(!condition("ForAnyValue:StringEquals", json!("team"), None));
        assert!(condition("ForAnyValue:StringEqualsIfExists", json!("team"), None));
        assert!(
            condition("ForAllValues:StringNotEquals", json!("team"), all),
            "no value is team"
        );
        assert!(!condition(
            "ForAllValues:StringNotEquals",
            json!("kubernetes-namespace"),
            all
        ));
        assert!(
            condition("ForAnyValue:StringNotEquals", json!("kubernetes-namespace"), all),
            "one value is not it"
        );
        assert!(!condition("ForAnyValue:StringNotLike", json!("*"), all));
        // Without a qualifier, a multi-valued key matches when any value does.
        assert!(condition("StringEquals", json!("kubernetes-namespace"), all));
        assert!(!condition("StringNotEquals", json!("kubernetes-namespace"), all));
    }

    #[test]
    fn null_tests_whether_the_key_is_there() {
        assert!(condition("Null", json!("true"), None));
        assert!(
            condition("Null", json!(true), Some(&[])),
            "an empty key counts as absent"
        );
        assert!(!condition("Null", json!("true"), Some(&["x"])));
        assert!(condition("Null", json!("false"), Some(&["x"])));
        assert!(!condition("Null", json!("false"), None));
        assert!(!condition("Null", json!("maybe"), None));
    }
}
