//! Will pods get credentials? Replays what EKS Auth asks of a role's trust policy for one association
//! (and, with `TargetRoleArn`, what EKS then asks of the target role's), and explains every problem in plain
//! words with the change that fixes it.
//!
//! EKS Auth, for an association of cluster C in account A:
//! - calls `sts:AssumeRole` on `RoleArn` as the service principal `pods.eks.amazonaws.com`, with
//!   `aws:SourceAccount` = A and `aws:SourceArn` = C;
//! - unless `DisableSessionTags`, tags the session (`sts:TagSession`) with six transitive tags
//!   ([`SESSION_TAG_KEYS`]), visible to conditions as `aws:RequestTag/<key>`, `aws:TagKeys` and
//!   `sts:TransitiveTagKeys`;
//! - with `TargetRoleArn`, assumes the target role with the first role's session, passing the association's
//!   `ExternalId` as `sts:ExternalId`; the tags travel along (they are transitive), so the target role must
//!   allow `sts:TagSession` too. Conditions see them as `aws:PrincipalTag/<key>` and, since it is not
//!   documented which, also as `aws:RequestTag/<key>` *(unverified)*.

use std::fmt;

use serde::Serialize;
use thiserror::Error;

use crate::arn::{ClusterArn, RoleArn};
use crate::evaluate::{
    AwsPrincipal, ConditionOutcome, ConditionTrace, Decision, Evaluation, RequestContext, RequestPrincipal,
    StatementOutcome, evaluate,
};
use crate::generate::POD_IDENTITY_SERVICE_PRINCIPAL;
use crate::policy::{Effect, OperatorKind, PolicyDocument, PrincipalType, Principals, Statement};

pub use pia_core::pod_identity::SESSION_TAG_KEYS;

/// IAM's default quota for a role trust policy, in characters without whitespace (raisable to 8,192).
const TRUST_POLICY_DEFAULT_QUOTA: usize = 2048;

/// Placeholders for the tag values a check cannot know: they depend on the pod.
const PLACEHOLDER_NAMESPACE: &str = "<namespace>";
const PLACEHOLDER_SERVICE_ACCOUNT: &str = "<service-account>";
const PLACEHOLDER_POD_NAME: &str = "<pod-name>";
const PLACEHOLDER_POD_UID: &str = "<pod-uid>";

/// The association the trust policy is checked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckInput {
    pub cluster_arn: ClusterArn,
    /// The association's `DisableSessionTags`.
    pub disable_session_tags: bool,
    /// The association's namespace and service account, the values of two session tags. Without them,
    /// conditions on those tags are checked against placeholders and the report says so.
    pub namespace: Option<String>,
    pub service_account: Option<String>,
    /// The association's `RoleArn`, the role whose trust policy is checked. Needed for a target role check
    /// (it is the principal the target role must trust); also checked to be in the cluster's account.
    pub role_arn: Option<RoleArn>,
    pub target: Option<TargetRoleInput>,
}

impl CheckInput {
    /// An association of `cluster_arn` with session tags on and nothing else known.
    pub fn new(cluster_arn: ClusterArn) -> Self {
        Self {
            cluster_arn,
            disable_session_tags: false,
            namespace: None,
            service_account: None,
            role_arn: None,
            target: None,
        }
    }
}

/// The association's `TargetRoleArn`, for cross-account role chaining.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetRoleInput {
    pub target_role_arn: RoleArn,
    /// The target role's trust policy; without it, the report only says what it must contain.
    pub trust_policy: Option<PolicyDocument>,
    /// The association's `ExternalId` (EKS generates it). Without it, the value the policy's
    /// `sts:ExternalId` condition asks for is assumed, and the report says so.
    pub external_id: Option<String>,
}

/// Why a check could not be made.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CheckError {
    #[error(
        "checking the target role's trust policy needs the association's RoleArn, the principal that policy must trust"
    )]
    MissingRoleArn,
}

/// Which role a verdict or finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckedRole {
    /// The association's `RoleArn`.
    Role,
    /// The association's `TargetRoleArn`.
    TargetRole,
}

impl fmt::Display for CheckedRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Role => "role",
            Self::TargetRole => "target role",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Pods will not get credentials until this is fixed.
    Error,
    /// Works, but is unsafe or could not be fully checked.
    Warning,
    /// Worth knowing.
    Info,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Info => "info",
        })
    }
}

