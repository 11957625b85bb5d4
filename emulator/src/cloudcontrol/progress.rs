//! A resource operation request's ProgressEvent, as Cloud Control reports it.

use serde::Serialize;
use serde_json::Value;

use crate::clock::now_epoch_seconds;

/// The resource operations Cloud Control runs as requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub(super) enum Operation {
    Create,
    Update,
    Delete,
}

impl Operation {
    pub fn name(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(super) enum OperationStatus {
    InProgress,
    Success,
    Failed,
    CancelInProgress,
    CancelComplete,
}

impl OperationStatus {
    pub fn name(self) -> &'static str {
        match self {
            OperationStatus::InProgress => "IN_PROGRESS",
            OperationStatus::Success => "SUCCESS",
            OperationStatus::Failed => "FAILED",
            OperationStatus::CancelInProgress => "CANCEL_IN_PROGRESS",
            OperationStatus::CancelComplete => "CANCEL_COMPLETE",
        }
    }

    /// Still running: another request on the same resource must wait, and a cancel applies.
    pub fn is_active(self) -> bool {
        matches!(self, OperationStatus::InProgress | OperationStatus::CancelInProgress)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ProgressEvent {
    pub type_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
    pub request_token: String,
    pub operation: Operation,
    pub operation_status: OperationStatus,
    /// Epoch seconds, as JSON 1.0 writes timestamps.
    pub event_time: f64,
    /// The model as a JSON string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
}

impl ProgressEvent {
    /// A request just taken: IN_PROGRESS, with the desired model.
    pub fn started(
        type_name: &str,
        identifier: Option<String>,
        request_token: String,
        operation: Operation,
        model: Option<&Value>,
    ) -> Self {
        Self {
            type_name: type_name.to_owned(),
            identifier,
            request_token,
            operation,
            operation_status: OperationStatus::InProgress,
            event_time: now_epoch_seconds(),
            resource_model: model.map(Value::to_string),
            status_message: None,
            error_code: None,
        }
    }
}
