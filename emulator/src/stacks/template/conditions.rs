//! Conditions: each evaluated once, from parameters, pseudo parameters, mappings and other conditions;
//! and the truth functions they share with Rules (`Fn::And`, `Fn::Or`, `Fn::Not`, `Fn::Equals`, and in
//! Rules `Fn::Contains`, `Fn::EachMemberEquals`, `Fn::EachMemberIn`).

use std::collections::BTreeMap;

use serde_json::Value;

use super::error::{TemplateError, name_list};
use super::intrinsics::{EvalContext, NoResources, PseudoParameters, resolve};
use super::parameters::Parameters;
use super::template::{Template, scalar_string};

/// The truth of each condition of a stack.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Conditions {
    values: BTreeMap<String, bool>,
}

impl Conditions {
    pub(crate) fn get(&self, name: &str) -> Option<bool> {
        self.values.get(name).copied()
    }

    /// Whether a resource or output with this `Condition` attribute exists.
    pub(crate) fn allows(&self, condition: Option<&str>) -> Result<bool, TemplateError> {
        match condition {
            None => Ok(true),
            Some(name) => self
                .get(name)
                .ok_or_else(|| TemplateError::UndefinedCondition(name.to_owned())),
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, bool)> {
        self.values.iter().map(|(name, value)| (name.as_str(), *value))
    }
}

/// Evaluates every condition of `template` for a stack's parameters.
pub(crate) fn evaluate_conditions(
    template: &Template,
    parameters: &Parameters,
    pseudo: &PseudoParameters,
) -> Result<Conditions, TemplateError> {
    let no_conditions = Conditions::default();
    let context = static_context(template, parameters, pseudo, &no_conditions);
    let mut evaluator = TruthEvaluator::new(Section::Conditions, template, &context);
    for name in template.conditions().keys() {
        evaluator.condition(name)?;
    }
    Ok(Conditions {
        values: evaluator.values,
    })
}

/// What Conditions and Rules may refer to: parameters, pseudo parameters and mappings, no resource.
pub(super) fn static_context<'a>(
    template: &'a Template,
    parameters: &'a Parameters,
    pseudo: &'a PseudoParameters,
    conditions: &'a Conditions,
) -> EvalContext<'a> {
    EvalContext {
        pseudo,
        parameters,
        conditions,
        mappings: template.mappings(),
        resources: &NoResources,
        imports: &|_| None,
        azs: &[],
    }
}

/// Where a truth function is written: each section allows its own functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Section {
    Conditions,
    Rules,
}

/// Evaluates truth functions; in Conditions, each named condition once.
pub(super) struct TruthEvaluator<'a> {
    section: Section,
    template: &'a Template,
    context: &'a EvalContext<'a>,
    values: BTreeMap<String, bool>,
    in_progress: Vec<String>,
}

impl<'a> TruthEvaluator<'a> {
    pub(super) fn new(section: Section, template: &'a Template, context: &'a EvalContext<'a>) -> Self {
        Self {
            section,
            template,
            context,
            values: BTreeMap::new(),
            in_progress: Vec::new(),
        }
    }

    fn condition(&mut self, name: &str) -> Result<bool, TemplateError> {
        if let Some(value) = self.values.get(name) {
            return Ok(*value);
        }
        if let Some(start) = self.in_progress.iter().position(|open| open == name) {
            return Err(TemplateError::CircularConditions(name_list(
                self.in_progress[start..].iter().map(String::as_str),
            )));
        }
        let declaration = self
            .template
            .conditions()
            .get(name)
            .ok_or_else(|| TemplateError::UndefinedCondition(name.to_owned()))?;
        self.in_progress.push(name.to_owned());
        let value = self.truth(declaration)?;
        self.in_progress.pop();
        self.values.insert(name.to_owned(), value);
        Ok(value)
    }

