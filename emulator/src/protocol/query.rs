//! The AWS query protocol of IAM, STS and CloudFormation: form-encoded `Action=…&Version=…&…` requests on `POST /`,
//! XML responses `<ActionResponse><ActionResult>…</ActionResult><ResponseMetadata>…` and XML errors
//! `<ErrorResponse><Error><Type>Sender</Type><Code>…</Code><Message>…</Message></Error>…`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// The request's parameters: the query string's, then the form body's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn parse(query: Option<&str>, body: &[u8]) -> Self {
        let mut pairs: Vec<(String, String)> = query
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        pairs.extend(form_urlencoded::parse(body).into_owned());
        Self(pairs)
    }

    /// The last value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// A list member `PREFIX.member.N` in order of N.
    pub fn list(&self, prefix: &str) -> Vec<String> {
        let mut items: Vec<(u32, String)> = self
            .0
            .iter()
            .filter_map(|(key, value)| {
                let index = key.strip_prefix(prefix)?.strip_prefix(".member.")?;
                Some((index.parse().ok()?, value.clone()))
            })
            .collect();
        items.sort_by_key(|(index, _)| *index);
        items.into_iter().map(|(_, value)| value).collect()
    }

    /// One field of a list of structures, `PREFIX.member.N.FIELD`, in order of N.
    pub fn list_field(&self, prefix: &str, field: &str) -> Vec<String> {
        let suffix = format!(".{field}");
        let mut items: Vec<(u32, String)> = self
            .0
            .iter()
            .filter_map(|(key, value)| {
                let index = key
                    .strip_prefix(prefix)?
                    .strip_prefix(".member.")?
                    .strip_suffix(&suffix)?;
                Some((index.parse().ok()?, value.clone()))
            })
            .collect();
        items.sort_by_key(|(index, _)| *index);
        items.into_iter().map(|(_, value)| value).collect()
    }

    /// Tags `PREFIX.member.N.Key` / `.Value` in order of N; a missing value reads as "".
    pub fn tags(&self, prefix: &str) -> Vec<(Option<String>, String)> {
        let mut tags: std::collections::BTreeMap<u32, (Option<String>, String)> = Default::default();
        for (key, value) in &self.0 {
            let Some(rest) = key.strip_prefix(prefix).and_then(|rest| rest.strip_prefix(".member.")) else {
                continue;
            };
            let Some((index, field)) = rest.split_once('.') else {
                continue;
            };
            let Ok(index) = index.parse::<u32>() else {
                continue;
            };
            let entry = tags.entry(index).or_default();
            match field {
                "Key" => entry.0 = Some(value.clone()),
                "Value" => entry.1 = value.clone(),
                _ => {}
            }
        }
        tags.into_values().collect()
    }
}

/// An error as the query protocol sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QueryError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl QueryError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// 403 AccessDenied, IAM's and STS's answer to a request that the caller's policies do not allow.
    pub fn access_denied(message: impl Into<String>) -> Self {
        Self::new(403, "AccessDenied", message)
    }

    /// 400 ValidationError `1 validation error detected: Value … at '…' failed to satisfy constraint: …`.
    pub fn validation(value: Option<&str>, member: &str, constraint: &str) -> Self {
        let value = match value {
            Some(value) => format!("'{value}'"),
            None => "null".to_owned(),
        };
        Self::new(
            400,
            "ValidationError",
            format!(
                "1 validation error detected: Value {value} at '{member}' failed to satisfy constraint: {constraint}"
            ),
        )
    }

    pub fn missing(member: &str) -> Self {
        Self::validation(None, member, "Member must not be null")
    }
}

/// Escapes text for XML content.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// A small XML writer.
#[derive(Debug, Default)]
pub(crate) struct Xml(String);

impl Xml {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn open(&mut self, tag: &str) -> &mut Self {
        self.0.push('<');
        self.0.push_str(tag);
        self.0.push('>');
        self
    }

    pub fn close(&mut self, tag: &str) -> &mut Self {
        self.0.push_str("</");
        self.0.push_str(tag);
        self.0.push('>');
        self
    }

    /// `<tag>text</tag>`, escaped.
    pub fn leaf(&mut self, tag: &str, text: &str) -> &mut Self {
        self.open(tag);
        self.0.push_str(&escape(text));
        self.close(tag)
    }

    pub fn leaf_opt(&mut self, tag: &str, text: Option<&str>) -> &mut Self {
        if let Some(text) = text {
            self.leaf(tag, text);
        }
        self
    }

    pub fn finish(self) -> String {
        self.0
    }
}

/// Characters that IAM leaves as they are when it URL-encodes a policy document (RFC 3986 unreserved).
const POLICY_ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// A policy document URL-encoded, as IAM returns documents.
pub(crate) fn url_encode(text: &str) -> String {
    utf8_percent_encode(text, POLICY_ENCODE).to_string()
}

fn xml_response(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    response
}

/// `<ActionResponse xmlns=NAMESPACE>[<ActionResult>result</ActionResult>]<ResponseMetadata>…`.
pub(crate) fn ok_response(namespace: &str, action: &str, result: Option<String>, request_id: &str) -> Response {
    let mut body = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{action}Response xmlns=\"{namespace}\">");
    if let Some(result) = result {
        body.push_str(&format!("<{action}Result>{result}</{action}Result>"));
    }
    body.push_str(&format!(
        "<ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{action}Response>",
        escape(request_id)
    ));
    xml_response(StatusCode::OK, body)
}

pub(crate) fn error_response(namespace: &str, error: &QueryError, request_id: &str) -> Response {
    let kind = if error.status >= 500 { "Receiver" } else { "Sender" };
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse xmlns=\"{namespace}\"><Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
        escape(error.code),
        escape(&error.message),
        escape(request_id)
    );
    xml_response(
        StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST),
        body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_lists_and_tags() {
        let params = Params::parse(
            Some("Action=AssumeRole"),
            b"Version=2011-06-15&Tags.member.2.Key=b&Tags.member.2.Value=2&Tags.member.1.Key=a&Tags.member.1.Value=x%20y&TransitiveTagKeys.member.10=z&TransitiveTagKeys.member.2=b",
        );
        assert_eq!(params.get("Action"), Some("AssumeRole"));
        assert_eq!(params.get("Version"), Some("2011-06-15"));
        assert_eq!(
            params.tags("Tags"),
            vec![(Some("a".into()), "x y".into()), (Some("b".into()), "2".into())]
        );
        assert_eq!(params.list("TransitiveTagKeys"), ["b", "z"]);
    }

    #[test]
    fn xml_is_escaped_and_policies_url_encoded() {
        let mut xml = Xml::new();
        xml.open("A").leaf("B", "<&>").close("A");
        assert_eq!(xml.finish(), "<A><B>&lt;&amp;&gt;</B></A>");
        assert_eq!(
            url_encode(r#"{"Version": "2012-10-17"}"#),
            "%7B%22Version%22%3A%20%222012-10-17%22%7D"
        );
    }
}
