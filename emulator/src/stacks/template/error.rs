//! The template layer's one error type. Each message is CloudFormation's, word for word where it is known,
//! because the API hands it to the caller as the `ValidationError` message.

/// A template, its parameters or one of its functions is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TemplateError {
    #[error("Template format error: JSON not well-formed. (line {line}, column {column})")]
    JsonNotWellFormed { line: usize, column: usize },
    #[error("Template format error: YAML not well-formed. (line {line}, column {column})")]
    YamlNotWellFormed { line: usize, column: usize },
    #[error("Template format error: unsupported structure.")]
    UnsupportedStructure,
    #[error("Template may not exceed {max} bytes in size.")]
    TemplateTooLarge { max: usize },
    #[error("Template format error: Invalid template property or properties [{0}]")]
    UnknownSections(String),
    #[error("Template format error: At least one Resources member must be defined.")]
    NoResources,
    #[error("Template format error: [/Resources/{0}] Every Resources object must contain a Type member.")]
    MissingType(String),
    #[error("Invalid template resource property '{0}'")]
    UnknownResourceAttribute(String),
    #[error("Template format error: Resource name {0} is non alphanumeric.")]
    NonAlphanumericResource(String),
    #[error("Template format error: Parameter name {0} is non alphanumeric.")]
    NonAlphanumericParameter(String),
    #[error("Template format error: Every Outputs member must contain a Value object")]
    OutputWithoutValue,
    #[error("[{0}] 'null' values are not allowed in templates")]
    NullValue(String),
    #[error("Template format error: Number of {section}, {count}, is greater than maximum allowed, {max}")]
    TooMany {
        section: &'static str,
        count: usize,
        max: usize,
    },
    /// A structural problem without a more specific variant (a section of the wrong shape, …).
    #[error("Template format error: {0}")]
    Format(String),
    #[error("Template format error: Unresolved resource dependencies [{names}] in the {block} block of the template")]
    UnresolvedDependencies { names: String, block: &'static str },
    #[error("Circular dependency between resources: [{0}]")]
    CircularDependency(String),
    #[error("Template format error: Condition {0} is not defined.")]
    UndefinedCondition(String),
    #[error("Template format error: Circular dependency between conditions: [{0}]")]
    CircularConditions(String),
    #[error(
        "Template format error: Unresolved dependencies [{0}]. Cannot reference resources in the Conditions block of the template"
    )]
    ResourceInConditions(String),
    #[error("Template error: unresolved condition dependency {0} in Fn::If")]
    UndefinedIfCondition(String),
    #[error("Template error: Mapping named '{0}' is not present in the 'Mappings' section of template.")]
    UndefinedMapping(String),
    #[error("Template error: Unable to get mapping for {0}")]
    MappingKeyNotFound(String),
    #[error(
        "Template format error: Encountered unsupported function: {0} Supported functions are: [Fn::Base64, Fn::GetAtt, Fn::GetAZs, Fn::ImportValue, Fn::Join, Fn::Split, Fn::FindInMap, Fn::Select, Ref, Fn::Equals, Fn::If, Fn::Not, Condition, Fn::And, Fn::Or, Fn::Contains, Fn::EachMemberEquals, Fn::EachMemberIn, Fn::ValueOf, Fn::ValueOfAll, Fn::RefAll, Fn::Sub, Fn::Cidr]"
    )]
    UnsupportedFunction(String),
    #[error("Template format error: Unrecognized parameter type: {0}")]
    UnknownParameterType(String),
    #[error("Parameters: [{0}] must have values")]
    MissingParameterValues(String),
    #[error("Parameters: [{0}] do not exist in the template")]
    UnknownParameters(String),
    #[error("Parameter '{0}' must be one of AllowedValues")]
    NotAllowedValue(String),
    #[error("Parameter '{name}' must match pattern {pattern}")]
    PatternMismatch { name: String, pattern: String },
    #[error("Parameter '{name}' must contain at least {min} characters")]
    TooShort { name: String, min: u64 },
    #[error("Parameter '{name}' must contain at most {max} characters")]
    TooLong { name: String, max: u64 },
    #[error("Parameter '{0}' must be a number")]
    NotANumber(String),
    #[error("Parameter '{name}' must be a number not less than {min}")]
    TooSmall { name: String, min: String },
    #[error("Parameter '{name}' must be a number not greater than {max}")]
    TooLarge { name: String, max: String },
    /// Any constraint failing on a parameter that has a ConstraintDescription: it replaces the reason.
    #[error("Parameter {name} failed to satisfy constraint: {description}")]
    ConstraintNotSatisfied { name: String, description: String },
    #[error("Template error: Unable to fetch parameters [{0}] from parameter store for this account.")]
    SsmParameterNotFound(String),
    /// A rule's assertion is false: the message is its AssertDescription.
    #[error("Template error: {0}")]
    RuleFailed(String),
    /// A function used with the wrong arguments: the message is CloudFormation's for that function.
    #[error("Template error: {0}")]
    InvalidFunction(String),
    #[error("Template error: instance of Fn::GetAtt references undefined resource {0}")]
    GetAttUndefinedResource(String),
    #[error("Template error: resource {resource} does not support attribute type {attribute} in Fn::GetAtt")]
    UnsupportedAttribute { resource: String, attribute: String },
    #[error("Template error: Fn::Select cannot select nonexistent value at index {0}")]
    SelectOutOfRange(i64),
    #[error("Template error: variable {0} in Fn::Sub expression does not resolve to a string")]
    SubVariableNotString(String),
    #[error("No export named {0} found.")]
    ExportNotFound(String),
    #[error("Template format error: The Value field of every Outputs member must evaluate to a String.")]
    OutputNotString,
}

/// Names in CloudFormation's list form: `A, B`.
pub(crate) fn name_list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names.into_iter().collect::<Vec<_>>().join(", ")
}
