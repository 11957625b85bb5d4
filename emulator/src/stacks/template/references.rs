//! What a template value refers to (Ref, Fn::GetAtt, Fn::Sub variables, Fn::If conditions, mappings),
//! and the check, at parse time, that every such name is declared.

use std::collections::BTreeSet;

use serde_json::Value;

use super::conditions::Conditions;
use super::dependencies::dependency_graph;
use super::error::{TemplateError, name_list};
use super::intrinsics::{CONDITION_FUNCTIONS, VALUE_FUNCTIONS, get_att_target, is_pseudo_parameter, sub_arguments};
use super::sub::sub_variables;
use super::template::Template;

/// The names one value refers to.
#[derive(Debug, Default)]
pub(super) struct References {
    /// `Ref` targets and plain `Fn::Sub` variables: parameters, pseudo parameters or resources.
    pub(super) refs: BTreeSet<String>,
    /// Resources of `Fn::GetAtt` and of `${Resource.Attribute}` variables.
    pub(super) get_atts: BTreeSet<String>,
    /// Conditions of `Fn::If`, and in Conditions those of `Condition`.
    pub(super) conditions: BTreeSet<String>,
    /// Mappings named literally by `Fn::FindInMap`.
    pub(super) mappings: BTreeSet<String>,
    /// Whether the value is a condition's, where `{"Condition": name}` names another condition (elsewhere
    /// it is a property named Condition).
    in_conditions: bool,
}

impl References {
    /// The references of `value`. With `conditions`, `Fn::If` is followed only into the branch taken
    /// (a reference in the other branch may name a resource that does not exist); without, into both.
    pub(super) fn of(value: &Value, conditions: Option<&Conditions>) -> Result<Self, TemplateError> {
        let mut references = Self::default();
        references.collect(value, conditions)?;
        Ok(references)
    }

    /// The references of a condition's declaration.
    fn of_condition(value: &Value) -> Result<Self, TemplateError> {
        let mut references = Self {
            in_conditions: true,
            ..Self::default()
        };
        references.collect(value, None)?;
        Ok(references)
    }

    fn collect(&mut self, value: &Value, conditions: Option<&Conditions>) -> Result<(), TemplateError> {
        let members = match value {
            Value::Array(items) => return items.iter().try_for_each(|item| self.collect(item, conditions)),
            Value::Object(members) => members,
            _ => return Ok(()),
        };
        let call = members.iter().next().filter(|(name, _)| {
            members.len() == 1
                && (name.as_str() == "Ref"
                    || name.starts_with("Fn::")
                    || (self.in_conditions && name.as_str() == "Condition"))
        });
        let Some((name, argument)) = call else {
            return members.values().try_for_each(|member| self.collect(member, conditions));
        };
        match name.as_str() {
            "Ref" => {
                let target = argument.as_str().ok_or_else(|| {
                    TemplateError::Format("Every Ref object must have a single String value.".to_owned())
                })?;
                self.refs.insert(target.to_owned());
                Ok(())
            }
            "Condition" => {
                let condition = argument.as_str().ok_or_else(|| {
                    TemplateError::InvalidFunction("every Condition object requires a condition name".to_owned())
                })?;
                self.conditions.insert(condition.to_owned());
                Ok(())
            }
            "Fn::GetAtt" => {
                match argument {
                    Value::String(dotted) => {
                        let resource = dotted.split_once('.').map_or(dotted.as_str(), |(resource, _)| resource);
                        self.get_atts.insert(resource.to_owned());
                    }
                    argument => {
                        let (resource, attribute) = get_att_target(argument)?;
                        self.get_atts.insert(resource.to_owned());
                        self.collect(attribute, conditions)?;
                    }
                }
                Ok(())
            }
            "Fn::Sub" => {
                let (template, variables) = sub_arguments(argument)?;
                for variable in sub_variables(template) {
                    if variables.is_some_and(|variables| variables.contains_key(variable)) {
                        continue;
                    }
                    match variable.split_once('.') {
                        Some((resource, _)) => self.get_atts.insert(resource.to_owned()),
                        None => self.refs.insert(variable.to_owned()),
                    };
                }
                variables
                    .into_iter()
                    .flat_map(|variables| variables.values())
                    .try_for_each(|value| self.collect(value, conditions))
            }
            "Fn::If" => {
                let Some([Value::String(condition), when_true, when_false]) = argument.as_array().map(Vec::as_slice)
                else {
                    return self.collect(argument, conditions);
                };
                self.conditions.insert(condition.clone());
                match conditions.map(|conditions| conditions.get(condition)) {
                    None => {
                        self.collect(when_true, conditions)?;
                        self.collect(when_false, conditions)
                    }
                    Some(Some(true)) => self.collect(when_true, conditions),
                    Some(Some(false)) => self.collect(when_false, conditions),
                    Some(None) => Err(TemplateError::UndefinedIfCondition(condition.clone())),
                }
            }
            "Fn::FindInMap" => {
                if let Some(Value::String(mapping)) = argument.as_array().and_then(|arguments| arguments.first()) {
                    self.mappings.insert(mapping.clone());
                }
                self.collect(argument, conditions)
            }
            function if VALUE_FUNCTIONS.contains(&function) || CONDITION_FUNCTIONS.contains(&function) => {
                self.collect(argument, conditions)
            }
            unknown => Err(TemplateError::UnsupportedFunction(unknown.to_owned())),
        }
    }

