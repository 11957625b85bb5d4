//! Errors as the rest-json services (EKS, EKS Auth) send them: the status, the error's name in
//! `x-amzn-errortype`, and a JSON body with at least `message`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

/// An error with the body `{"message": MESSAGE}` and whatever `extra` members the service adds.
pub(crate) fn error_response(
    status: StatusCode,
    code: &'static str,
    message: &str,
    extra: Map<String, Value>,
) -> Response {
    let mut body = Map::new();
    body.insert("message".into(), Value::String(message.to_owned()));
    body.extend(extra);
    let mut response = (status, axum::Json(Value::Object(body))).into_response();
    let headers = response.headers_mut();
    headers.insert("x-amzn-errortype", HeaderValue::from_static(code));
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
