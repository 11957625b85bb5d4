//! The resource model: the properties of `AWS::EKS::PodIdentityAssociation` as CloudFormation sends them.
//!
//! `schema/aws-eks-podidentityassociation.json` is the source of truth; a test compares the JSON schema that
//! schemars derives from these types with that file, so the two cannot drift apart.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

/// One association as CloudFormation sees it. Every field is optional because Read, Delete and List may
/// receive only an identifier; Create and Update requests are validated against the schema first, where a
/// property it does not define is refused. Decoding ignores such a property (a model written by another version
/// of the type, which Read, Delete and List leave alone).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase")]
#[schemars(deny_unknown_fields)]
pub struct ResourceModel {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub association_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub association_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_role_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "boolean")]
    pub disable_session_tags: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
}

/// A key-value pair, as CloudFormation templates write tags.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

impl ResourceModel {
    /// The property names set in a create request that the schema marks readOnly.
    pub fn read_only_properties_set(&self) -> Vec<&'static str> {
        [
            ("AssociationArn", self.association_arn.is_some()),
            ("AssociationId", self.association_id.is_some()),
            ("ExternalId", self.external_id.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect()
    }
}

/// A template boolean: CloudFormation sends every template scalar as a string (`"DisableSessionTags": "true"`),
/// `cfn test` sends real booleans.
pub fn template_boolean(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// A boolean property, real or as a template string.
fn boolean<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    struct Boolean;
    impl<'de> Visitor<'de> for Boolean {
        type Value = Option<bool>;
        fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
            formatter.write_str("a boolean")
        }
        fn visit_bool<E: de::Error>(self, flag: bool) -> Result<Self::Value, E> {
            Ok(Some(flag))
        }
        fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
            template_boolean(text)
                .map(Some)
                .ok_or_else(|| E::invalid_type(de::Unexpected::Str(text), &self))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    deserializer.deserialize_any(Boolean)
}

/// Tags in the model's list form, sorted by key so that output is deterministic; `None` when there are none.
pub fn tags_from_map(tags: &BTreeMap<String, String>) -> Option<Vec<Tag>> {
    (!tags.is_empty()).then(|| {
        tags.iter()
            .map(|(key, value)| Tag {
                key: key.clone(),
                value: value.clone(),
            })
            .collect()
    })
}
