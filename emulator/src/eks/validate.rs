//! Input rules of the EKS association and tagging APIs.

use std::collections::BTreeMap;

use pia_core::RoleArn;

use super::error::{ApiError, ErrorKind};

pub const ASSOCIATION_ID_LEN: usize = 19;
pub const MAX_TAGS: usize = 50;
pub const MAX_TAG_KEY_LEN: usize = 128;
pub const MAX_TAG_VALUE_LEN: usize = 256;
pub const MAX_POLICY_LEN: usize = 2048;
pub const MAX_RESULTS: i64 = 100;

/// Describe, Update and Delete reject ids of the wrong length before anything else.
pub fn association_id(id: &str) -> Result<(), ApiError> {
    if id.chars().count() == ASSOCIATION_ID_LEN {
        Ok(())
    } else {
        Err(ApiError::invalid_parameter(
            "The parameter associationId should be 19 characters long.",
        ))
    }
}

/// An IAM role ARN as EKS accepts it: the role ARN of `pia-core`, with IAM's rules for names and paths (letters,
/// digits and `+=,.@_-`; a name of at most 64 characters) and a lower-case partition.
pub fn parse_role_arn(arn: &str) -> Option<RoleArn> {
    if arn.len() > 2048 {
        return None;
    }
    let role: RoleArn = arn.parse().ok()?;
    let valid_segment =
        |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    let path = role.path().trim_matches('/');
    let ok = role.partition().chars().all(|c| c.is_ascii_lowercase() || c == '-')
        && role.name().len() <= 64
        && valid_segment(role.name())
        && (path.is_empty() || path.split('/').all(valid_segment));
    ok.then_some(role)
}

/// The tags of a create (InvalidParameterException) or a TagResource (BadRequestException): at most
/// 50 in all, keys 1–128 characters, values up to 256, no `aws:` prefix unless allowed.
pub fn tags(tags: &BTreeMap<String, String>, allow_system_tags: bool, kind: ErrorKind) -> Result<(), ApiError> {
    if tags.len() > MAX_TAGS {
        return Err(ApiError::new(
            kind,
            format!("The number of tags on a resource cannot exceed {MAX_TAGS}."),
        ));
    }
    for (key, value) in tags {
        let key_len = key.chars().count();
        if key_len == 0 || key_len > MAX_TAG_KEY_LEN {
            return Err(ApiError::new(
                kind,
                format!("Tag keys must be between 1 and {MAX_TAG_KEY_LEN} characters long: {key:?}."),
            ));
        }
        if value.chars().count() > MAX_TAG_VALUE_LEN {
            return Err(ApiError::new(
                kind,
                format!("Tag values must be at most {MAX_TAG_VALUE_LEN} characters long (key {key:?})."),
            ));
        }
        if !allow_system_tags && (has_system_prefix(key) || has_system_prefix(value)) {
            return Err(ApiError::new(
                kind,
                format!("Tag keys and values cannot begin with the reserved prefix 'aws:' (key {key:?})."),
            ));
        }
    }
    Ok(())
}

fn has_system_prefix(text: &str) -> bool {
    text.get(..4).is_some_and(|prefix| prefix.eq_ignore_ascii_case("aws:"))
}

/// A Kubernetes namespace name: a DNS-1123 label.
pub fn namespace(namespace: &str) -> Result<(), ApiError> {
    if is_dns_label(namespace) {
        Ok(())
    } else {
        Err(ApiError::invalid_parameter(format!(
            "Invalid namespace {namespace:?}: it must be a lowercase RFC 1123 label of at most 63 characters."
        )))
    }
}

/// A Kubernetes service account name: a DNS-1123 subdomain.
pub fn service_account(service_account: &str) -> Result<(), ApiError> {
    if service_account.len() <= 253 && service_account.split('.').all(is_dns_label) {
        Ok(())
    } else {
        Err(ApiError::invalid_parameter(format!(
            "Invalid serviceAccount {service_account:?}: it must be a lowercase RFC 1123 subdomain of at most 253 characters."
        )))
    }
}

