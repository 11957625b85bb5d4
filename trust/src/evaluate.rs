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

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::arn::{ArnError, ArnParts, RoleArn, is_account_id};
use crate::policy::{
    ConditionOperator, Effect, OperatorKind, PolicyDocument, PrincipalType, Principals, SetQualifier, Statement,
};

/// An IAM identity making a request: a user, a role session or an account root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsPrincipal {
    arn: String,
    account_id: String,
    /// For a role session, the role's ARN, which trust policies name instead of the session's.
    role_arn: Option<String>,
}

impl AwsPrincipal {
    /// From a user, role, account-root or assumed-role ARN. For an assumed-role ARN the role's ARN is
    /// rebuilt without a path (the session ARN does not carry it): use [`AwsPrincipal::role_session`] for
    /// roles with a path.
    pub fn from_arn(arn: &str) -> Result<Self, ArnError> {
        let parts = ArnParts::split(arn).ok_or_else(|| ArnError::NotAnArn { arn: arn.to_owned() })?;
        let not_principal = || ArnError::NotAPrincipalArn { arn: arn.to_owned() };
        if !is_account_id(parts.account) {
            return Err(ArnError::InvalidAccountId {
                account: parts.account.to_owned(),
            });
        }
        if !parts.region.is_empty() {
            return Err(not_principal());
        }
        let named = |prefix: &str| parts.resource.strip_prefix(prefix).is_some_and(|name| !name.is_empty());
        let role_arn = match parts.service {
            "iam" if parts.resource == "root" || named("user/") => None,
            "iam" if named("role/") => Some(arn.to_owned()),
            "sts" => {
                let rest = parts.resource.strip_prefix("assumed-role/").ok_or_else(not_principal)?;
                let (role_name, session) = rest.split_once('/').ok_or_else(not_principal)?;
                if role_name.is_empty() || session.is_empty() {
                    return Err(not_principal());
                }
                Some(format!(
                    "arn:{}:iam::{}:role/{role_name}",
                    parts.partition, parts.account
                ))
            }
            _ => return Err(not_principal()),
        };
        Ok(Self {
            arn: arn.to_owned(),
            account_id: parts.account.to_owned(),
            role_arn,
        })
    }

    /// A session of `role` named `session_name`, as STS and EKS Auth create them.
    pub fn role_session(role: &RoleArn, session_name: &str) -> Self {
        Self {
            arn: role.session_arn(session_name),
            account_id: role.account_id().to_owned(),
            role_arn: Some(role.to_string()),
        }
    }

    pub fn arn(&self) -> &str {
        &self.arn
    }
    pub fn account_id(&self) -> &str {
        &self.account_id
    }
    pub fn role_arn(&self) -> Option<&str> {
        self.role_arn.as_deref()
    }

    /// Whether an entry of a policy's `"AWS"` principal list names this identity. Principal entries take no
    /// wildcards other than a lone `*`.
    fn is_named_by(&self, entry: &str) -> bool {
        if entry == "*" || entry == self.account_id || entry == self.arn || Some(entry) == self.role_arn.as_deref() {
            return true;
        }
        // `arn:PARTITION:iam::ACCOUNT:root` names the whole account, whatever the partition spelling.
        ArnParts::split(entry).is_some_and(|parts| {
            parts.service == "iam"
                && parts.region.is_empty()
                && parts.account == self.account_id
                && parts.resource == "root"
        })
    }
}

/// Who makes the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestPrincipal {
    /// A service principal such as `pods.eks.amazonaws.com`.
    Service(String),
    /// A user, role session or account.
    Aws(AwsPrincipal),
    /// A web identity or SAML provider (`Federated`).
    Federated(String),
}

impl fmt::Display for RequestPrincipal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Service(name) => write!(f, "service principal {name}"),
            Self::Aws(principal) => write!(f, "{}", principal.arn),
            Self::Federated(provider) => write!(f, "federated principal {provider}"),
        }
    }
}

