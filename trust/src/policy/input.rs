//! A trust policy as people have it at hand: the document, or what `aws iam get-role` prints (the document
//! under `Role.AssumeRolePolicyDocument`, beside the role's ARN), as JSON or as YAML.

use std::borrow::Cow;

use serde_json::Value;

use super::document::PolicyDocument;
use super::error::PolicyError;
use super::read::json_error_message;

/// A policy read from text, and the role it belongs to when the text says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyInput {
    pub policy: PolicyDocument,
    /// `Role.Arn` of `aws iam get-role` output.
    pub role_arn: Option<String>,
}

impl PolicyInput {
    /// Reads JSON (text starting with `{` or `[`) or YAML; a document, or `aws iam get-role` output.
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        let value: Value = if text.trim_start().starts_with(['{', '[']) {
            serde_json::from_str(text).map_err(|error| PolicyError::Json {
                line: error.line(),
                column: error.column(),
                message: json_error_message(&error),
            })?
        } else {
            serde_norway::from_str(text).map_err(|error| PolicyError::Yaml {
                message: error.to_string(),
            })?
        };
        let Some(role) = value.get("Role").filter(|_| value.get("Statement").is_none()) else {
            return Ok(Self {
                policy: PolicyDocument::from_value(&value)?,
                role_arn: None,
            });
        };
        let policy = match role.get("AssumeRolePolicyDocument") {
            // The AWS CLI decodes the document; the raw API answer has it URL-encoded.
            Some(Value::String(text)) => PolicyDocument::parse(&decode_policy_text(text))?,
            Some(document) => PolicyDocument::from_value(document)?,
            None => {
                return Err(PolicyError::Malformed {
                    element: "Role".to_owned(),
                    problem: "this get-role output has no AssumeRolePolicyDocument".to_owned(),
                });
            }
        };
        Ok(Self {
            policy,
            role_arn: role.get("Arn").and_then(Value::as_str).map(str::to_owned),
        })
    }
}

/// IAM returns policy documents URL-encoded (RFC 3986: `%7B%22Version%22...`). A document that already
/// starts with `{` is returned as is, so emulators that do not encode work too.
pub fn decode_policy_text(text: &str) -> Cow<'_, str> {
    if text.trim_start().starts_with('{') {
        return Cow::Borrowed(text);
    }
    percent_encoding::percent_decode_str(text).decode_utf8_lossy()
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": ["sts:AssumeRole", "sts:TagSession"]}]}"#;

    #[test]
    fn decodes_url_encoded_policies_only() {
        assert_eq!(
            decode_policy_text("%7B%22Version%22%3A%222012-10-17%22%7D"),
            "{\"Version\":\"2012-10-17\"}"
        );
        assert_eq!(decode_policy_text("  {\"a\": \"100%\"}"), "  {\"a\": \"100%\"}");
        // A literal plus stays a plus (IAM encodes spaces as %20, never as +).
        assert_eq!(decode_policy_text("%7B%22a+b%22%20%7D"), "{\"a+b\" }");
        assert_eq!(decode_policy_text("%ZZ"), "%ZZ");
    }

    #[test]
    fn reads_documents_and_get_role_output_in_json_and_yaml() {
        let document = PolicyDocument::parse(POLICY).unwrap();
        let plain = PolicyInput::parse(POLICY).unwrap();
        assert_eq!((plain.policy.clone(), plain.role_arn), (document.clone(), None));
        let yaml = "Version: '2012-10-17'\nStatement:\n  - Effect: Allow\n    Principal: {Service: pods.eks.amazonaws.com}\n    Action: [sts:AssumeRole, sts:TagSession]\n";
        assert_eq!(PolicyInput::parse(yaml).unwrap().policy, document);
        let get_role = format!(
            r#"{{"Role": {{"RoleName": "app", "Arn": "arn:aws:iam::111122223333:role/app", "AssumeRolePolicyDocument": {POLICY}}}}}"#
        );
        let read = PolicyInput::parse(&get_role).unwrap();
        assert_eq!(read.policy, document);
        assert_eq!(read.role_arn.as_deref(), Some("arn:aws:iam::111122223333:role/app"));
        let encoded = r#"{"Role": {"AssumeRolePolicyDocument": "%7B%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%22%2A%22%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%7D"}}"#;
        assert_eq!(PolicyInput::parse(encoded).unwrap().policy.statements.len(), 1);
        let get_role_yaml = "Role:\n  Arn: arn:aws:iam::111122223333:role/app\n  AssumeRolePolicyDocument:\n    Version: '2012-10-17'\n    Statement:\n    - Effect: Allow\n      Principal:\n        Service: pods.eks.amazonaws.com\n      Action:\n      - sts:AssumeRole\n      - sts:TagSession\n";
        assert_eq!(PolicyInput::parse(get_role_yaml).unwrap().policy, document);
    }

    #[test]
    fn errors_say_what_the_text_is_not() {
        assert!(matches!(PolicyInput::parse("{not json"), Err(PolicyError::Json { .. })));
        assert!(matches!(PolicyInput::parse("a: [b"), Err(PolicyError::Yaml { .. })));
        let no_document = PolicyInput::parse(r#"{"Role": {"RoleName": "app"}}"#).unwrap_err();
        assert!(
            no_document.to_string().contains("no AssumeRolePolicyDocument"),
            "{no_document}"
        );
    }
}
