//! Trust policy evaluation for STS AssumeRole (and EKS Auth): may this principal perform these actions
//! on the role, given the request's condition keys?
//!
//! A compact evaluator kept behind the single function [`trust_allows`], to be switched over to the
//! workspace's IAM policy crate (`pia-trust`) once it exists. It covers what trust policies use:
//! `Allow`/`Deny` statements, `Principal` (`AWS` account ids, root, user, role and assumed-role ARNs,
//! `Service`, `*`), `Action`/`NotAction` with wildcards, and `Condition` with the String, Arn, Bool and
//! Null operators, `IfExists`, and the `ForAnyValue:`/`ForAllValues:` set qualifiers. An explicit deny
//! wins; no matching allow is an implicit deny.

use std::collections::BTreeMap;

use serde_json::Value;

/// Who asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustPrincipal<'a> {
    /// An IAM user or role session. `arn` is the caller's ARN (a user ARN or an assumed-role ARN);
    /// `role_arn` the role of a session.
    Aws {
        arn: &'a str,
        account_id: &'a str,
        role_arn: Option<&'a str>,
    },
    /// A service principal such as `pods.eks.amazonaws.com`.
    Service(&'a str),
}

/// The request's condition keys (any case), each with one or more values.
pub type TrustContext = BTreeMap<String, Vec<String>>;

/// Whether `policy` (a JSON value, or a string holding one) lets `principal` perform every one of
/// `actions` (such as `sts:AssumeRole`, `sts:TagSession`) with the condition keys of `context`.
pub fn trust_allows(
    policy: &Value,
    principal: &TrustPrincipal<'_>,
    actions: &[&str],
    context: &TrustContext,
) -> bool {
    let parsed;
    let policy = match policy {
        Value::String(text) => match serde_json::from_str::<Value>(text) {
            Ok(value) => {
                parsed = value;
                &parsed
            }
            Err(_) => return false,
        },
        other => other,
    };
    let statements: Vec<&Value> = match policy.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => return false,
    };
    let context: TrustContext = context
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect();
    actions.iter().all(|action| {
        let mut allowed = false;
        for statement in &statements {
            if !statement_applies(statement, principal, action, &context) {
                continue;
            }
            match statement.get("Effect").and_then(Value::as_str) {
                Some("Deny") => return false,
                Some("Allow") => allowed = true,
                _ => {}
            }
        }
        allowed
    })
}

fn statement_applies(
    statement: &Value,
    principal: &TrustPrincipal<'_>,
    action: &str,
    context: &TrustContext,
) -> bool {
    let action_matches = match (statement.get("Action"), statement.get("NotAction")) {
        (Some(actions), _) => strings(actions).iter().any(|p| wildcard(p, action, true)),
        (None, Some(not)) => !strings(not).iter().any(|p| wildcard(p, action, true)),
        (None, None) => false,
    };
    let principal_matches = match (statement.get("Principal"), statement.get("NotPrincipal")) {
        (Some(p), _) => principal_in(p, principal),
        (None, Some(not)) => !principal_in(not, principal),
        (None, None) => false,
    };
    action_matches
        && principal_matches
        && statement
            .get("Condition")
            .is_none_or(|conditions| conditions_hold(conditions, context))
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().flat_map(strings).collect(),
        Value::Bool(b) => vec![b.to_string()],
        Value::Number(n) => vec![n.to_string()],
        _ => Vec::new(),
    }
}

fn principal_in(block: &Value, principal: &TrustPrincipal<'_>) -> bool {
    if block.as_str() == Some("*") {
        return true;
    }
    match principal {
        TrustPrincipal::Service(service) => block
            .get("Service")
            .is_some_and(|s| strings(s).iter().any(|s| s == service)),
        TrustPrincipal::Aws {
            arn,
            account_id,
            role_arn,
        } => block.get("AWS").is_some_and(|aws| {
            strings(aws).iter().any(|entry| {
                entry == "*"
                    || entry == account_id
                    || *entry == account_root(arn, account_id)
                    || entry == arn
                    || role_arn.is_some_and(|role| entry == role)
            })
        }),
    }
}

