//! The members of Cloud Control's requests, each checked against its shape's constraints when an operation reads it.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::CloudControlError;

/// Properties documents (DesiredState, PatchDocument, ResourceModel) are at most this long.
const MAX_DOCUMENT: usize = 262_144;

/// Every member any operation takes; each operation reads its own.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Input {
    type_name: Option<String>,
    type_version_id: Option<String>,
    role_arn: Option<String>,
    client_token: Option<String>,
    desired_state: Option<String>,
    identifier: Option<String>,
    patch_document: Option<String>,
    next_token: Option<String>,
    max_results: Option<i64>,
    resource_model: Option<String>,
    request_token: Option<String>,
    #[serde(default)]
    resource_request_status_filter: StatusFilter,
}

/// ListResourceRequests' filter: the operations and statuses to include (none: all).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct StatusFilter {
    #[serde(default)]
    pub operations: Vec<String>,
    #[serde(default)]
    pub operation_statuses: Vec<String>,
}

/// The request body (an empty one is `{}`); a body that is not the input shape is a SerializationException.
pub(super) fn parse(body: &[u8]) -> Result<Input, CloudControlError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Input::default());
    }
    serde_json::from_slice(body).map_err(|error| CloudControlError::serialization(error.to_string()))
}

fn required<'a>(member: &str, value: &'a Option<String>) -> Result<&'a str, CloudControlError> {
    value
        .as_deref()
        .ok_or_else(|| CloudControlError::validation(member, None, "Member must not be null"))
}

fn length(member: &str, value: &str, min: usize, max: usize) -> Result<(), CloudControlError> {
    let count = value.chars().count();
    if count < min || count > max {
        let constraint = if count < min {
            format!("Member must have length greater than or equal to {min}")
        } else {
            format!("Member must have length less than or equal to {max}")
        };
        // Documents are sensitive and long: AWS does not quote them back.
        let quoted = (max < MAX_DOCUMENT).then_some(value);
        return Err(CloudControlError::validation(member, quoted, &constraint));
    }
    Ok(())
}

/// A token of `[-A-Za-z0-9+/=]+`, 1 to `max` characters (ClientToken, RequestToken, NextToken).
fn token<'a>(member: &str, value: &'a str, max: usize) -> Result<&'a str, CloudControlError> {
    length(member, value, 1, max)?;
    if !value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-+/=".contains(&b)) {
        return Err(CloudControlError::validation(
            member,
            Some(value),
            "Member must satisfy regular expression pattern: [-A-Za-z0-9+/=]+",
        ));
    }
    Ok(value)
}

/// A JSON object given as a string, as Cloud Control takes resource models.
fn object(member: &str, text: &str) -> Result<Map<String, Value>, CloudControlError> {
    match serde_json::from_str(text) {
        Ok(Value::Object(object)) => Ok(object),
        _ => Err(CloudControlError::invalid_request(format!(
            "{member} is not a JSON object"
        ))),
    }
}

impl Input {
    /// TypeName; RoleArn and TypeVersionId, which come with it, are refused.
    pub fn type_name(&self) -> Result<&str, CloudControlError> {
        let name = required("typeName", &self.type_name)?;
        length("typeName", name, 10, 196)?;
        let segments: Vec<&str> = name.split("::").collect();
        let well_formed = segments.len() == 3
            && segments
                .iter()
                .all(|s| (2..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()));
        if !well_formed {
            return Err(CloudControlError::validation(
                "typeName",
                Some(name),
                "Member must satisfy regular expression pattern: [A-Za-z0-9]{2,64}::[A-Za-z0-9]{2,64}::[A-Za-z0-9]{2,64}",
            ));
        }
        self.refuse_unsupported()?;
        Ok(name)
    }

    /// RoleArn and TypeVersionId change who runs the handlers and which version: not emulated, so refused rather
    /// than ignored.
    fn refuse_unsupported(&self) -> Result<(), CloudControlError> {
        if self.role_arn.is_some() {
            return Err(CloudControlError::invalid_request(
                "RoleArn is not supported by this emulator: handlers run with the caller's credentials",
            ));
        }
        if self.type_version_id.is_some() {
            return Err(CloudControlError::invalid_request(
                "TypeVersionId is not supported by this emulator: each type has one version",
            ));
        }
        Ok(())
    }

    pub fn identifier(&self) -> Result<&str, CloudControlError> {
        let identifier = required("identifier", &self.identifier)?;
        length("identifier", identifier, 1, 1024)?;
        Ok(identifier)
    }

    pub fn desired_state(&self) -> Result<Map<String, Value>, CloudControlError> {
        let text = required("desiredState", &self.desired_state)?;
        length("desiredState", text, 1, MAX_DOCUMENT)?;
        object("DesiredState", text)
    }

    pub fn patch_document(&self) -> Result<&str, CloudControlError> {
        let text = required("patchDocument", &self.patch_document)?;
        length("patchDocument", text, 1, MAX_DOCUMENT)?;
        Ok(text)
    }

    /// ListResources' selection (none: `{}`).
    pub fn resource_model(&self) -> Result<Map<String, Value>, CloudControlError> {
        match &self.resource_model {
            None => Ok(Map::new()),
            Some(text) => {
                length("resourceModel", text, 1, MAX_DOCUMENT)?;
                object("ResourceModel", text)
            }
        }
    }

    pub fn client_token(&self) -> Result<Option<&str>, CloudControlError> {
        self.client_token
            .as_deref()
            .map(|value| token("clientToken", value, 128))
            .transpose()
    }

    pub fn request_token(&self) -> Result<&str, CloudControlError> {
        token("requestToken", required("requestToken", &self.request_token)?, 128)
    }

    /// ListResources' NextToken, the handler's own (any text up to 4096 characters).
    pub fn handler_next_token(&self) -> Result<Option<&str>, CloudControlError> {
        self.next_token
            .as_deref()
            .map(|value| length("nextToken", value, 1, 4096).map(|()| value))
            .transpose()
    }

    /// ListResourceRequests' NextToken, one this service wrote.
    pub fn next_token(&self) -> Result<Option<&str>, CloudControlError> {
        self.next_token
            .as_deref()
            .map(|value| token("nextToken", value, 2048))
            .transpose()
    }

    /// MaxResults (1 to 100), or `default`.
    pub fn max_results(&self, default: usize) -> Result<usize, CloudControlError> {
        match self.max_results {
            None => Ok(default),
            Some(value) => match usize::try_from(value) {
                Ok(count @ 1..=100) => Ok(count),
                _ => {
                    let text = value.to_string();
                    let constraint = if value < 1 {
                        "Member must have value greater than or equal to 1"
                    } else {
                        "Member must have value less than or equal to 100"
                    };
                    Err(CloudControlError::validation("maxResults", Some(&text), constraint))
                }
            },
        }
    }

    pub fn status_filter(&self) -> &StatusFilter {
        &self.resource_request_status_filter
    }
}
