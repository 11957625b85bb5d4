//! The request parameters the stack actions share.

use std::collections::BTreeMap;

use crate::protocol::query::{Params, QueryError};
use crate::world::stacks::Stack;

/// `Parameters.member.N.{ParameterKey, ParameterValue, UsePreviousValue}`: the values given, with previous
/// values taken from `previous` where asked.
pub(super) fn stack_parameters(
    params: &Params,
    previous: Option<&Stack>,
) -> Result<BTreeMap<String, String>, QueryError> {
    let mut given = BTreeMap::new();
    for index in 1.. {
        let field = |name: &str| params.get(&format!("Parameters.member.{index}.{name}"));
        let Some(key) = field("ParameterKey") else {
            break;
        };
        if field("UsePreviousValue") == Some("true") {
            let value = previous
                .and_then(|stack| stack.parameters.iter().find(|p| p.key == key))
                .map(|p| p.value.clone())
                .ok_or_else(|| {
                    QueryError::new(400, "ValidationError", format!("Invalid input for parameter key {key}. Cannot specify usePreviousValue as true for a parameter key not in the previous template"))
                })?;
            given.insert(key.to_owned(), value);
        } else {
            given.insert(key.to_owned(), field("ParameterValue").unwrap_or_default().to_owned());
        }
    }
    Ok(given)
}

pub(super) fn required<'a>(params: &'a Params, name: &str) -> Result<&'a str, QueryError> {
    params.get(name).ok_or_else(|| QueryError::missing(&lower_first(name)))
}

fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|first| first.to_ascii_lowercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// `Tags.member.N.{Key, Value}`.
pub(super) fn stack_tags(params: &Params) -> Vec<(String, String)> {
    params
        .tags("Tags")
        .into_iter()
        .filter_map(|(key, value)| Some((key?, value)))
        .collect()
}

pub(super) fn does_not_exist(name: &str) -> QueryError {
    QueryError::new(400, "ValidationError", format!("Stack with id {name} does not exist"))
}