/// What is asked: a principal, an action, optionally a resource, and the request's condition keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    pub principal: RequestPrincipal,
    /// Such as `sts:AssumeRole`.
    pub action: String,
    /// The resource ARN. `None` for trust policies, whose resource is the role itself; statements'
    /// `Resource` elements are then not tested.
    pub resource: Option<String>,
    /// Lower-cased key → (key as given, values).
    keys: BTreeMap<String, (String, Vec<String>)>,
}

impl RequestContext {
    pub fn new(principal: RequestPrincipal, action: impl Into<String>) -> Self {
        Self {
            principal,
            action: action.into(),
            resource: None,
            keys: BTreeMap::new(),
        }
    }

    /// Adds one value to `key` (a second call makes the key multi-valued). Keys are case-insensitive.
    pub fn with_value(mut self, key: &str, value: impl Into<String>) -> Self {
        self.keys
            .entry(key.to_ascii_lowercase())
            .or_insert_with(|| (key.to_owned(), Vec::new()))
            .1
            .push(value.into());
        self
    }

    /// Sets all the values of `key`, replacing any it had; an empty list behaves as an absent key.
    pub fn with_values<I, V>(mut self, key: &str, values: I) -> Self
    where
        I: IntoIterator<Item = V>,
        V: Into<String>,
    {
        self.keys.insert(
            key.to_ascii_lowercase(),
            (key.to_owned(), values.into_iter().map(Into::into).collect()),
        );
        self
    }

    pub fn with_resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self
    }

    /// The values of `key` (any case), if the request has it.
    pub fn values(&self, key: &str) -> Option<&[String]> {
        self.keys
            .get(&key.to_ascii_lowercase())
            .map(|(_, values)| values.as_slice())
    }

    /// Every key (as given) and its values.
    pub fn keys(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.keys
            .values()
            .map(|(name, values)| (name.as_str(), values.as_slice()))
    }
}

/// The verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Decision {
    Allow,
    /// A `Deny` statement applies.
    ExplicitDeny,
    /// No `Allow` statement applies.
    ImplicitDeny,
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Allow => "Allow",
            Self::ExplicitDeny => "ExplicitDeny",
            Self::ImplicitDeny => "ImplicitDeny",
        })
    }
}

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

/// Why a statement does or does not apply to the request; the first part that fails is reported, in the
/// order principal, action, resource, conditions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementOutcome {
    Applies,
    PrincipalNotMatched,
    ActionNotMatched,
    ResourceNotMatched,
    /// The conditions that do not hold (all of them, not just the first).
    ConditionsNotMet(Vec<ConditionTrace>),
}

/// How one statement fared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementTrace {
    /// 0-based position in the policy.
    pub index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    pub outcome: StatementOutcome,
}

/// The result of [`evaluate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub decision: Decision,
    /// The index of the statement that decided (the first applicable `Deny`, else the first applicable
    /// `Allow`); `None` for an implicit deny.
    pub decided_by: Option<usize>,
    /// A human explanation naming the statement and, for an implicit deny, why each `Allow` missed.
    pub reason: String,
    /// Every statement, in policy order.
    pub statements: Vec<StatementTrace>,
}

impl Evaluation {
    pub fn is_allowed(&self) -> bool {
        self.decision == Decision::Allow
    }

    /// Conditions that could not be evaluated; if any, the verdict is uncertain.
    pub fn unsupported_conditions(&self) -> impl Iterator<Item = &ConditionTrace> {
        self.statements.iter().flat_map(|statement| match &statement.outcome {
            StatementOutcome::ConditionsNotMet(traces) => traces
                .iter()
                .filter(|t| t.outcome == ConditionOutcome::Unsupported)
                .collect::<Vec<_>>(),
            _ => Vec::new(),
        })
    }
}

