//! What ValidateTemplate answers about a template: its parameters, description, the capabilities its
//! IAM resources need, and its transforms.

use super::template::Template;

/// The IAM resource types a stack may create only with a capability, and the property that names each
/// explicitly (which needs `CAPABILITY_NAMED_IAM`).
const IAM_TYPES: &[(&str, Option<&str>)] = &[
    ("AWS::IAM::AccessKey", None),
    ("AWS::IAM::Group", Some("GroupName")),
    ("AWS::IAM::InstanceProfile", Some("InstanceProfileName")),
    ("AWS::IAM::ManagedPolicy", Some("ManagedPolicyName")),
    ("AWS::IAM::Policy", None),
    ("AWS::IAM::Role", Some("RoleName")),
    ("AWS::IAM::User", Some("UserName")),
    ("AWS::IAM::UserToGroupAddition", None),
];

pub(crate) const CAPABILITY_IAM: &str = "CAPABILITY_IAM";
pub(crate) const CAPABILITY_NAMED_IAM: &str = "CAPABILITY_NAMED_IAM";

/// ValidateTemplate's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TemplateSummary {
    pub(crate) description: Option<String>,
    pub(crate) parameters: Vec<ParameterSummary>,
    /// At most one: `CAPABILITY_NAMED_IAM` when an IAM resource is named, else `CAPABILITY_IAM` when
    /// there is one.
    pub(crate) capabilities: Vec<&'static str>,
    pub(crate) capabilities_reason: Option<String>,
    pub(crate) declared_transforms: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParameterSummary {
    pub(crate) key: String,
    pub(crate) default_value: Option<String>,
    pub(crate) no_echo: bool,
    pub(crate) description: Option<String>,
}

/// The summary of `template`.
pub(crate) fn summary(template: &Template) -> TemplateSummary {
    let mut types: Vec<&str> = Vec::new();
    let mut named = false;
    for resource in template.resources() {
        let Some((type_name, name_property)) = IAM_TYPES.iter().find(|(type_name, _)| *type_name == resource.type_name)
        else {
            continue;
        };
        named |= name_property.is_some_and(|property| resource.properties.get(property).is_some());
        if !types.contains(type_name) {
            types.push(type_name);
        }
    }
    let capabilities = match (types.is_empty(), named) {
        (true, _) => Vec::new(),
        (false, true) => vec![CAPABILITY_NAMED_IAM],
        (false, false) => vec![CAPABILITY_IAM],
    };
    TemplateSummary {
        description: template.description().map(str::to_owned),
        parameters: template
            .parameters()
            .iter()
            .map(|parameter| ParameterSummary {
                key: parameter.name.clone(),
                default_value: parameter.default.clone(),
                no_echo: parameter.no_echo,
                description: parameter.description.clone(),
            })
            .collect(),
        capabilities_reason: (!types.is_empty())
            .then(|| format!("The following resource(s) require capabilities: [{}]", types.join(", "))),
        capabilities,
        declared_transforms: template.transforms().to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iam_resources_need_capabilities_named_ones_the_named_capability() {
        let unnamed = Template::parse(
            "Resources:\n  R: {Type: AWS::IAM::Role}\n  P: {Type: AWS::IAM::Policy}\n  Q: {Type: AWS::SQS::Queue}\n",
        )
        .unwrap();
        let summary = summary(&unnamed);
        assert_eq!(summary.capabilities, [CAPABILITY_IAM]);
        assert_eq!(
            summary.capabilities_reason.as_deref(),
            Some("The following resource(s) require capabilities: [AWS::IAM::Policy, AWS::IAM::Role]")
        );
        let named =
            Template::parse("Resources:\n  M: {Type: AWS::IAM::ManagedPolicy, Properties: {ManagedPolicyName: m}}\n")
                .unwrap();
        assert_eq!(super::summary(&named).capabilities, [CAPABILITY_NAMED_IAM]);
        let none = Template::parse("Description: d\nResources: {Q: {Type: AWS::SQS::Queue}}\n").unwrap();
        let summary = super::summary(&none);
        assert!(summary.capabilities.is_empty() && summary.capabilities_reason.is_none());
        assert_eq!(summary.description.as_deref(), Some("d"));
    }
}
