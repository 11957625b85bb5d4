//! Resolving a template value: every intrinsic function in it evaluated, `AWS::NoValue` removed.

use base64::Engine as _;
use serde_json::{Map, Value};

use super::cidr::cidr;
use super::conditions::Conditions;
use super::error::TemplateError;
use super::parameters::Parameters;
use super::sub::{SubPart, parse_sub};
use super::template::scalar_string;

/// The functions whose value is a truth, used only in Conditions and Rules.
pub(super) const CONDITION_FUNCTIONS: &[&str] = &[
    "Fn::And",
    "Fn::Or",
    "Fn::Not",
    "Fn::Equals",
    "Fn::Contains",
    "Fn::EachMemberEquals",
    "Fn::EachMemberIn",
    "Fn::RefAll",
    "Fn::ValueOf",
    "Fn::ValueOfAll",
];

/// The functions that give a value.
pub(super) const VALUE_FUNCTIONS: &[&str] = &[
    "Ref",
    "Fn::Base64",
    "Fn::Cidr",
    "Fn::FindInMap",
    "Fn::GetAZs",
    "Fn::GetAtt",
    "Fn::If",
    "Fn::ImportValue",
    "Fn::Join",
    "Fn::Select",
    "Fn::Split",
    "Fn::Sub",
];

const JOIN_ARGUMENTS: &str = "every Fn::Join object requires two parameters, (1) a string delimiter and (2) a list of strings to be joined or a function that returns a list of strings (such as Fn::GetAZs) to be joined.";
const SELECT_ARGUMENTS: &str = "every Fn::Select object requires two parameters, (1) an index into the array of strings and (2) a list of strings or a function that returns a list of strings to select from.";
const SPLIT_ARGUMENTS: &str = "every Fn::Split object requires two parameters, (1) a string delimiter and (2) a string to be split or a function that returns a string to be split.";
const SUB_ARGUMENTS: &str = "One or more Fn::Sub intrinsic functions don't specify expected arguments. Specify a string as first argument, and an optional second argument to specify a mapping of values to replace in the string";
const GET_ATT_ARGUMENTS: &str = "every Fn::GetAtt object requires two non-empty parameters";
const IF_ARGUMENTS: &str = "every Fn::If object requires three parameters, (1) a condition name, (2) the value when it is true and (3) the value when it is false.";
const FIND_IN_MAP_ARGUMENTS: &str =
    "every Fn::FindInMap object requires three parameters, the map name, map key and the attribute for return value";
const CIDR_ARGUMENTS: &str = "every Fn::Cidr object requires three parameters, (1) an IP address block, (2) the number of subnets and (3) the number of host bits of each subnet.";

/// The resources of the stack, as far as they exist: what `Ref` and `Fn::GetAtt` of a resource give.
pub(crate) trait ResourceLookup {
    /// The resource's physical id (what `Ref` gives); `None` when it does not exist (yet).
    fn physical_id(&self, logical_id: &str) -> Option<String>;
    /// One of the resource's attributes; `None` when the resource or the attribute does not exist.
    fn attribute(&self, logical_id: &str, name: &str) -> Option<Value>;
}

/// No resource at all: what Conditions and Rules see.
pub(crate) struct NoResources;

impl ResourceLookup for NoResources {
    fn physical_id(&self, _: &str) -> Option<String> {
        None
    }

    fn attribute(&self, _: &str, _: &str) -> Option<Value> {
        None
    }
}

/// The pseudo parameters of one stack (`AWS::NoValue` aside, which is no value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PseudoParameters {
    pub(crate) account_id: String,
    pub(crate) region: String,
    pub(crate) partition: String,
    pub(crate) url_suffix: String,
    pub(crate) stack_name: String,
    pub(crate) stack_id: String,
    pub(crate) notification_arns: Vec<String>,
}

impl PseudoParameters {
    /// The value of `AWS::<name>`, or `None` when it is no pseudo parameter.
    pub(crate) fn value(&self, name: &str) -> Option<Value> {
        let text = match name {
            "AWS::AccountId" => &self.account_id,
            "AWS::Region" => &self.region,
            "AWS::Partition" => &self.partition,
            "AWS::URLSuffix" => &self.url_suffix,
            "AWS::StackName" => &self.stack_name,
            "AWS::StackId" => &self.stack_id,
            "AWS::NotificationARNs" => return Some(Value::from(self.notification_arns.clone())),
            _ => return None,
        };
        Some(Value::String(text.clone()))
    }
}

/// The domain suffix of a partition's endpoints (`AWS::URLSuffix`).
pub(crate) fn url_suffix(partition: &str) -> &'static str {
    match partition {
        "aws-cn" => "amazonaws.com.cn",
        "aws-iso" => "c2s.ic.gov",
        "aws-iso-b" => "sc2s.sgov.gov",
        _ => "amazonaws.com",
    }
}

