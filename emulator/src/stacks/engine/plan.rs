//! A template made ready to deploy in a stack: parameters resolved, conditions evaluated, rules checked, the
//! resources that exist in their creation waves, each of a type the emulator can manage.

use std::collections::BTreeMap;

use super::super::template::{
    Conditions, Parameters, PseudoParameters, Template, TemplateError, check_rules, dependency_waves,
    evaluate_conditions, resolve_parameters, url_suffix,
};
use crate::resources::Registry;

/// Where a stack lives.
#[derive(Debug, Clone)]
pub(crate) struct StackPlace {
    pub stack_id: String,
    pub stack_name: String,
    pub account_id: String,
    pub region: String,
    pub partition: &'static str,
}

pub(crate) struct Plan {
    pub template: Template,
    pub body: String,
    pub parameters: Parameters,
    pub conditions: Conditions,
    pub pseudo: PseudoParameters,
    pub waves: Vec<Vec<String>>,
}

/// Why a template cannot be deployed: its own error, or a type this emulator does not manage.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PlanError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("Template format error: Unrecognized resource types: [{0}]")]
    UnknownTypes(String),
}

impl Plan {
    pub fn new(
        body: &str,
        given: BTreeMap<String, String>,
        place: &StackPlace,
        types: &Registry,
        parameter_store: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Plan, PlanError> {
        let template = Template::parse(body)?;
        let mut unknown: Vec<&str> = template
            .resources()
            .iter()
            .map(|resource| resource.type_name.as_str())
            .filter(|type_name| types.get(type_name).is_none())
            .collect();
        unknown.sort_unstable();
        unknown.dedup();
        if !unknown.is_empty() {
            return Err(PlanError::UnknownTypes(unknown.join(",")));
        }
        let pseudo = PseudoParameters {
            account_id: place.account_id.clone(),
            region: place.region.clone(),
            partition: place.partition.to_owned(),
            url_suffix: url_suffix(place.partition).to_owned(),
            stack_name: place.stack_name.clone(),
            stack_id: place.stack_id.clone(),
            notification_arns: Vec::new(),
        };
        let parameters = resolve_parameters(&template, &given, parameter_store)?;
        let conditions = evaluate_conditions(&template, &parameters, &pseudo)?;
        check_rules(&template, &parameters, &pseudo)?;
        let waves = dependency_waves(&template, &conditions)?;
        Ok(Plan {
            template,
            body: body.to_owned(),
            parameters,
            conditions,
            pseudo,
            waves,
        })
    }
}
