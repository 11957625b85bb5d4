//! The request parameters that IAM's actions share, checked as IAM checks them, and its list markers.

use crate::protocol::query::{Params, QueryError};

/// What an action answers: its result XML, if any, or the error.
pub(super) type IamResult = Result<Option<String>, QueryError>;

/// The characters allowed in role and policy names besides letters and digits.
pub(super) const NAME_CHARS: &str = "+=,.@_-";

pub(super) fn no_such_role(name: &str) -> QueryError {
    QueryError::new(
        404,
        "NoSuchEntity",
        format!("The role with name {name} cannot be found."),
    )
}

pub(super) fn role_name(params: &Params) -> Result<&str, QueryError> {
    let Some(name) = params.get("RoleName") else {
        return Err(QueryError::missing("roleName"));
    };
    if name.is_empty() || name.chars().count() > 64 {
        return Err(QueryError::validation(
            Some(name),
            "roleName",
            "Member must have length less than or equal to 64 and greater than or equal to 1",
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || NAME_CHARS.contains(c))
    {
        return Err(QueryError::validation(
            Some(name),
            "roleName",
            "Member must satisfy regular expression pattern: [\\w+=,.@-]+",
        ));
    }
    Ok(name)
}

pub(super) fn path_param<'a>(params: &'a Params, name: &str, member: &str) -> Result<&'a str, QueryError> {
    let path = params.get(name).unwrap_or("/");
    let valid = path.len() <= 512
        && path.starts_with('/')
        && path.ends_with('/')
        && path.chars().all(|c| ('\u{21}'..='\u{7e}').contains(&c));
    if valid {
        Ok(path)
    } else {
        Err(QueryError::validation(
            Some(path),
            member,
            "Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)",
        ))
    }
}

pub(super) fn max_items(params: &Params) -> Result<usize, QueryError> {
    match params.get("MaxItems") {
        None => Ok(100),
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => Ok(n),
            _ => Err(QueryError::validation(
                Some(text),
                "maxItems",
                "Member must have value less than or equal to 1000 and greater than or equal to 1",
            )),
        },
    }
}

/// Opaque list markers: the hex of the last item's key.
pub(super) fn encode_marker(key: &str) -> String {
    key.bytes().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn decode_marker(marker: &str) -> Result<String, QueryError> {
    let invalid = || QueryError::new(400, "InvalidInput", "Invalid Marker.");
    if !marker.len().is_multiple_of(2) {
        return Err(invalid());
    }
    let bytes: Option<Vec<u8>> = (0..marker.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(marker.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes.ok_or_else(invalid)?).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_round_trip() {
        assert_eq!(decode_marker(&encode_marker("role-a")).unwrap(), "role-a");
        assert!(decode_marker("zz").is_err());
        assert!(decode_marker("abc").is_err());
    }
}