/// Whether `name` is a pseudo parameter, `AWS::NoValue` included.
pub(super) fn is_pseudo_parameter(name: &str) -> bool {
    matches!(
        name,
        "AWS::AccountId"
            | "AWS::Region"
            | "AWS::Partition"
            | "AWS::URLSuffix"
            | "AWS::StackName"
            | "AWS::StackId"
            | "AWS::NotificationARNs"
            | "AWS::NoValue"
    )
}

/// The availability zones a region has when the caller names none: `<region>a`, `b` and `c`.
pub(crate) fn default_azs(region: &str) -> Vec<String> {
    ["a", "b", "c"].iter().map(|zone| format!("{region}{zone}")).collect()
}

/// Everything a template value may refer to.
pub(crate) struct EvalContext<'a> {
    pub(crate) pseudo: &'a PseudoParameters,
    pub(crate) parameters: &'a Parameters,
    pub(crate) conditions: &'a Conditions,
    pub(crate) mappings: &'a Map<String, Value>,
    pub(crate) resources: &'a dyn ResourceLookup,
    /// An export's value by its name (`Fn::ImportValue`).
    pub(crate) imports: &'a dyn Fn(&str) -> Option<String>,
    /// The stack's region's availability zones (`Fn::GetAZs`); empty: [`default_azs`].
    pub(crate) azs: &'a [String],
}

/// `value` with its functions evaluated. Keys and list items that resolve to `AWS::NoValue` are removed;
/// a value that is `AWS::NoValue` as a whole is `null`.
pub(crate) fn resolve(value: &Value, context: &EvalContext) -> Result<Value, TemplateError> {
    Ok(resolve_optional(value, context)?.unwrap_or(Value::Null))
}

/// `value` resolved, `None` for `AWS::NoValue`.
pub(super) fn resolve_optional(value: &Value, context: &EvalContext) -> Result<Option<Value>, TemplateError> {
    match value {
        Value::Object(members) => {
            if let Some((name, argument)) = function_call(members) {
                return call(name, argument, context);
            }
            let mut resolved = Map::new();
            for (key, member) in members {
                if let Some(member) = resolve_optional(member, context)? {
                    resolved.insert(key.clone(), member);
                }
            }
            Ok(Some(Value::Object(resolved)))
        }
        Value::Array(items) => {
            let mut resolved = Vec::with_capacity(items.len());
            for item in items {
                resolved.extend(resolve_optional(item, context)?);
            }
            Ok(Some(Value::Array(resolved)))
        }
        scalar => Ok(Some(scalar.clone())),
    }
}

/// The function an object calls, when it is a call: one key, `Ref` or `Fn::…`. (`Condition` is a call
/// only in Conditions, where its own evaluator looks for it.)
pub(super) fn function_call(members: &Map<String, Value>) -> Option<(&str, &Value)> {
    let (name, argument) = members.iter().next().filter(|_| members.len() == 1)?;
    (name == "Ref" || name.starts_with("Fn::")).then_some((name.as_str(), argument))
}

fn call(name: &str, argument: &Value, context: &EvalContext) -> Result<Option<Value>, TemplateError> {
    let value = match name {
        "Ref" => return reference(argument, context),
        "Fn::If" => return if_(argument, context),
        "Fn::GetAtt" => get_att(argument, context)?,
        "Fn::Join" => join(argument, context)?,
        "Fn::Select" => return select(argument, context),
        "Fn::Split" => split(argument, context)?,
        "Fn::Sub" => sub(argument, context)?,
        "Fn::FindInMap" => return find_in_map(argument, context).map(Some),
        "Fn::ImportValue" => {
            let export = string_argument(
                argument,
                context,
                "every Fn::ImportValue object requires a string parameter",
            )?;
            Value::String((context.imports)(&export).ok_or(TemplateError::ExportNotFound(export))?)
        }
        "Fn::Base64" => {
            let text = string_argument(argument, context, "every Fn::Base64 object requires a string parameter")?;
            Value::String(base64::engine::general_purpose::STANDARD.encode(text))
        }
        "Fn::GetAZs" => {
            let region = string_argument(argument, context, "every Fn::GetAZs object requires a string parameter")?;
            Value::from(if region.is_empty() || region == context.pseudo.region {
                if context.azs.is_empty() {
                    default_azs(&context.pseudo.region)
                } else {
                    context.azs.to_vec()
                }
            } else {
                default_azs(&region)
            })
        }
        "Fn::Cidr" => cidr_(argument, context)?,
        condition if CONDITION_FUNCTIONS.contains(&condition) => {
            return Err(TemplateError::InvalidFunction(format!(
                "{condition} can be used only in the Conditions and Rules sections of a template"
            )));
        }
        unknown => return Err(TemplateError::UnsupportedFunction(unknown.to_owned())),
    };
    Ok(Some(value))
}