/// What a finding is about, for programs reading the JSON report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    PrincipalNotTrusted,
    MissingAssumeRole,
    MissingTagSession,
    ExplicitDeny,
    SourceAccountMismatch,
    SourceArnMismatch,
    ExternalIdMismatch,
    ConditionNotMet,
    UnsupportedCondition,
    NoSourceConditions,
    NoSourceArnCondition,
    NoExternalIdCondition,
    TrustsEveryone,
    MissingPrincipal,
    ProhibitedElement,
    UnknownElement,
    NotPrincipal,
    PolicyTooLarge,
    RoleAccountMismatch,
    PlaceholderValue,
    AssumedExternalId,
    TargetPolicyNotChecked,
    IdentityPolicyNeeded,
}

/// One problem or remark, with what to change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub role: CheckedRole,
    pub kind: FindingKind,
    /// What is wrong, in plain words.
    pub problem: String,
    /// Exactly what to change, when there is something to change.
    pub fix: Option<String>,
}

/// The decision for one action EKS performs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub role: CheckedRole,
    pub action: String,
    pub decision: Decision,
    /// 1-based number of the deciding statement.
    pub statement: Option<usize>,
    pub reason: String,
}

/// The outcome of [`check_trust`]. `Display` renders it for people; `Serialize` for programs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrustReport {
    /// Whether pods of the association will get credentials: every action EKS performs is allowed and no
    /// finding is an error.
    pub will_work: bool,
    pub cluster_arn: String,
    pub disable_session_tags: bool,
    pub verdicts: Vec<Verdict>,
    /// Errors first, then warnings, then remarks.
    pub findings: Vec<Finding>,
}

/// Checks `role_trust_policy` (the trust policy of the association's `RoleArn`) and, if given, the target
/// role's trust policy, against the association described by `input`.
pub fn check_trust(role_trust_policy: &PolicyDocument, input: &CheckInput) -> Result<TrustReport, CheckError> {
    let mut report = Report::default();
    let cluster = &input.cluster_arn;

    check_role(&mut report, role_trust_policy, &pod_role_subject(input));

    if let Some(role_arn) = input
        .role_arn
        .as_ref()
        .filter(|arn| arn.account_id() != cluster.account_id())
    {
        report.add(Finding {
            severity: Severity::Error,
            role: CheckedRole::Role,
            kind: FindingKind::RoleAccountMismatch,
            problem: format!(
                "The role {role_arn} is in account {}, but the cluster is in account {}; EKS accepts only a RoleArn of the cluster's account.",
                role_arn.account_id(),
                cluster.account_id()
            ),
            fix: Some(format!(
                "Use a role of account {} as RoleArn, and put {role_arn} in TargetRoleArn to reach the other account.",
                cluster.account_id()
            )),
        });
    }

    if let Some(target) = &input.target {
        check_target(&mut report, input, target)?;
    }

    Ok(report.finish(input))
}

fn check_target(report: &mut Report, input: &CheckInput, target: &TargetRoleInput) -> Result<(), CheckError> {
    let target_arn = &target.target_role_arn;
    let Some(trust_policy) = &target.trust_policy else {
        report.add(Finding {
            severity: Severity::Info,
            role: CheckedRole::TargetRole,
            kind: FindingKind::TargetPolicyNotChecked,
            problem: format!("The trust policy of the target role {target_arn} was not checked."),
            fix: Some(
                "Give the target role's trust policy too; it must allow the association's role sts:AssumeRole and sts:TagSession with an sts:ExternalId condition."
                    .to_owned(),
            ),
        });
        return Ok(());
    };
    let role_arn = input.role_arn.as_ref().ok_or(CheckError::MissingRoleArn)?;
    let session = AwsPrincipal::role_session(
        role_arn,
        &format!("eks-{}-{PLACEHOLDER_POD_NAME}", input.cluster_arn.name()),
    );
    let principal = RequestPrincipal::Aws(session);

    let external_id = match &target.external_id {
        Some(external_id) => Some(external_id.clone()),
        None => {
            let assumed = required_external_id(trust_policy, &principal);
            if let Some(value) = &assumed {
                report.add(Finding {
                    severity: Severity::Info,
                    role: CheckedRole::TargetRole,
                    kind: FindingKind::AssumedExternalId,
                    problem: format!(
                        "The check assumed the association's ExternalId is {value:?}, the value the policy asks for."
                    ),
                    fix: Some(
                        "Compare it with the association's ExternalId (EKS generates it; CloudFormation: Fn::GetAtt ExternalId), or give it to the check."
                            .to_owned(),
                    ),
                });
            }
            assumed
        }
    };

    let mut keys = vec![
        ("aws:PrincipalArn".to_owned(), vec![role_arn.to_string()]),
        (
            "aws:PrincipalAccount".to_owned(),
            vec![role_arn.account_id().to_owned()],
        ),
    ];
    if let Some(external_id) = external_id {
        keys.push(("sts:ExternalId".to_owned(), vec![external_id]));
    }
    if !input.disable_session_tags {
        let tags = session_tags(input);
        keys.extend(
            tags.iter()
                .map(|(tag, value)| (format!("aws:PrincipalTag/{tag}"), vec![value.clone()])),
        );
        keys.extend(tag_request_keys(&tags));
    }
    let subject = Subject {
        role: CheckedRole::TargetRole,
        principal,
        principal_hint: format!("{{\"AWS\": \"{role_arn}\"}}"),
        keys,
        disable_session_tags: input.disable_session_tags,
        cluster: input.cluster_arn.clone(),
        placeholders: placeholders(input),
    };
    check_role(report, trust_policy, &subject);

    report.add(Finding {
        severity: Severity::Info,
        role: CheckedRole::TargetRole,
        kind: FindingKind::IdentityPolicyNeeded,
        problem: format!(
            "The role {role_arn} also needs an identity policy that allows sts:AssumeRole and sts:TagSession on {target_arn}; this check reads trust policies only."
        ),
        fix: None,
    });
    Ok(())
}

