//! `pia trust check --template`: every pod identity association of a CloudFormation template against the
//! trust policy of the template's role it uses, the template resolved by the emulator's template layer.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use pia_emulator::{StackPlace, TemplateAssociation, TemplateRole, TemplateValue, pod_identity_associations};
use pia_trust::{CheckInput, ClusterArn, PolicyDocument, RoleArn, TargetRoleInput, TrustReport, check_trust};
use serde::Serialize;
use serde_json::Value;

use super::{EXIT_FAILED, Failure, read_text};

/// One association's outcome.
#[derive(Serialize)]
struct AssociationCheck {
    logical_id: String,
    /// What the check assumed or could not know.
    notes: Vec<String>,
    /// The report, when the association could be checked.
    report: Option<TrustReport>,
    /// Why it could not be checked.
    not_checked: Option<String>,
}

pub(super) fn check_template(
    path: &Path,
    parameters: &[String],
    cluster: &ClusterArn,
    json: bool,
) -> Result<ExitCode, Failure> {
    let (what, body) = read_text(path)?;
    let place = StackPlace {
        account_id: cluster.account_id().to_owned(),
        region: cluster.region().to_owned(),
        partition: cluster.partition().to_owned(),
        stack_name: path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .filter(|stem| *stem != "-")
            .unwrap_or("stack")
            .to_owned(),
    };
    let associations = pod_identity_associations(&body, &parameter_values(parameters)?, &place)
        .map_err(|e| Failure::input(format!("{what}: {e}")))?;
    if associations.is_empty() {
        return Err(Failure::input(format!(
            "{what} has no AWS::EKS::PodIdentityAssociation (whose condition holds)"
        )));
    }
    let checks: Vec<AssociationCheck> = associations
        .iter()
        .map(|association| check_association(association, cluster))
        .collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&checks).unwrap_or_default());
    } else {
        print_checks(&checks);
    }
    let all_work = checks
        .iter()
        .all(|check| check.report.as_ref().is_some_and(|report| report.will_work));
    Ok(if all_work {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILED)
    })
}

/// `KEY=VALUE` pairs.
fn parameter_values(pairs: &[String]) -> Result<BTreeMap<String, String>, Failure> {
    pairs
        .iter()
        .map(|pair| {
            pair.split_once('=')
                .map(|(key, value)| (key.to_owned(), value.to_owned()))
                .ok_or_else(|| Failure::input(format!("--parameter {pair:?}: expected KEY=VALUE")))
        })
        .collect()
}

fn check_association(association: &TemplateAssociation, default_cluster: &ClusterArn) -> AssociationCheck {
    let mut notes = Vec::new();
    let outcome = association_input(association, default_cluster, &mut notes)
        .and_then(|(policy, input)| check_trust(&policy, &input).map_err(|e| e.to_string()));
    let (report, not_checked) = match outcome {
        Ok(report) => (Some(report), None),
        Err(reason) => (None, Some(reason)),
    };
    AssociationCheck {
        logical_id: association.logical_id.clone(),
        notes,
        report,
        not_checked,
    }
}