fn reference(argument: &Value, context: &EvalContext) -> Result<Option<Value>, TemplateError> {
    let Some(name) = argument.as_str() else {
        return Err(TemplateError::Format(
            "Every Ref object must have a single String value.".to_owned(),
        ));
    };
    if name == "AWS::NoValue" {
        return Ok(None);
    }
    if let Some(value) = context.pseudo.value(name) {
        return Ok(Some(value));
    }
    if let Some(parameter) = context.parameters.get(name) {
        return Ok(Some(parameter.reference.clone()));
    }
    context
        .resources
        .physical_id(name)
        .map(|id| Some(Value::String(id)))
        .ok_or_else(|| TemplateError::UnresolvedDependencies {
            names: name.to_owned(),
            block: "Resources",
        })
}

/// The list form of `Fn::GetAtt`: the resource's name and the attribute's, which a function may give (a
/// `Ref` to a parameter).
pub(super) fn get_att_target(argument: &Value) -> Result<(&str, &Value), TemplateError> {
    let invalid = || TemplateError::InvalidFunction(GET_ATT_ARGUMENTS.to_owned());
    match argument {
        Value::Array(items) => match items.as_slice() {
            [Value::String(resource), attribute] if !resource.is_empty() => Ok((resource, attribute)),
            _ => Err(invalid()),
        },
        _ => Err(invalid()),
    }
}

fn get_att(argument: &Value, context: &EvalContext) -> Result<Value, TemplateError> {
    let dotted;
    let (resource, attribute) = match argument {
        Value::String(text) => {
            let (resource, attribute) = text
                .split_once('.')
                .ok_or_else(|| TemplateError::InvalidFunction(GET_ATT_ARGUMENTS.to_owned()))?;
            dotted = Value::String(attribute.to_owned());
            (resource, &dotted)
        }
        argument => get_att_target(argument)?,
    };
    let attribute = string_argument(attribute, context, GET_ATT_ARGUMENTS)?;
    attribute_of(resource, &attribute, context)
}

fn attribute_of(resource: &str, attribute: &str, context: &EvalContext) -> Result<Value, TemplateError> {
    if let Some(value) = context.resources.attribute(resource, attribute) {
        return Ok(value);
    }
    Err(match context.resources.physical_id(resource) {
        None => TemplateError::GetAttUndefinedResource(resource.to_owned()),
        Some(_) => TemplateError::UnsupportedAttribute {
            resource: resource.to_owned(),
            attribute: attribute.to_owned(),
        },
    })
}

fn if_(argument: &Value, context: &EvalContext) -> Result<Option<Value>, TemplateError> {
    let Some([Value::String(condition), when_true, when_false]) = argument.as_array().map(Vec::as_slice) else {
        return Err(TemplateError::InvalidFunction(IF_ARGUMENTS.to_owned()));
    };
    let chosen = match context.conditions.get(condition) {
        Some(true) => when_true,
        Some(false) => when_false,
        None => return Err(TemplateError::UndefinedIfCondition(condition.clone())),
    };
    resolve_optional(chosen, context)
}

fn join(argument: &Value, context: &EvalContext) -> Result<Value, TemplateError> {
    let invalid = || TemplateError::InvalidFunction(JOIN_ARGUMENTS.to_owned());
    let Some([Value::String(delimiter), items]) = argument.as_array().map(Vec::as_slice) else {
        return Err(invalid());
    };
    let Some(Value::Array(items)) = resolve_optional(items, context)? else {
        return Err(invalid());
    };
    let items: Vec<String> = items
        .iter()
        .map(scalar_string)
        .collect::<Option<_>>()
        .ok_or_else(invalid)?;
    Ok(Value::String(items.join(delimiter)))
}

fn select(argument: &Value, context: &EvalContext) -> Result<Option<Value>, TemplateError> {
    let invalid = || TemplateError::InvalidFunction(SELECT_ARGUMENTS.to_owned());
    let Some([index, items]) = argument.as_array().map(Vec::as_slice) else {
        return Err(invalid());
    };
    let index: i64 = resolve_optional(index, context)?
        .as_ref()
        .and_then(scalar_string)
        .and_then(|index| index.trim().parse().ok())
        .ok_or_else(invalid)?;
    let Some(Value::Array(items)) = resolve_optional(items, context)? else {
        return Err(invalid());
    };
    let item = usize::try_from(index).ok().and_then(|index| items.get(index));
    item.cloned().map(Some).ok_or(TemplateError::SelectOutOfRange(index))
}