/// Who asks and with which condition keys, for one of the two roles.
struct Subject {
    role: CheckedRole,
    principal: RequestPrincipal,
    /// The principal element that would trust `principal`, for fixes.
    principal_hint: String,
    keys: Vec<(String, Vec<String>)>,
    disable_session_tags: bool,
    cluster: ClusterArn,
    /// Context keys whose values are placeholders, and the placeholder used.
    placeholders: Vec<(String, String)>,
}

impl Subject {
    fn context(&self, action: &str) -> RequestContext {
        self.keys.iter().fold(
            RequestContext::new(self.principal.clone(), action),
            |context, (key, values)| context.with_values(key, values.iter().cloned()),
        )
    }

    fn actions(&self) -> Vec<&'static str> {
        if self.disable_session_tags {
            vec!["sts:AssumeRole"]
        } else {
            vec!["sts:AssumeRole", "sts:TagSession"]
        }
    }

    /// How fixes refer to the statements that trust the principal.
    fn trusting(&self) -> String {
        match self.role {
            CheckedRole::Role => format!("the statement that trusts {POD_IDENTITY_SERVICE_PRINCIPAL}"),
            CheckedRole::TargetRole => "the statement that trusts the association's role".to_owned(),
        }
    }
}

fn pod_role_subject(input: &CheckInput) -> Subject {
    let cluster = &input.cluster_arn;
    let mut keys = vec![
        ("aws:SourceAccount".to_owned(), vec![cluster.account_id().to_owned()]),
        ("aws:SourceArn".to_owned(), vec![cluster.to_string()]),
    ];
    if !input.disable_session_tags {
        keys.extend(tag_request_keys(&session_tags(input)));
    }
    Subject {
        role: CheckedRole::Role,
        principal: RequestPrincipal::Service(POD_IDENTITY_SERVICE_PRINCIPAL.to_owned()),
        principal_hint: format!("{{\"Service\": \"{POD_IDENTITY_SERVICE_PRINCIPAL}\"}}"),
        keys,
        disable_session_tags: input.disable_session_tags,
        cluster: cluster.clone(),
        placeholders: placeholders(input),
    }
}

/// The six session tags and their values (placeholders where the value depends on the pod).
fn session_tags(input: &CheckInput) -> Vec<(&'static str, String)> {
    let cluster = &input.cluster_arn;
    let values = [
        cluster.to_string(),
        cluster.name().to_owned(),
        input
            .namespace
            .clone()
            .unwrap_or_else(|| PLACEHOLDER_NAMESPACE.to_owned()),
        input
            .service_account
            .clone()
            .unwrap_or_else(|| PLACEHOLDER_SERVICE_ACCOUNT.to_owned()),
        PLACEHOLDER_POD_NAME.to_owned(),
        PLACEHOLDER_POD_UID.to_owned(),
    ];
    SESSION_TAG_KEYS.into_iter().zip(values).collect()
}

