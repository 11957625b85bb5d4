//! The Kubernetes API's answers: objects as JSON, and failures as a `Status` object (`kind: Status`, `reason`,
//! `message`, `code`), which kubectl and client-go read.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A failure: `Status` with the HTTP code, the Kubernetes reason (`Unauthorized`, `Forbidden`, `NotFound`,
/// `Invalid`, `BadRequest`) and the message.
pub(crate) fn status_response(status: StatusCode, reason: &str, message: &str) -> Response {
    let body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": status.as_u16(),
    });
    (status, Json(body)).into_response()
}