/// `arn:{partition}:iam::{account}:root`.
fn account_root(arn: &str, account_id: &str) -> String {
    let partition = arn.split(':').nth(1).unwrap_or("aws");
    format!("arn:{partition}:iam::{account_id}:root")
}

fn conditions_hold(conditions: &Value, context: &TrustContext) -> bool {
    let Some(operators) = conditions.as_object() else {
        return false;
    };
    operators.iter().all(|(operator, keys)| {
        let Some(keys) = keys.as_object() else {
            return false;
        };
        keys.iter().all(|(key, expected)| {
            condition_holds(
                operator,
                context.get(&key.to_ascii_lowercase()),
                &strings(expected),
            )
        })
    })
}

fn condition_holds(operator: &str, actual: Option<&Vec<String>>, expected: &[String]) -> bool {
    let (set, operator) = if let Some(rest) = operator.strip_prefix("ForAnyValue:") {
        (Some(true), rest)
    } else if let Some(rest) = operator.strip_prefix("ForAllValues:") {
        (Some(false), rest)
    } else {
        (None, operator)
    };
    let (if_exists, operator) = match operator.strip_suffix("IfExists") {
        Some(base) => (true, base),
        None => (false, operator),
    };
    if operator == "Null" {
        let want_absent = expected.iter().any(|e| e.eq_ignore_ascii_case("true"));
        return actual.is_none() == want_absent;
    }
    let negated = operator.contains("Not");
    let Some(actual) = actual.filter(|values| !values.is_empty()) else {
        return match set {
            Some(false) => true,
            Some(true) => false,
            None => if_exists || negated,
        };
    };
    let positive = operator.replacen("Not", "", 1);
    let compare: fn(&str, &str) -> bool = match positive.as_str() {
        "StringEquals" | "ArnEquals" | "Bool" => |e, v| e == v,
        "StringEqualsIgnoreCase" => |e, v| e.eq_ignore_ascii_case(v),
        "StringLike" | "ArnLike" => |e, v| wildcard(e, v, false),
        // Operators this evaluator does not know never hold.
        _ => return false,
    };
    let results: Vec<bool> = actual
        .iter()
        .map(|value| expected.iter().any(|e| compare(e, value)) != negated)
        .collect();
    match set {
        Some(true) => results.iter().any(|r| *r),
        Some(false) => results.iter().all(|r| *r),
        // A single-valued key: every value given must satisfy it.
        None => results.iter().all(|r| *r),
    }
}

