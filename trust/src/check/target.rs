//! The target role of cross-account role chaining: the association role's session asks it, with the
//! association's `ExternalId`.

use super::check_role;
use super::input::{CheckError, CheckInput, TargetRoleInput};
use super::report::{CheckedRole, Finding, FindingKind, Report, Severity};
use super::subject::{association_role_session, target_role_subject};
use crate::evaluate::{RequestContext, RequestPrincipal, StatementOutcome, evaluate};
use crate::policy::{Effect, OperatorKind, PolicyDocument, Statement};

/// Checks the target role's trust policy against the association role's session, or notes it was not given.
pub(super) fn check_target(
    report: &mut Report,
    input: &CheckInput,
    target: &TargetRoleInput,
) -> Result<(), CheckError> {
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
    let principal = association_role_session(input, role_arn);

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
    let subject = target_role_subject(input, role_arn, principal, external_id);
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