/// `aws:RequestTag/<key>`, `aws:TagKeys` and `sts:TransitiveTagKeys` for a request that sets `tags`.
fn tag_request_keys(tags: &[(&'static str, String)]) -> Vec<(String, Vec<String>)> {
    let mut keys: Vec<(String, Vec<String>)> = tags
        .iter()
        .map(|(tag, value)| (format!("aws:RequestTag/{tag}"), vec![value.clone()]))
        .collect();
    let names: Vec<String> = tags.iter().map(|(tag, _)| (*tag).to_owned()).collect();
    keys.push(("aws:TagKeys".to_owned(), names.clone()));
    keys.push(("sts:TransitiveTagKeys".to_owned(), names));
    keys
}

fn placeholders(input: &CheckInput) -> Vec<(String, String)> {
    let mut unknown = vec![
        ("kubernetes-pod-name", PLACEHOLDER_POD_NAME),
        ("kubernetes-pod-uid", PLACEHOLDER_POD_UID),
    ];
    if input.namespace.is_none() {
        unknown.push(("kubernetes-namespace", PLACEHOLDER_NAMESPACE));
    }
    if input.service_account.is_none() {
        unknown.push(("kubernetes-service-account", PLACEHOLDER_SERVICE_ACCOUNT));
    }
    unknown
        .into_iter()
        .flat_map(|(tag, value)| {
            ["aws:RequestTag", "aws:PrincipalTag"].map(|prefix| (format!("{prefix}/{tag}"), value.to_owned()))
        })
        .collect()
}

/// The `sts:ExternalId` value an Allow statement trusting `principal` asks for with a `StringEquals`.
fn required_external_id(policy: &PolicyDocument, principal: &RequestPrincipal) -> Option<String> {
    policy
        .statements
        .iter()
        .filter(|statement| statement.effect == Effect::Allow)
        .filter(|statement| {
            // Only statements that could trust this principal: evaluate the principal alone.
            let probe = RequestContext::new(principal.clone(), "sts:AssumeRole");
            let single = PolicyDocument {
                version: policy.version,
                id: None,
                statements: vec![Statement {
                    conditions: Vec::new(),
                    ..(*statement).clone()
                }],
                unknown_elements: Vec::new(),
            };
            evaluate(&single, &probe).statements[0].outcome != StatementOutcome::PrincipalNotMatched
        })
        .flat_map(|statement| &statement.conditions)
        .filter(|block| {
            matches!(
                block.operator.kind,
                OperatorKind::StringEquals | OperatorKind::StringEqualsIgnoreCase
            ) && block.operator.qualifier.is_none()
        })
        .flat_map(|block| &block.keys)
        .find(|condition| condition.key.eq_ignore_ascii_case("sts:ExternalId"))
        .and_then(|condition| condition.values.iter().next())
        .map(|value| value.as_text().into_owned())
}

/// Evaluates every action EKS performs on one role and turns the outcome into verdicts and findings.
fn check_role(report: &mut Report, policy: &PolicyDocument, subject: &Subject) {
    structure_findings(report, policy, subject);
    let mut assume_role = None;
    for action in subject.actions() {
        let evaluation = evaluate(policy, &subject.context(action));
        report.verdicts.push(Verdict {
            role: subject.role,
            action: action.to_owned(),
            decision: evaluation.decision,
            statement: evaluation.decided_by.map(|index| index + 1),
            reason: evaluation.reason.clone(),
        });
        if !evaluation.is_allowed() {
            diagnose_refusal(report, policy, subject, action, &evaluation);
        }
        if action == "sts:AssumeRole" {
            assume_role = Some(evaluation);
        }
    }
    if let Some(index) = assume_role
        .as_ref()
        .and_then(|evaluation| evaluation.is_allowed().then_some(evaluation.decided_by).flatten())
    {
        safety_findings(report, policy, subject, index);
    }
    placeholder_findings(report, policy, subject);
}

/// Says why `action` is refused and what to change.
fn diagnose_refusal(
    report: &mut Report,
    policy: &PolicyDocument,
    subject: &Subject,
    action: &str,
    evaluation: &Evaluation,
) {
    let role = subject.role;
    if evaluation.decision == Decision::ExplicitDeny {
        let index = evaluation.decided_by.unwrap_or_default();
        let label = policy.statements.get(index).map(|s| s.label(index)).unwrap_or_default();
        report.add(Finding {
            severity: Severity::Error,
            role,
            kind: FindingKind::ExplicitDeny,
            problem: format!(
                "{} denies {action} to {}; an explicit Deny overrides every Allow.",
                capitalize(&label),
                subject.principal
            ),
            fix: Some(format!(
                "Remove {label}, or narrow its Principal, Action or Condition so that it does not match the request EKS makes."
            )),
        });
        return;
    }
    let allow_traces = || {
        evaluation
            .statements
            .iter()
            .filter(|trace| trace.effect == Effect::Allow)
    };
    let with_conditions: Vec<_> = allow_traces()
        .filter_map(|trace| match &trace.outcome {
            StatementOutcome::ConditionsNotMet(failed) => Some((trace.index, failed)),
            _ => None,
        })
        .collect();
    if !with_conditions.is_empty() {
        for (index, failed) in with_conditions {
            for condition in failed {
                report.add(condition_finding(policy, subject, index, condition));
            }
        }
        return;
    }
    let missing_action: Vec<usize> = allow_traces()
        .filter(|trace| trace.outcome == StatementOutcome::ActionNotMatched)
        .map(|trace| trace.index)
        .collect();
    if !missing_action.is_empty() {
        report.add(missing_action_finding(policy, subject, action, &missing_action));
        return;
    }
    report.add(principal_finding(policy, subject));
}

fn missing_action_finding(policy: &PolicyDocument, subject: &Subject, action: &str, statements: &[usize]) -> Finding {
    let labels = statements
        .iter()
        .map(|&i| policy.statements[i].label(i))
        .collect::<Vec<_>>()
        .join(" and ");
    let negated = statements.iter().all(|&i| policy.statements[i].action.negated);
    let change = if negated {
        format!(
            "Remove {action:?} from the NotAction list of {labels} ({})",
            subject.trusting()
        )
    } else {
        format!("Add {action:?} to the Action list of {labels} ({})", subject.trusting())
    };
    let (kind, problem, fix) = match (action, subject.role) {
        ("sts:TagSession", CheckedRole::Role) => (
            FindingKind::MissingTagSession,
            "The policy does not allow sts:TagSession, but EKS tags every session unless DisableSessionTags is true.".to_owned(),
            format!("{change}, or set DisableSessionTags: true on the association."),
        ),
        ("sts:TagSession", CheckedRole::TargetRole) => (
            FindingKind::MissingTagSession,
            "The target role's policy does not allow sts:TagSession, but the session tags EKS sets are transitive and travel to the target role unless DisableSessionTags is true.".to_owned(),
            format!("{change}, or set DisableSessionTags: true on the association."),
        ),
        (_, CheckedRole::Role) => (
            FindingKind::MissingAssumeRole,
            format!("The policy does not allow {action}, which EKS Auth calls to get credentials for the pods."),
            format!("{change}."),
        ),
        (_, CheckedRole::TargetRole) => (
            FindingKind::MissingAssumeRole,
            format!("The target role's policy does not allow {action}, which EKS calls with the association role's session to reach the target role."),
            format!("{change}."),
        ),
    };
    Finding {
        severity: Severity::Error,
        role: subject.role,
        kind,
        problem,
        fix: Some(fix),
    }
}

fn principal_finding(policy: &PolicyDocument, subject: &Subject) -> Finding {
    let trusted = trusted_principals(policy);
    let trusted = if trusted.is_empty() {
        "nobody (no Allow statement names a principal)".to_owned()
    } else {
        trusted.join(", ")
    };
    let who = match subject.role {
        CheckedRole::Role => format!("the service principal {POD_IDENTITY_SERVICE_PRINCIPAL}"),
        CheckedRole::TargetRole => format!("the association's role ({})", subject.principal),
    };
    let mut problem = format!("No Allow statement trusts {who}; the policy trusts {trusted}.");
    if subject.role == CheckedRole::Role && looks_like_irsa(policy) {
        problem.push_str(
            " This is an IRSA (IAM roles for service accounts) trust policy: pod identity does not use the cluster's OIDC provider.",
        );
    }
    let mut fix = format!(
        "Add a statement with \"Principal\": {} and \"Action\": [\"sts:AssumeRole\", \"sts:TagSession\"]",
        subject.principal_hint
    );
    match subject.role {
        CheckedRole::Role => fix.push_str(&format!(
            "; `pia trust generate --cluster-arn {}` prints a complete policy.",
            subject.cluster
        )),
        CheckedRole::TargetRole => {
            fix.push_str(", with an sts:ExternalId condition; `pia trust target` prints a complete policy.")
        }
    }
    Finding {
        severity: Severity::Error,
        role: subject.role,
        kind: FindingKind::PrincipalNotTrusted,
        problem,
        fix: Some(fix),
    }
}

fn trusted_principals(policy: &PolicyDocument) -> Vec<String> {
    let mut names = Vec::new();
    for statement in policy.statements.iter().filter(|s| s.effect == Effect::Allow) {
        match statement.principal.as_ref() {
            Some(element) if element.negated => names.push("everyone but its NotPrincipal".to_owned()),
            Some(element) => match &element.principals {
                Principals::Everyone => names.push("everyone (\"*\")".to_owned()),
                Principals::Typed(entries) => {
                    for (kind, values) in entries {
                        names.extend(values.iter().map(|value| format!("{} {value}", kind.as_str())));
                    }
                }
            },
            None => {}
        }
    }
    names.dedup();
    names
}

fn looks_like_irsa(policy: &PolicyDocument) -> bool {
    policy.statements.iter().any(|statement| {
        statement.action.actions.iter().any(|a| a.eq_ignore_ascii_case("sts:AssumeRoleWithWebIdentity"))
            || matches!(&statement.principal, Some(element) if matches!(&element.principals, Principals::Typed(entries)
                if entries.iter().any(|(kind, values)| *kind == PrincipalType::Federated && values.iter().any(|v| v.contains("oidc-provider")))))
    })
}

fn condition_finding(policy: &PolicyDocument, subject: &Subject, index: usize, condition: &ConditionTrace) -> Finding {
    let label = policy.statements[index].label(index);
    let described = condition.describe();
    let key = condition.key.to_ascii_lowercase();
    let cluster = &subject.cluster;
    let role = subject.role;
    if condition.outcome == ConditionOutcome::Unsupported {
        return Finding {
            severity: Severity::Warning,
            role,
            kind: FindingKind::UnsupportedCondition,
            problem: format!("In {label}, {described}, so the check cannot tell whether EKS will be allowed."),
            fix: Some(format!(
                "Check the {} condition on {} by hand.",
                condition.operator, condition.key
            )),
        };
    }
    let (kind, problem, fix) = match key.as_str() {
        "aws:sourceaccount" => (
            FindingKind::SourceAccountMismatch,
            format!(
                "{} does not admit this cluster: {described}. EKS sends the cluster's account {} as aws:SourceAccount.",
                capitalize(&label),
                cluster.account_id()
            ),
            format!(
                "Set aws:SourceAccount to \"{}\" in {label}, or use the role with a cluster of the account it names.",
                cluster.account_id()
            ),
        ),
        "aws:sourcearn" => (
            FindingKind::SourceArnMismatch,
            format!(
                "{} does not admit this cluster: {described}. EKS sends the cluster's ARN as aws:SourceArn.",
                capitalize(&label)
            ),
            format!(
                "Set aws:SourceArn to \"{cluster}\" in {label} (or, to admit every cluster of the account, use ArnLike with \"arn:{}:eks:{}:{}:cluster/*\").",
                cluster.partition(),
                cluster.region(),
                cluster.account_id()
            ),
        ),
        "sts:externalid" => (
            FindingKind::ExternalIdMismatch,
            format!(
                "{} does not admit the association's ExternalId: {described}.",
                capitalize(&label)
            ),
            "Set sts:ExternalId in the target role's trust policy to the association's ExternalId.".to_owned(),
        ),
        _ => {
            let fix = if condition.actual.is_none() {
                format!(
                    "EKS does not send {} in this request: remove the condition, or use {}IfExists if it is meant for other callers.",
                    condition.key, condition.operator
                )
            } else {
                format!(
                    "Change or remove the {} condition on {} in {label} so that it admits what EKS sends.",
                    condition.operator, condition.key
                )
            };
            (FindingKind::ConditionNotMet, format!("In {label}, {described}."), fix)
        }
    };
    Finding {
        severity: Severity::Error,
        role,
        kind,
        problem,
        fix: Some(fix),
    }
}

/// Structural problems IAM itself would refuse, and documents that are merely risky.
fn structure_findings(report: &mut Report, policy: &PolicyDocument, subject: &Subject) {
    let role = subject.role;
    if !policy.unknown_elements.is_empty() {
        report.add(Finding {
            severity: Severity::Error,
            role,
            kind: FindingKind::UnknownElement,
            problem: format!(
                "The policy has top-level elements IAM does not define ({}); IAM refuses such a policy (MalformedPolicyDocument).",
                policy.unknown_elements.join(", ")
            ),
            fix: Some("Remove them; a policy has only Version, Id and Statement.".to_owned()),
        });
    }
    for (index, statement) in policy.statements.iter().enumerate() {
        let label = statement.label(index);
        if !statement.unknown_elements.is_empty() {
            report.add(Finding {
                severity: Severity::Error,
                role,
                kind: FindingKind::UnknownElement,
                problem: format!(
                    "{} has elements IAM does not define ({}); IAM refuses such a policy (MalformedPolicyDocument).",
                    capitalize(&label),
                    statement.unknown_elements.join(", ")
                ),
                fix: Some("Remove them; a Sid can carry a short description.".to_owned()),
            });
        }
        if let Some(resource) = &statement.resource {
            let name = if resource.negated { "NotResource" } else { "Resource" };
            report.add(Finding {
                severity: Severity::Error,
                role,
                kind: FindingKind::ProhibitedElement,
                problem: format!(
                    "{} has a {name} element; IAM refuses it in a role trust policy, whose resource is the role itself.",
                    capitalize(&label)
                ),
                fix: Some(format!("Remove the {name} element.")),
            });
        }
        match &statement.principal {
            None => report.add(Finding {
                severity: Severity::Error,
                role,
                kind: FindingKind::MissingPrincipal,
                problem: format!(
                    "{} has no Principal; IAM requires one in every statement of a role trust policy.",
                    capitalize(&label)
                ),
                fix: Some(format!("Add \"Principal\": {}.", subject.principal_hint)),
            }),
            Some(element) if element.negated => report.add(Finding {
                severity: Severity::Warning,
                role,
                kind: FindingKind::NotPrincipal,
                problem: format!(
                    "{} uses NotPrincipal, which IAM does not support in role trust policies.",
                    capitalize(&label)
                ),
                fix: Some(format!("Use \"Principal\": {} instead.", subject.principal_hint)),
            }),
            Some(_) => {}
        }
    }
    let length = policy.to_pretty_json().chars().filter(|c| !c.is_whitespace()).count();
    if length > TRUST_POLICY_DEFAULT_QUOTA {
        report.add(Finding {
            severity: Severity::Warning,
            role,
            kind: FindingKind::PolicyTooLarge,
            problem: format!(
                "The policy has {length} characters (without whitespace); IAM's default quota for a role trust policy is {TRUST_POLICY_DEFAULT_QUOTA}."
            ),
            fix: Some("Shorten it, or ask for a higher \"Role trust policy length\" quota (up to 8,192).".to_owned()),
        });
    }
}

/// Risks of a policy that works: who else may use the role.
fn safety_findings(report: &mut Report, policy: &PolicyDocument, subject: &Subject, allowing: usize) {
    let Some(statement) = policy.statements.get(allowing) else {
        return;
    };
    let label = statement.label(allowing);
    let role = subject.role;
    let trusts_everyone = statement
        .principal
        .as_ref()
        .is_some_and(|element| match &element.principals {
            Principals::Everyone => true,
            Principals::Typed(entries) => entries
                .iter()
                .any(|(kind, values)| *kind == PrincipalType::Aws && values.iter().any(|v| v == "*")),
        });
    if trusts_everyone {
        report.add(Finding {
            severity: Severity::Warning,
            role,
            kind: FindingKind::TrustsEveryone,
            problem: format!(
                "{} trusts every principal (\"*\"): anyone who meets its conditions can assume the role, not only {}.",
                capitalize(&label),
                subject.principal
            ),
            fix: Some(format!("Set its Principal to {}.", subject.principal_hint)),
        });
    }
    // A Deny statement testing the key protects as well as the Allow statement testing it.
    let guarded = |key: &str| {
        statement.tests_key(key)
            || policy
                .statements
                .iter()
                .any(|s| s.effect == Effect::Deny && s.tests_key(key))
    };
    let cluster = &subject.cluster;
    match role {
        CheckedRole::Role => {
            let (account, arn) = (guarded("aws:SourceAccount"), guarded("aws:SourceArn"));
            if !account && !arn {
                report.add(Finding {
                    severity: Severity::Warning,
                    role,
                    kind: FindingKind::NoSourceConditions,
                    problem: format!(
                        "{} has no aws:SourceAccount or aws:SourceArn condition: any EKS cluster whose administrators may pass this role can use it (the confused deputy problem).",
                        capitalize(&label)
                    ),
                    fix: Some(format!(
                        "Add \"Condition\": {{\"StringEquals\": {{\"aws:SourceAccount\": \"{}\"}}, \"ArnEquals\": {{\"aws:SourceArn\": \"{cluster}\"}}}} to {label}.",
                        cluster.account_id()
                    )),
                });
            } else if !arn {
                report.add(Finding {
                    severity: Severity::Info,
                    role,
                    kind: FindingKind::NoSourceArnCondition,
                    problem: format!(
                        "{} limits the role to clusters of one account, but not to one cluster.",
                        capitalize(&label)
                    ),
                    fix: Some(format!(
                        "Add \"ArnEquals\": {{\"aws:SourceArn\": \"{cluster}\"}} to its Condition."
                    )),
                });
            }
        }
        CheckedRole::TargetRole => {
            if !guarded("sts:ExternalId") {
                report.add(Finding {
                    severity: Severity::Warning,
                    role,
                    kind: FindingKind::NoExternalIdCondition,
                    problem: format!(
                        "{} has no sts:ExternalId condition: the association's role can assume the target role outside this association too.",
                        capitalize(&label)
                    ),
                    fix: Some(format!(
                        "Add \"Condition\": {{\"StringEquals\": {{\"sts:ExternalId\": \"<the association's ExternalId>\"}}}} to {label}."
                    )),
                });
            }
        }
    }
}

/// Remarks on conditions tested against placeholders.
fn placeholder_findings(report: &mut Report, policy: &PolicyDocument, subject: &Subject) {
    if subject.disable_session_tags {
        return;
    }
    for (index, statement) in policy.statements.iter().enumerate() {
        for (key, placeholder) in &subject.placeholders {
            if statement.tests_key(key) {
                report.add(Finding {
                    severity: Severity::Info,
                    role: subject.role,
                    kind: FindingKind::PlaceholderValue,
                    problem: format!(
                        "{} tests {key}, whose value depends on the pod or association; the check used {placeholder:?}.",
                        capitalize(&statement.label(index))
                    ),
                    fix: Some("Give the association's namespace and service account to check their real values; pod names and UIDs differ per pod.".to_owned()),
                });
            }
        }
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[derive(Default)]
struct Report {
    verdicts: Vec<Verdict>,
    findings: Vec<Finding>,
}

impl Report {
    /// Adds a finding unless the same one is there already (both actions often fail for one reason).
    fn add(&mut self, finding: Finding) {
        if !self.findings.contains(&finding) {
            self.findings.push(finding);
        }
    }

    fn finish(mut self, input: &CheckInput) -> TrustReport {
        self.findings.sort_by_key(|finding| finding.severity);
        let will_work = self.verdicts.iter().all(|verdict| verdict.decision == Decision::Allow)
            && self.findings.iter().all(|finding| finding.severity != Severity::Error);
        TrustReport {
            will_work,
            cluster_arn: input.cluster_arn.to_string(),
            disable_session_tags: input.disable_session_tags,
            verdicts: self.verdicts,
            findings: self.findings,
        }
    }
}

impl fmt::Display for TrustReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let errors = self
            .findings
            .iter()
            .filter(|finding| finding.severity == Severity::Error)
            .count();
        if self.will_work {
            writeln!(f, "Pods will get credentials: the trust policy allows what EKS asks.")?;
        } else if errors > 0 {
            writeln!(
                f,
                "Pods will NOT get credentials: {errors} problem{} to fix.",
                if errors == 1 { "" } else { "s" }
            )?;
        } else {
            writeln!(
                f,
                "Pods will NOT get credentials: EKS's request is not allowed (see below)."
            )?;
        }
        let tags = if self.disable_session_tags { "off" } else { "on" };
        writeln!(f, "Cluster: {} (session tags {tags})", self.cluster_arn)?;
        writeln!(f)?;
        writeln!(f, "What EKS asks:")?;
        for verdict in &self.verdicts {
            writeln!(
                f,
                "  {} {}: {} ({})",
                verdict.role, verdict.action, verdict.decision, verdict.reason
            )?;
        }
        if !self.findings.is_empty() {
            writeln!(f)?;
            writeln!(f, "Findings:")?;
            for finding in &self.findings {
                writeln!(f, "  {} [{}] {}", finding.severity, finding.role, finding.problem)?;
                if let Some(fix) = &finding.fix {
                    writeln!(f, "      fix: {fix}")?;
                }
            }
        }
        Ok(())
    }
}