/// Decides `request` against `policy`.
pub fn evaluate(policy: &PolicyDocument, request: &RequestContext) -> Evaluation {
    let statements: Vec<StatementTrace> = policy
        .statements
        .iter()
        .enumerate()
        .map(|(index, statement)| StatementTrace {
            index,
            sid: statement.sid.clone(),
            effect: statement.effect,
            outcome: statement_outcome(statement, request),
        })
        .collect();
    let applying = |effect| {
        statements
            .iter()
            .find(|trace| trace.effect == effect && trace.outcome == StatementOutcome::Applies)
    };
    let label = |index: usize| policy.statements[index].label(index);
    let principal = &request.principal;
    let action = &request.action;
    let (decision, decided_by, reason) = if let Some(deny) = applying(Effect::Deny) {
        let reason = format!(
            "{} denies {action} for {principal}; an explicit Deny overrides every Allow",
            label(deny.index)
        );
        (Decision::ExplicitDeny, Some(deny.index), reason)
    } else if let Some(allow) = applying(Effect::Allow) {
        (
            Decision::Allow,
            Some(allow.index),
            format!("{} allows {action} for {principal}", label(allow.index)),
        )
    } else {
        let misses: Vec<String> = statements
            .iter()
            .filter(|trace| trace.effect == Effect::Allow)
            .map(|trace| {
                format!(
                    "{}: {}",
                    label(trace.index),
                    miss_reason(&policy.statements[trace.index], trace, request)
                )
            })
            .collect();
        let mut reason = format!("no statement allows {action} for {principal} (implicit deny)");
        if !misses.is_empty() {
            reason.push_str("; ");
            reason.push_str(&misses.join("; "));
        }
        (Decision::ImplicitDeny, None, reason)
    };
    Evaluation {
        decision,
        decided_by,
        reason,
        statements,
    }
}

fn miss_reason(statement: &Statement, trace: &StatementTrace, request: &RequestContext) -> String {
    let action = &request.action;
    match &trace.outcome {
        StatementOutcome::Applies => "applies".to_owned(),
        StatementOutcome::PrincipalNotMatched => match &statement.principal {
            Some(element) if element.negated => format!("its NotPrincipal excludes {}", request.principal),
            _ => format!("its Principal does not include {}", request.principal),
        },
        StatementOutcome::ActionNotMatched if statement.action.negated => format!("its NotAction excludes {action}"),
        StatementOutcome::ActionNotMatched => format!("its Action does not include {action}"),
        StatementOutcome::ResourceNotMatched => {
            format!(
                "its Resource does not match {}",
                request.resource.as_deref().unwrap_or("")
            )
        }
        StatementOutcome::ConditionsNotMet(traces) => traces
            .iter()
            .map(ConditionTrace::describe)
            .collect::<Vec<_>>()
            .join("; "),
    }
}

fn statement_outcome(statement: &Statement, request: &RequestContext) -> StatementOutcome {
    let principal_excluded = statement
        .principal
        .as_ref()
        .is_some_and(|element| principals_include(&element.principals, &request.principal) == element.negated);
    if principal_excluded {
        return StatementOutcome::PrincipalNotMatched;
    }
    let action_listed = statement
        .action
        .actions
        .iter()
        .any(|pattern| wildcard_match(&pattern.to_lowercase(), &request.action.to_lowercase()));
    if action_listed == statement.action.negated {
        return StatementOutcome::ActionNotMatched;
    }
    if let (Some(element), Some(resource)) = (&statement.resource, &request.resource) {
        let listed = element
            .resources
            .iter()
            .any(|pattern| wildcard_match(pattern, resource));
        if listed == element.negated {
            return StatementOutcome::ResourceNotMatched;
        }
    }
    let failed: Vec<ConditionTrace> = statement
        .conditions
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
        .collect();
    if failed.is_empty() {
        StatementOutcome::Applies
    } else {
        StatementOutcome::ConditionsNotMet(failed)
    }
}