fn is_dns_label(label: &str) -> bool {
    let bytes = label.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

/// A session policy: a JSON object of at most 2,048 characters.
pub fn policy(policy: &str) -> Result<(), ApiError> {
    if policy.chars().count() > MAX_POLICY_LEN {
        return Err(ApiError::invalid_parameter(format!(
            "The policy must be at most {MAX_POLICY_LEN} characters long."
        )));
    }
    match serde_json::from_str::<serde_json::Value>(policy) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        _ => Err(ApiError::invalid_parameter(
            "The policy is not a valid JSON policy document.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns() {
        let arn = parse_role_arn("arn:aws:iam::111122223333:role/service/my-role_1+=,.@").unwrap();
        assert_eq!(
            (arn.partition(), arn.account_id(), arn.path(), arn.name()),
            ("aws", "111122223333", "/service/", "my-role_1+=,.@")
        );
        assert!(parse_role_arn("arn:aws-cn:iam::111122223333:role/r").is_some());
        for bad in [
            "",
            "arn:aws:iam::111122223333:user/u",
            "arn:aws:iam::11112222333:role/r",
            "arn:aws:iam:us-east-1:111122223333:role/r",
            "arn:aws:sts::111122223333:role/r",
            "arn:aws:iam::111122223333:role/",
            "arn:aws:iam::111122223333:role/a b",
            "arn:aws:iam::111122223333:role//r",
            "arn:AWS:iam::111122223333:role/r",
        ] {
            assert!(parse_role_arn(bad).is_none(), "{bad}");
        }
        assert!(parse_role_arn(&format!("arn:aws:iam::111122223333:role/{}", "r".repeat(64))).is_some());
        assert!(parse_role_arn(&format!("arn:aws:iam::111122223333:role/{}", "r".repeat(65))).is_none());
    }

    #[test]
    fn tag_rules() {
        let ok: BTreeMap<String, String> = [("k".repeat(128), "v".repeat(256)), ("empty".into(), String::new())]
            .into_iter()
            .collect();
        assert!(tags(&ok, false, ErrorKind::BadRequest).is_ok());
        let fifty: BTreeMap<String, String> = (0..50).map(|i| (format!("k{i}"), "v".into())).collect();
        assert!(tags(&fifty, false, ErrorKind::BadRequest).is_ok());
        let mut fifty_one = fifty.clone();
        fifty_one.insert("one-more".into(), "v".into());
        assert_eq!(
            tags(&fifty_one, false, ErrorKind::BadRequest).unwrap_err().kind,
            ErrorKind::BadRequest
        );
        for (key, value) in [
            (String::new(), "v".to_owned()),
            ("k".repeat(129), "v".to_owned()),
            ("k".to_owned(), "v".repeat(257)),
            ("AWS:x".to_owned(), "v".to_owned()),
            ("x".to_owned(), "aws:v".to_owned()),
        ] {
            let one: BTreeMap<String, String> = [(key.clone(), value)].into_iter().collect();
            let error = tags(&one, false, ErrorKind::InvalidParameter).unwrap_err();
            assert_eq!(error.kind, ErrorKind::InvalidParameter, "{key}");
        }
        let system: BTreeMap<String, String> = [("aws:cloudformation:stack-name".into(), "s".into())].into();
        assert!(tags(&system, true, ErrorKind::BadRequest).is_ok());
    }

    #[test]
    fn kubernetes_names() {
        assert!(namespace("kube-system").is_ok());
        assert!(namespace("a").is_ok());
        for bad in ["", "-a", "a-", "A", "a.b", &"a".repeat(64)] {
            assert!(namespace(bad).is_err(), "{bad}");
        }
        assert!(service_account("my.service-account").is_ok());
        for bad in ["", "a..b", "Upper", ".a"] {
            assert!(service_account(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn association_ids_and_policies() {
        assert!(association_id("a-0123456789abcdefg").is_ok());
        assert!(association_id("a-0123456789abcdef").is_err());
        assert_eq!(
            association_id("x").unwrap_err().message,
            "The parameter associationId should be 19 characters long."
        );
        assert!(policy(r#"{"Version":"2012-10-17","Statement":[]}"#).is_ok());
        assert!(policy("[]").is_err());
        assert!(policy("nope").is_err());
        assert!(policy(&format!(r#"{{"x":"{}"}}"#, "a".repeat(2048))).is_err());
    }
}