fn split(argument: &Value, context: &EvalContext) -> Result<Value, TemplateError> {
    let invalid = || TemplateError::InvalidFunction(SPLIT_ARGUMENTS.to_owned());
    let Some([Value::String(delimiter), text]) = argument.as_array().map(Vec::as_slice) else {
        return Err(invalid());
    };
    if delimiter.is_empty() {
        return Err(invalid());
    }
    let text = string_argument(text, context, SPLIT_ARGUMENTS)?;
    Ok(Value::from(text.split(delimiter.as_str()).collect::<Vec<_>>()))
}

/// `Fn::Sub`'s string, and its variable map (absent in the one-string form).
type SubArguments<'a> = (&'a str, Option<&'a Map<String, Value>>);

pub(super) fn sub_arguments(argument: &Value) -> Result<SubArguments<'_>, TemplateError> {
    match argument {
        Value::String(template) => Ok((template, None)),
        Value::Array(items) => match items.as_slice() {
            [Value::String(template), Value::Object(variables)] => Ok((template, Some(variables))),
            _ => Err(TemplateError::InvalidFunction(SUB_ARGUMENTS.to_owned())),
        },
        _ => Err(TemplateError::InvalidFunction(SUB_ARGUMENTS.to_owned())),
    }
}

fn sub(argument: &Value, context: &EvalContext) -> Result<Value, TemplateError> {
    let (template, variables) = sub_arguments(argument)?;
    let mut text = String::new();
    for part in parse_sub(template) {
        match part {
            SubPart::Text(literal) => text.push_str(&literal),
            SubPart::Variable(name) => {
                let value = match variables.and_then(|variables| variables.get(name)) {
                    Some(value) => resolve_optional(value, context)?,
                    None => match name.split_once('.') {
                        Some((resource, attribute)) => Some(attribute_of(resource, attribute, context)?),
                        None => reference(&Value::String(name.to_owned()), context)?,
                    },
                };
                let value = value
                    .as_ref()
                    .and_then(scalar_string)
                    .ok_or_else(|| TemplateError::SubVariableNotString(name.to_owned()))?;
                text.push_str(&value);
            }
        }
    }
    Ok(Value::String(text))
}

fn find_in_map(argument: &Value, context: &EvalContext) -> Result<Value, TemplateError> {
    let invalid = || TemplateError::InvalidFunction(FIND_IN_MAP_ARGUMENTS.to_owned());
    let (keys, default) = match argument.as_array().map(Vec::as_slice) {
        Some([map, top, second]) => ([map, top, second], None),
        // The optional fourth argument, {"DefaultValue": …}, of the language extensions.
        Some([map, top, second, Value::Object(options)]) => (
            [map, top, second],
            Some(options.get("DefaultValue").ok_or_else(invalid)?),
        ),
        _ => return Err(invalid()),
    };
    let [map, top, second] = keys.map(|key| string_argument(key, context, FIND_IN_MAP_ARGUMENTS));
    let (map, top, second) = (map?, top?, second?);
    let mapping = context
        .mappings
        .get(&map)
        .ok_or_else(|| TemplateError::UndefinedMapping(map.clone()))?;
    match mapping.get(&top).and_then(|keys| keys.get(&second)) {
        Some(value) => Ok(value.clone()),
        None => match default {
            Some(default) => resolve(default, context),
            None => Err(TemplateError::MappingKeyNotFound(format!("{map}::{top}::{second}"))),
        },
    }
}

fn cidr_(argument: &Value, context: &EvalContext) -> Result<Value, TemplateError> {
    let Some([block, count, bits]) = argument.as_array().map(Vec::as_slice) else {
        return Err(TemplateError::InvalidFunction(CIDR_ARGUMENTS.to_owned()));
    };
    let block = string_argument(block, context, CIDR_ARGUMENTS)?;
    let number = |value: &Value| -> Result<u64, TemplateError> {
        string_argument(value, context, CIDR_ARGUMENTS)?
            .trim()
            .parse()
            .map_err(|_| TemplateError::InvalidFunction(CIDR_ARGUMENTS.to_owned()))
    };
    let bits = u32::try_from(number(bits)?).map_err(|_| TemplateError::InvalidFunction(CIDR_ARGUMENTS.to_owned()))?;
    Ok(Value::from(cidr(&block, number(count)?, bits)?))
}

/// A function's argument that must resolve to a string (numbers and booleans in their text form).
fn string_argument(argument: &Value, context: &EvalContext, invalid: &str) -> Result<String, TemplateError> {
    resolve_optional(argument, context)?
        .as_ref()
        .and_then(scalar_string)
        .ok_or_else(|| TemplateError::InvalidFunction(invalid.to_owned()))
}