    /// Checks the conditions and mappings named against those `template` declares.
    pub(super) fn check_declared(&self, template: &Template) -> Result<(), TemplateError> {
        if let Some(condition) = self
            .conditions
            .iter()
            .find(|name| !template.conditions().contains_key(*name))
        {
            return Err(TemplateError::UndefinedIfCondition(condition.clone()));
        }
        if let Some(mapping) = self
            .mappings
            .iter()
            .find(|name| !template.mappings().contains_key(*name))
        {
            return Err(TemplateError::UndefinedMapping(mapping.clone()));
        }
        Ok(())
    }
}

/// Checks that every name the template refers to is declared: in Conditions, only parameters, pseudo
/// parameters and conditions; in Resources and Outputs, resources too (and the resource graph has no
/// cycle). Conditions are not evaluated: both branches of each `Fn::If` count.
pub(super) fn check_references(template: &Template) -> Result<(), TemplateError> {
    for declaration in template.conditions().values() {
        let references = References::of_condition(declaration)?;
        let not_static: Vec<&str> = references
            .refs
            .iter()
            .chain(&references.get_atts)
            .map(String::as_str)
            .filter(|name| !is_pseudo_parameter(name) && template.parameter(name).is_none())
            .collect();
        if !not_static.is_empty() {
            return Err(TemplateError::ResourceInConditions(name_list(not_static)));
        }
        if let Some(condition) = references
            .conditions
            .iter()
            .find(|name| !template.conditions().contains_key(*name))
        {
            return Err(TemplateError::UndefinedCondition(condition.clone()));
        }
        references.check_declared(template)?;
    }
    dependency_graph(template, None)?;
    let mut unresolved = BTreeSet::new();
    for output in template.outputs() {
        if let Some(condition) = &output.condition
            && !template.conditions().contains_key(condition)
        {
            return Err(TemplateError::UndefinedCondition(condition.clone()));
        }
        let references = References::of(&output.value, None)?;
        references.check_declared(template)?;
        if let Some(export) = &output.export_name {
            References::of(export, None)?.check_declared(template)?;
        }
        if let Some(resource) = references
            .get_atts
            .iter()
            .find(|name| template.resource(name).is_none())
        {
            return Err(TemplateError::GetAttUndefinedResource(resource.clone()));
        }
        unresolved.extend(
            references
                .refs
                .iter()
                .filter(|name| {
                    !is_pseudo_parameter(name)
                        && template.parameter(name).is_none()
                        && template.resource(name).is_none()
                })
                .cloned(),
        );
    }
    if !unresolved.is_empty() {
        return Err(TemplateError::UnresolvedDependencies {
            names: name_list(unresolved.iter().map(String::as_str)),
            block: "Outputs",
        });
    }
    Ok(())
}
