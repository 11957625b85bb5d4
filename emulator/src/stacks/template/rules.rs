//! Rules: assertions on the parameter values, checked before a stack is created or updated. A rule
//! whose RuleCondition is false is skipped; a false assertion fails with its AssertDescription.

use serde_json::Value;

use super::conditions::{Conditions, Section, TruthEvaluator, static_context};
use super::error::TemplateError;
use super::intrinsics::PseudoParameters;
use super::parameters::Parameters;
use super::template::Template;

/// One rule as declared.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RuleDecl {
    pub(crate) name: String,
    condition: Option<Value>,
    assertions: Vec<Assertion>,
}

#[derive(Debug, Clone, PartialEq)]
struct Assertion {
    assert: Value,
    description: Option<String>,
}

impl RuleDecl {
    pub(super) fn from_template(name: &str, declaration: &Value) -> Result<Self, TemplateError> {
        let malformed = || TemplateError::Format(format!("Every Rules member {name} must contain an Assertions list"));
        let declaration = declaration.as_object().ok_or_else(malformed)?;
        let assertions = declaration
            .get("Assertions")
            .and_then(Value::as_array)
            .ok_or_else(malformed)?
            .iter()
            .map(|assertion| {
                let assertion = assertion.as_object().ok_or_else(malformed)?;
                Ok(Assertion {
                    assert: assertion.get("Assert").ok_or_else(malformed)?.clone(),
                    description: assertion
                        .get("AssertDescription")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                })
            })
            .collect::<Result<_, TemplateError>>()?;
        Ok(Self {
            name: name.to_owned(),
            condition: declaration.get("RuleCondition").cloned(),
            assertions,
        })
    }
}

/// Checks every rule of `template` against a stack's parameters.
pub(crate) fn check_rules(
    template: &Template,
    parameters: &Parameters,
    pseudo: &PseudoParameters,
) -> Result<(), TemplateError> {
    let no_conditions = Conditions::default();
    let context = static_context(template, parameters, pseudo, &no_conditions);
    let mut evaluator = TruthEvaluator::new(Section::Rules, template, &context);
    for rule in template.rules() {
        if let Some(condition) = &rule.condition
            && !evaluator.truth(condition)?
        {
            continue;
        }
        for assertion in &rule.assertions {
            if !evaluator.truth(&assertion.assert)? {
                return Err(TemplateError::RuleFailed(
                    assertion
                        .description
                        .clone()
                        .unwrap_or_else(|| format!("Assertion of rule {} failed", rule.name)),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::stacks::template::parameters::resolve_parameters;
    use crate::stacks::template::test_support::pseudo;

    const TEMPLATE: &str = r#"
Parameters:
  Env: {Type: String}
  Size: {Type: String, Default: small}
  Subnets: {Type: CommaDelimitedList, Default: "a,b"}
Rules:
  ProdIsLarge:
    RuleCondition: !Equals [!Ref Env, prod]
    Assertions:
      - Assert: !Equals [!Ref Size, large]
        AssertDescription: Production stacks must be large
  KnownSubnets:
    Assertions:
      - Assert: !EachMemberIn [!Ref Subnets, [a, b, c]]
      - Assert: !Not [!EachMemberEquals [!Ref Subnets, c]]
        AssertDescription: not only c
Resources:
  A: {Type: T}
"#;

    fn check(given: &[(&str, &str)]) -> Result<(), TemplateError> {
        let template = Template::parse(TEMPLATE).unwrap();
        let given: BTreeMap<String, String> = given.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let parameters = resolve_parameters(&template, &given, &|_| None).unwrap();
        check_rules(&template, &parameters, &pseudo())
    }

    #[test]
    fn a_rule_applies_only_when_its_condition_holds() {
        assert_eq!(check(&[("Env", "dev")]), Ok(()));
        assert_eq!(check(&[("Env", "prod"), ("Size", "large")]), Ok(()));
        assert_eq!(
            check(&[("Env", "prod")]).unwrap_err().to_string(),
            "Template error: Production stacks must be large"
        );
    }

    #[test]
    fn member_functions_check_lists() {
        assert_eq!(
            check(&[("Env", "dev"), ("Subnets", "a,z")]).unwrap_err().to_string(),
            "Template error: Assertion of rule KnownSubnets failed"
        );
        assert_eq!(
            check(&[("Env", "dev"), ("Subnets", "c,c")]).unwrap_err().to_string(),
            "Template error: not only c"
        );
    }
}
