//! Outputs: declared, then resolved once the stack's resources exist.

use serde_json::Value;

use super::error::TemplateError;
use super::intrinsics::{EvalContext, resolve_optional};
use super::template::{Template, scalar_string};

/// One output as declared.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OutputDecl {
    pub(crate) name: String,
    pub(crate) value: Value,
    pub(crate) description: Option<String>,
    /// Export.Name, unresolved.
    pub(crate) export_name: Option<Value>,
    pub(crate) condition: Option<String>,
}

/// One output of a stack, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResolvedOutput {
    pub(crate) key: String,
    pub(crate) value: String,
    pub(crate) description: Option<String>,
    pub(crate) export_name: Option<String>,
}

impl OutputDecl {
    pub(super) fn from_template(name: &str, declaration: &Value) -> Result<Self, TemplateError> {
        let declaration = declaration.as_object().ok_or(TemplateError::OutputWithoutValue)?;
        let value = declaration.get("Value").ok_or(TemplateError::OutputWithoutValue)?;
        let export_name = match declaration.get("Export") {
            None => None,
            Some(export) => Some(export.get("Name").cloned().ok_or_else(|| {
                TemplateError::Format(format!(
                    "Output {name} is malformed. The Name field of every Export member must be specified and consist only of alphanumeric characters, colons, or hyphens."
                ))
            })?),
        };
        Ok(Self {
            name: name.to_owned(),
            value: value.clone(),
            description: declaration.get("Description").and_then(scalar_string),
            export_name,
            condition: declaration.get("Condition").and_then(Value::as_str).map(str::to_owned),
        })
    }
}

/// The outputs of a stack whose conditions hold, each value and export name resolved.
pub(crate) fn outputs(template: &Template, context: &EvalContext) -> Result<Vec<ResolvedOutput>, TemplateError> {
    let mut resolved = Vec::new();
    for output in template.outputs() {
        if !context.conditions.allows(output.condition.as_deref())? {
            continue;
        }
        let as_string = |value: &Value| -> Result<String, TemplateError> {
            resolve_optional(value, context)?
                .as_ref()
                .and_then(scalar_string)
                .ok_or(TemplateError::OutputNotString)
        };
        resolved.push(ResolvedOutput {
            key: output.name.clone(),
            value: as_string(&output.value)?,
            description: output.description.clone(),
            export_name: output.export_name.as_ref().map(as_string).transpose()?,
        });
    }
    Ok(resolved)
}