/// `*` and `?` wildcards; actions compare case-insensitively.
fn wildcard(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let (pattern, text) = if ignore_case {
        (pattern.to_ascii_lowercase(), text.to_ascii_lowercase())
    } else {
        (pattern.to_owned(), text.to_owned())
    };
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const USER: TrustPrincipal<'static> = TrustPrincipal::Aws {
        arn: "arn:aws:iam::111122223333:user/admin",
        account_id: "111122223333",
        role_arn: None,
    };

    fn ctx(pairs: &[(&str, &str)]) -> TrustContext {
        let mut context = TrustContext::new();
        for (k, v) in pairs {
            context
                .entry((*k).to_owned())
                .or_default()
                .push((*v).to_owned());
        }
        context
    }

    #[test]
    fn account_principals_and_external_ids() {
        let policy = json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "ext-1"}}
        }]});
        assert!(trust_allows(
            &policy,
            &USER,
            &["sts:AssumeRole"],
            &ctx(&[("sts:ExternalId", "ext-1")])
        ));
        assert!(!trust_allows(
            &policy,
            &USER,
            &["sts:AssumeRole"],
            &ctx(&[("sts:ExternalId", "other")])
        ));
        assert!(!trust_allows(
            &policy,
            &USER,
            &["sts:AssumeRole"],
            &ctx(&[])
        ));
        assert!(!trust_allows(
            &policy,
            &USER,
            &["sts:AssumeRole", "sts:TagSession"],
            &ctx(&[("sts:ExternalId", "ext-1")])
        ));
        let other_account = TrustPrincipal::Aws {
            arn: "arn:aws:iam::444455556666:user/admin",
            account_id: "444455556666",
            role_arn: None,
        };
        assert!(!trust_allows(
            &policy,
            &other_account,
            &["sts:AssumeRole"],
            &ctx(&[("sts:ExternalId", "ext-1")])
        ));
    }

    #[test]
    fn role_sessions_match_their_role_and_deny_wins() {
        let session = TrustPrincipal::Aws {
            arn: "arn:aws:sts::111122223333:assumed-role/first/s",
            account_id: "111122223333",
            role_arn: Some("arn:aws:iam::111122223333:role/first"),
        };
        let policy = json!({"Statement": [
            {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:role/first"]}, "Action": ["sts:AssumeRole", "sts:Tag*"]},
            {"Effect": "Deny", "Principal": "*", "Action": "sts:TagSession",
             "Condition": {"StringEquals": {"aws:RequestTag/team": "blocked"}}}
        ]});
        assert!(trust_allows(
            &policy,
            &session,
            &["sts:AssumeRole", "sts:TagSession"],
            &ctx(&[("aws:RequestTag/team", "ok")])
        ));
        assert!(!trust_allows(
            &policy,
            &session,
            &["sts:AssumeRole", "sts:TagSession"],
            &ctx(&[("aws:requesttag/team", "blocked")])
        ));
        assert!(!trust_allows(
            &policy,
            &USER,
            &["sts:AssumeRole"],
            &ctx(&[])
        ));
    }

    #[test]
    fn service_principals_and_condition_operators() {
        let pods = TrustPrincipal::Service("pods.eks.amazonaws.com");
        let policy = json!({"Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "pods.eks.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": {
                "StringEquals": {"aws:SourceAccount": "111122223333"},
                "ArnLike": {"aws:SourceArn": "arn:aws:eks:*:111122223333:cluster/*"},
                "StringLikeIfExists": {"aws:RequestTag/kubernetes-namespace": "team-*"}
            }
        }]});
        let good = ctx(&[
            ("aws:SourceAccount", "111122223333"),
            (
                "aws:SourceArn",
                "arn:aws:eks:us-east-1:111122223333:cluster/demo",
            ),
        ]);
        assert!(trust_allows(
            &policy,
            &pods,
            &["sts:AssumeRole", "sts:TagSession"],
            &good
        ));
        let mut tagged = good.clone();
        tagged.insert(
            "aws:RequestTag/kubernetes-namespace".into(),
            vec!["other".into()],
        );
        assert!(!trust_allows(&policy, &pods, &["sts:AssumeRole"], &tagged));
        assert!(!trust_allows(&policy, &USER, &["sts:AssumeRole"], &good));
        assert!(!trust_allows(
            &policy,
            &pods,
            &["sts:AssumeRole"],
            &ctx(&[("aws:SourceAccount", "111122223333")])
        ));

        let sets = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:*",
            "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}, "Null": {"sts:ExternalId": "true"},
                          "StringNotEquals": {"aws:PrincipalTag/team": "x"}}}]});
        assert!(trust_allows(
            &sets,
            &USER,
            &["sts:AssumeRole"],
            &ctx(&[("aws:TagKeys", "a")])
        ));
        assert!(trust_allows(&sets, &USER, &["sts:AssumeRole"], &ctx(&[])));
        assert!(!trust_allows(
            &sets,
            &USER,
            &["sts:AssumeRole"],
            &ctx(&[("aws:TagKeys", "c")])
        ));
        assert!(!trust_allows(
            &sets,
            &USER,
            &["sts:AssumeRole"],
            &ctx(&[("sts:ExternalId", "e")])
        ));
        assert!(!trust_allows(
            &sets,
            &USER,
            &["sts:AssumeRole"],
            &ctx(&[("aws:PrincipalTag/team", "x")])
        ));
        assert!(!trust_allows(
            &json!("not json"),
            &USER,
            &["sts:AssumeRole"],
            &ctx(&[])
        ));
        assert!(trust_allows(
            &Value::String(sets.to_string()),
            &USER,
            &["sts:AssumeRole"],
            &ctx(&[])
        ));
    }

    #[test]
    fn wildcards() {
        assert!(wildcard("sts:*", "STS:AssumeRole", true));
        assert!(wildcard("a?c*", "abcdef", false));
        assert!(!wildcard("a?c", "abcd", false));
        assert!(wildcard("*", "", false));
    }
}