fn principals_include(principals: &Principals, principal: &RequestPrincipal) -> bool {
    let Principals::Typed(entries) = principals else {
        return true;
    };
    entries.iter().any(|(kind, names)| match (kind, principal) {
        // {"AWS": "*"} means everyone, like "*".
        (PrincipalType::Aws, _) if names.iter().any(|name| name == "*") => true,
        (PrincipalType::Aws, RequestPrincipal::Aws(identity)) => names.iter().any(|name| identity.is_named_by(name)),
        // Service principal names are DNS names: compared without regard to case.
        (PrincipalType::Service, RequestPrincipal::Service(service)) => {
            names.iter().any(|name| name.eq_ignore_ascii_case(service))
        }
        (PrincipalType::Federated, RequestPrincipal::Federated(provider)) => names.iter().any(|name| name == provider),
        _ => false,
    })
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

/// The positive comparison behind an operator (`pattern` from the policy, `value` from the request), or
/// `None` for the operators this evaluator does not implement.
fn comparison(kind: OperatorKind) -> Option<fn(&str, &str) -> bool> {
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

/// `*` matches any run of characters (none included), `?` any one character; everything else literally.
/// Linear-time two-pointer matching with one backtrack point, so hostile patterns cannot blow up.
pub(crate) fn wildcard_match(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                backtrack = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match backtrack {
                // Let the last `*` swallow one more character and retry from there.
                Some((star, consumed)) => {
                    p = star + 1;
                    t = consumed + 1;
                    backtrack = Some((star, consumed + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ACCOUNT: &str = "111122223333";
    const CLUSTER: &str = "arn:aws:eks:us-east-1:111122223333:cluster/demo";

    fn pods() -> RequestPrincipal {
        RequestPrincipal::Service("pods.eks.amazonaws.com".into())
    }

    fn policy(value: serde_json::Value) -> PolicyDocument {
        PolicyDocument::from_value(&value).unwrap()
    }

    fn one_statement(
        principal: serde_json::Value,
        action: serde_json::Value,
        condition: serde_json::Value,
    ) -> PolicyDocument {
        policy(json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": principal, "Action": action, "Condition": condition}]}))
    }

    fn decide(document: &PolicyDocument, request: &RequestContext) -> Decision {
        evaluate(document, request).decision
    }

    /// Evaluates `operator: {key: values}` against a request whose `key` has `actual` (or lacks it).
    fn condition(operator: &str, values: serde_json::Value, actual: Option<&[&str]>) -> bool {
        let document = one_statement(json!("*"), json!("sts:AssumeRole"), json!({operator: {"k": values}}));
        let mut request = RequestContext::new(pods(), "sts:AssumeRole");
        if let Some(actual) = actual {
            request = request.with_values("K", actual.iter().copied());
        }
        decide(&document, &request) == Decision::Allow
    }

    #[test]
    fn wildcards() {
        for (pattern, text, expected) in [
            ("*", "", true),
            ("*", "anything", true),
            ("sts:*", "sts:AssumeRole", true),
            ("sts:Assume*", "sts:AssumeRoleWithWebIdentity", true),
            ("sts:?ssumeRole", "sts:AssumeRole", true),
            ("sts:AssumeRole", "sts:AssumeRoleX", false),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            ("*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false),
            ("", "", true),
            ("", "x", false),
            ("?", "", false),
            ("é?", "éé", true),
        ] {
            assert_eq!(wildcard_match(pattern, text), expected, "{pattern} vs {text}");
        }
    }

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
    fn principals_in_every_form() {
        let role: RoleArn = "arn:aws:iam::111122223333:role/team/first".parse().unwrap();
        let session = RequestPrincipal::Aws(AwsPrincipal::role_session(&role, "s1"));
        let user = RequestPrincipal::Aws(AwsPrincipal::from_arn("arn:aws:iam::111122223333:user/admin").unwrap());
        let stranger = RequestPrincipal::Aws(AwsPrincipal::from_arn("arn:aws:iam::444455556666:user/admin").unwrap());
        let web = RequestPrincipal::Federated("arn:aws:iam::111122223333:oidc-provider/oidc.eks.example".into());
        let service = pods();
        let cases: Vec<(serde_json::Value, &RequestPrincipal, bool)> = vec![
            (json!("*"), &session, true),
            (json!({"AWS": "*"}), &service, true),
            (json!({"AWS": ACCOUNT}), &session, true),
            (json!({"AWS": ACCOUNT}), &stranger, false),
            (json!({"AWS": "arn:aws:iam::111122223333:root"}), &user, true),
            (json!({"AWS": "arn:aws:iam::111122223333:root"}), &stranger, false),
            (
                json!({"AWS": "arn:aws:iam::111122223333:role/team/first"}),
                &session,
                true,
            ),
            (json!({"AWS": "arn:aws:iam::111122223333:role/first"}), &session, false),
            (
                json!({"AWS": "arn:aws:sts::111122223333:assumed-role/first/s1"}),
                &session,
                true,
            ),
            (
                json!({"AWS": ["arn:aws:iam::111122223333:role/other", "arn:aws:iam::111122223333:user/admin"]}),
                &user,
                true,
            ),
            (json!({"AWS": "arn:aws:iam::111122223333:role/*"}), &session, false),
            (json!({"Service": "pods.eks.amazonaws.com"}), &service, true),
            (
                json!({"Service": ["ec2.amazonaws.com", "PODS.EKS.AMAZONAWS.COM"]}),
                &service,
                true,
            ),
            (json!({"Service": "eks.amazonaws.com"}), &service, false),
            (json!({"Service": "pods.eks.amazonaws.com"}), &session, false),
            (json!({"AWS": ACCOUNT}), &service, false),
            (
                json!({"Federated": "arn:aws:iam::111122223333:oidc-provider/oidc.eks.example"}),
                &web,
                true,
            ),
            (
                json!({"Federated": "arn:aws:iam::111122223333:oidc-provider/oidc.eks.example"}),
                &service,
                false,
            ),
            (json!({"Service": "ec2.amazonaws.com", "AWS": ACCOUNT}), &user, true),
        ];
        for (principal, who, expected) in cases {
            let document = one_statement(principal.clone(), json!("sts:AssumeRole"), json!({}));
            let decision = decide(&document, &RequestContext::new(who.clone(), "sts:AssumeRole"));
            assert_eq!(decision == Decision::Allow, expected, "{principal} for {who}");
        }
    }

    #[test]
    fn not_principal_covers_everyone_else() {
        let document = policy(json!({"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"},
            {"Effect": "Deny", "NotPrincipal": {"Service": "pods.eks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}));
        assert_eq!(
            decide(&document, &RequestContext::new(pods(), "sts:AssumeRole")),
            Decision::Allow
        );
        let user = RequestPrincipal::Aws(AwsPrincipal::from_arn("arn:aws:iam::111122223333:user/u").unwrap());
        let evaluation = evaluate(&document, &RequestContext::new(user, "sts:AssumeRole"));
        assert_eq!(
            (evaluation.decision, evaluation.decided_by),
            (Decision::ExplicitDeny, Some(1))
        );
    }

    #[test]
    fn deny_overrides_allow_and_no_allow_is_implicit_deny() {
        let document = policy(json!({"Statement": [
            {"Sid": "Trust", "Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": ["sts:AssumeRole", "sts:TagSession"]},
            {"Sid": "NoTags", "Effect": "Deny", "Principal": "*", "Action": "sts:TagSession"}]}));
        let assume = evaluate(&document, &RequestContext::new(pods(), "sts:AssumeRole"));
        assert_eq!((assume.decision, assume.decided_by), (Decision::Allow, Some(0)));
        assert!(
            assume
                .reason
                .contains("statement 1 (Sid \"Trust\") allows sts:AssumeRole"),
            "{}",
            assume.reason
        );
        let tag = evaluate(&document, &RequestContext::new(pods(), "sts:TagSession"));
        assert_eq!((tag.decision, tag.decided_by), (Decision::ExplicitDeny, Some(1)));
        assert!(
            tag.reason
                .contains("statement 2 (Sid \"NoTags\") denies sts:TagSession"),
            "{}",
            tag.reason
        );
        assert!(tag.reason.contains("explicit Deny overrides"), "{}", tag.reason);
        let other = evaluate(&document, &RequestContext::new(pods(), "sts:AssumeRoleWithWebIdentity"));
        assert_eq!((other.decision, other.decided_by), (Decision::ImplicitDeny, None));
        assert!(other.reason.contains("implicit deny"), "{}", other.reason);
        assert!(
            other
                .reason
                .contains("its Action does not include sts:AssumeRoleWithWebIdentity"),
            "{}",
            other.reason
        );
    }

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
    fn bool_numeric_and_null() {
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
    fn several_keys_and_operators_are_anded_and_every_failure_is_reported() {
        let document = one_statement(
            json!({"Service": "pods.eks.amazonaws.com"}),
            json!("sts:AssumeRole"),
            json!({"StringEquals": {"aws:SourceAccount": ACCOUNT, "aws:RequestTag/kubernetes-namespace": "prod"},
                   "ArnEquals": {"aws:SourceArn": CLUSTER}}),
        );
        let good = RequestContext::new(pods(), "sts:AssumeRole")
            .with_value("aws:sourceaccount", ACCOUNT)
            .with_value("AWS:SourceArn", CLUSTER)
            .with_value("aws:RequestTag/kubernetes-namespace", "prod");
        assert_eq!(decide(&document, &good), Decision::Allow);
        let bad = RequestContext::new(pods(), "sts:AssumeRole")
            .with_value("aws:SourceAccount", "444455556666")
            .with_value("aws:RequestTag/kubernetes-namespace", "prod");
        let evaluation = evaluate(&document, &bad);
        assert_eq!(evaluation.decision, Decision::ImplicitDeny);
        let StatementOutcome::ConditionsNotMet(failed) = &evaluation.statements[0].outcome else {
            panic!("{:?}", evaluation.statements)
        };
        let keys: Vec<&str> = failed.iter().map(|t| t.key.as_str()).collect();
        assert_eq!(keys.len(), 2);
        assert!(
            keys.contains(&"aws:SourceAccount") && keys.contains(&"aws:SourceArn"),
            "{keys:?}"
        );
        assert!(
            evaluation.reason.contains(
                r#"StringEquals requires aws:SourceAccount to match "111122223333", and the request has "444455556666""#
            ),
            "{}",
            evaluation.reason
        );
        assert!(
            evaluation.reason.contains("the request has no aws:SourceArn"),
            "{}",
            evaluation.reason
        );
    }

    #[test]
    fn unsupported_operators_are_flagged() {
        let document = one_statement(
            json!("*"),
            json!("sts:AssumeRole"),
            json!({"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}),
        );
        let evaluation = evaluate(
            &document,
            &RequestContext::new(pods(), "sts:AssumeRole").with_value("aws:CurrentTime", "2026-01-01T00:00:00Z"),
        );
        assert_eq!(evaluation.decision, Decision::ImplicitDeny);
        let unsupported: Vec<_> = evaluation.unsupported_conditions().collect();
        assert_eq!(unsupported.len(), 1);
        assert!(unsupported[0].describe().contains("cannot be evaluated"));
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

    #[test]
    fn principal_arns() {
        let session = AwsPrincipal::from_arn("arn:aws:sts::111122223333:assumed-role/app/s").unwrap();
        assert_eq!(session.role_arn(), Some("arn:aws:iam::111122223333:role/app"));
        assert_eq!(session.account_id(), ACCOUNT);
        assert_eq!(
            AwsPrincipal::from_arn("arn:aws:iam::111122223333:root")
                .unwrap()
                .role_arn(),
            None
        );
        assert!(
            AwsPrincipal::from_arn("arn:aws:iam::111122223333:role/app")
                .unwrap()
                .role_arn()
                .is_some()
        );
        for bad in [
            "nope",
            "arn:aws:s3:::bucket",
            "arn:aws:iam::1:root",
            "arn:aws:iam::111122223333:group/g",
            "arn:aws:iam::111122223333:role",
            "arn:aws:sts::111122223333:assumed-role/app",
            "arn:aws:sts::111122223333:assumed-role//s",
        ] {
            assert!(AwsPrincipal::from_arn(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn context_keys_are_case_insensitive() {
        let request = RequestContext::new(pods(), "sts:AssumeRole")
            .with_value("aws:TagKeys", "a")
            .with_value("AWS:TAGKEYS", "b");
        assert_eq!(
            request.values("aws:tagkeys"),
            Some(&["a".to_owned(), "b".to_owned()][..])
        );
        let replaced = request.with_values("aws:TagKeys", Vec::<String>::new());
        assert_eq!(replaced.values("aws:TagKeys"), Some(&[][..]));
        assert_eq!(replaced.keys().count(), 1);
    }
}