    /// The truth of a function (or of the literal `true` / `false`).
    pub(super) fn truth(&mut self, expression: &Value) -> Result<bool, TemplateError> {
        let not_boolean = || {
            TemplateError::InvalidFunction(
                "Conditions can only be boolean operations on parameters and other conditions".to_owned(),
            )
        };
        let call = match expression {
            Value::Bool(value) => return Ok(*value),
            Value::String(text) if text == "true" || text == "false" => return Ok(text == "true"),
            Value::Object(members) => members.iter().next().filter(|_| members.len() == 1),
            _ => None,
        };
        let (name, argument) = call.ok_or_else(not_boolean)?;
        let arguments = argument.as_array().map(Vec::as_slice);
        match (self.section, name.as_str(), arguments) {
            (Section::Conditions, "Condition", _) => {
                let name = argument.as_str().ok_or_else(not_boolean)?;
                self.condition(name)
            }
            (_, "Fn::And" | "Fn::Or", Some(operands)) if (2..=10).contains(&operands.len()) => {
                let mut values = Vec::with_capacity(operands.len());
                for operand in operands {
                    values.push(self.truth(operand)?);
                }
                Ok(if name == "Fn::And" {
                    values.iter().all(|v| *v)
                } else {
                    values.iter().any(|v| *v)
                })
            }
            (_, "Fn::And" | "Fn::Or", _) => Err(TemplateError::InvalidFunction(format!(
                "every {name} object requires a list of at least 2 and at most 10 boolean parameters."
            ))),
            (_, "Fn::Not", Some([operand])) => Ok(!self.truth(operand)?),
            (_, "Fn::Not", _) => Err(TemplateError::InvalidFunction(
                "every Fn::Not object requires a list of 1 boolean parameter.".to_owned(),
            )),
            (_, "Fn::Equals", Some([left, right])) => Ok(self.comparable(left)? == self.comparable(right)?),
            (_, "Fn::Equals", _) => Err(TemplateError::InvalidFunction(
                "every Fn::Equals object requires a list of 2 string parameters.".to_owned(),
            )),
            (Section::Rules, "Fn::Contains", Some([list, value])) => {
                let value = self.comparable(value)?;
                Ok(self.members(list, name)?.contains(&value))
            }
            (Section::Rules, "Fn::EachMemberEquals", Some([list, value])) => {
                let value = self.comparable(value)?;
                Ok(self.members(list, name)?.iter().all(|member| *member == value))
            }
            (Section::Rules, "Fn::EachMemberIn", Some([list, allowed])) => {
                let allowed = self.members(allowed, name)?;
                Ok(self.members(list, name)?.iter().all(|member| allowed.contains(member)))
            }
            (Section::Rules, "Fn::Contains" | "Fn::EachMemberEquals" | "Fn::EachMemberIn", _) => Err(
                TemplateError::InvalidFunction(format!("every {name} object requires two parameters.")),
            ),
            (Section::Rules, "Fn::RefAll" | "Fn::ValueOf" | "Fn::ValueOfAll", _) => {
                Err(TemplateError::InvalidFunction(format!(
                    "{name} needs the account's resources, which are not known here"
                )))
            }
            _ => Err(not_boolean()),
        }
    }

    /// A value to compare: resolved, with numbers and booleans as their text (CloudFormation compares
    /// strings: `true` equals `"true"`).
    fn comparable(&self, value: &Value) -> Result<Value, TemplateError> {
        Ok(as_strings(resolve(value, self.context)?))
    }

    /// A list argument's members, each comparable.
    fn members(&self, list: &Value, function: &str) -> Result<Vec<Value>, TemplateError> {
        match self.comparable(list)? {
            Value::Array(members) => Ok(members),
            _ => Err(TemplateError::InvalidFunction(format!(
                "every {function} object requires a list of strings as its first parameter."
            ))),
        }
    }
}

fn as_strings(value: Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.into_iter().map(as_strings).collect()),
        scalar @ (Value::Number(_) | Value::Bool(_)) => scalar_string(&scalar).map_or(scalar, Value::String),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::stacks::template::{resolve_parameters, test_support::pseudo};

    fn conditions(conditions: &str, given: &[(&str, &str)]) -> Result<Conditions, TemplateError> {
        let body = format!(
            "Parameters:\n  Env: {{Type: String, Default: dev}}\n  Count: {{Type: Number, Default: 2}}\nMappings:\n  Sizes: {{dev: {{Big: false}}, prod: {{Big: true}}}}\nConditions:\n{conditions}Resources:\n  A: {{Type: T}}\n"
        );
        let template = Template::parse(&body)?;
        let given: BTreeMap<String, String> = given.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let parameters = resolve_parameters(&template, &given, &|_| None)?;
        evaluate_conditions(&template, &parameters, &pseudo())
    }

    #[test]
    fn conditions_combine_parameters_mappings_and_other_conditions() {
        let body = "  IsProd: !Equals [!Ref Env, prod]\n  IsBig: !Equals [!FindInMap [Sizes, !Ref Env, Big], true]\n  TwoOf: !Equals [2, !Ref Count]\n  InEurope: !Equals [!Select [0, !Split ['-', !Ref AWS::Region]], eu]\n  Either: !Or [!Condition IsProd, !Condition InEurope]\n  Neither: !Not [!Condition Either]\n  All: !And [!Condition IsBig, !Condition TwoOf, !Condition Either]\n";
        let dev = conditions(body, &[]).unwrap();
        let truth: Vec<(&str, bool)> = dev.iter().collect();
        assert_eq!(
            truth,
            [
                ("All", false),
                ("Either", true),
                ("InEurope", true),
                ("IsBig", false),
                ("IsProd", false),
                ("Neither", false),
                ("TwoOf", true)
            ]
        );
        let prod = conditions(body, &[("Env", "prod")]).unwrap();
        assert_eq!((prod.get("IsProd"), prod.get("All")), (Some(true), Some(true)));
        assert_eq!(prod.allows(Some("Neither")), Ok(false));
        assert_eq!(prod.allows(None), Ok(true));
    }

    #[test]
    fn malformed_and_circular_conditions_are_refused() {
        assert_eq!(
            conditions("  A: !Condition B\n  B: !Not [!Condition A]\n", &[])
                .unwrap_err()
                .to_string(),
            "Template format error: Circular dependency between conditions: [A, B]"
        );
        assert_eq!(
            conditions("  A: !Equals [a]\n", &[]).unwrap_err().to_string(),
            "Template error: every Fn::Equals object requires a list of 2 string parameters."
        );
        assert_eq!(
            conditions("  A: !And [!Equals [a, a]]\n", &[]).unwrap_err().to_string(),
            "Template error: every Fn::And object requires a list of at least 2 and at most 10 boolean parameters."
        );
        assert_eq!(
            conditions("  A: !Ref Env\n", &[]).unwrap_err().to_string(),
            "Template error: Conditions can only be boolean operations on parameters and other conditions"
        );
    }
}
