//! The JSON 1.0 protocol (`X-Amz-Target: Prefix.Operation`, `application/x-amz-json-1.0`), as Cloud Control speaks
//! it: results as a JSON object, errors as `{"__type": CODE, "Message": MESSAGE}`, which the SDKs read as the code
//! (after any `namespace#`) and the message.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub(crate) const CONTENT_TYPE: &str = "application/x-amz-json-1.0";

/// An operation's result, `200` with the output shape's members.
pub(crate) fn ok_response(output: Value) -> Response {
    with_content_type((StatusCode::OK, output.to_string()).into_response())
}

pub(crate) fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({"__type": code, "Message": message});
    with_content_type((status, body.to_string()).into_response())
}

fn with_content_type(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    response
}