/// The role's trust policy and what the check is told about the association, or why it cannot be checked.
fn association_input(
    association: &TemplateAssociation,
    default_cluster: &ClusterArn,
    notes: &mut Vec<String>,
) -> Result<(PolicyDocument, CheckInput), String> {
    let property = |name: &str| association.properties.get(name);
    let cluster_arn = match property("ClusterName") {
        Some(TemplateValue::Resolved(Value::String(name))) => format!(
            "arn:{}:eks:{}:{}:cluster/{name}",
            default_cluster.partition(),
            default_cluster.region(),
            default_cluster.account_id()
        )
        .parse::<ClusterArn>()
        .map_err(|e| format!("ClusterName {name:?}: {e}"))?,
        other => {
            notes.push(format!(
                "ClusterName {}: checked for {default_cluster}",
                describe(other)
            ));
            default_cluster.clone()
        }
    };
    let mut text_of = |name: &str| match property(name) {
        Some(TemplateValue::Resolved(Value::String(text))) => Some(text.clone()),
        other => {
            notes.push(format!(
                "{name} {}: conditions on it are checked with a placeholder",
                describe(other)
            ));
            None
        }
    };
    let (namespace, service_account) = (text_of("Namespace"), text_of("ServiceAccount"));
    let disable_session_tags = match property("DisableSessionTags") {
        None => false,
        Some(TemplateValue::Resolved(Value::Bool(flag))) => *flag,
        // Templates often give booleans as strings.
        Some(TemplateValue::Resolved(Value::String(text))) if text == "true" || text == "false" => text == "true",
        other => return Err(format!("DisableSessionTags {}", describe(other))),
    };
    let role_arn = match property("RoleArn") {
        Some(TemplateValue::Resolved(Value::String(arn))) => {
            Some(arn.parse::<RoleArn>().map_err(|e| format!("RoleArn: {e}"))?)
        }
        other => {
            notes.push(format!("RoleArn {}", describe(other)));
            None
        }
    };
    let policy = match &association.role {
        Some(role) => role_policy(role)?,
        None => {
            let hint = role_arn.as_ref().map_or_else(
                || "give it to `pia trust check`".to_owned(),
                |arn| format!("check it with `pia trust check --role-name {}`", arn.name()),
            );
            return Err(format!(
                "its role is not an AWS::IAM::Role of the template, so its trust policy is not known here: {hint}"
            ));
        }
    };
    let target = match property("TargetRoleArn") {
        None => None,
        Some(TemplateValue::Resolved(Value::String(arn))) => Some(TargetRoleInput {
            target_role_arn: arn.parse().map_err(|e| format!("TargetRoleArn: {e}"))?,
            trust_policy: association.target_role.as_ref().map(role_policy).transpose()?,
            external_id: None,
        }),
        other => return Err(format!("TargetRoleArn {}", describe(other))),
    };
    Ok((
        policy,
        CheckInput {
            cluster_arn,
            disable_session_tags,
            namespace,
            service_account,
            role_arn,
            target,
        },
    ))
}

/// The trust policy a template's role declares.
fn role_policy(role: &TemplateRole) -> Result<PolicyDocument, String> {
    let read = match &role.trust_policy {
        TemplateValue::Resolved(Value::String(text)) => PolicyDocument::parse(text),
        TemplateValue::Resolved(document) => PolicyDocument::from_value(document),
        unresolved => {
            return Err(format!(
                "the AssumeRolePolicyDocument of {} {}",
                role.logical_id,
                describe(Some(unresolved))
            ));
        }
    };
    read.map_err(|e| format!("the AssumeRolePolicyDocument of {}: {e}", role.logical_id))
}

/// What a property is, when it is not the string expected.
fn describe(value: Option<&TemplateValue>) -> String {
    match value {
        None => "is not given".to_owned(),
        Some(TemplateValue::Resolved(value)) => format!("is {value}, which is not valid here"),
        Some(TemplateValue::Unresolved { expression, reason }) if expression.is_empty() => {
            format!("cannot be resolved: {reason}")
        }
        Some(TemplateValue::Unresolved { expression, reason }) => {
            format!("{expression} cannot be resolved: {reason}")
        }
    }
}

fn print_checks(checks: &[AssociationCheck]) {
    for check in checks {
        println!("== {}", check.logical_id);
        for note in &check.notes {
            println!("note: {note}");
        }
        match (&check.report, &check.not_checked) {
            (Some(report), _) => print!("{report}"),
            (None, Some(reason)) => println!("Not checked: {reason}."),
            (None, None) => {}
        }
        println!();
    }
    let working = checks
        .iter()
        .filter(|check| check.report.as_ref().is_some_and(|report| report.will_work))
        .count();
    let unchecked = checks.iter().filter(|check| check.report.is_none()).count();
    println!(
        "{} association{}: {working} will get credentials, {} will not, {unchecked} not checked.",
        checks.len(),
        if checks.len() == 1 { "" } else { "s" },
        checks.len() - working - unchecked
    );
}
