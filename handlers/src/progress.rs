//! ProgressEvent: what a handler answers, in the exact JSON shape CloudFormation expects (absent fields left out).

use serde::Serialize;

use crate::error::HandlerError;
use crate::model::ResourceModel;
use crate::status::{HandlerErrorCode, OperationStatus};

/// One invocation's answer. A failure is an event too, with its code and a bounded message:
///
/// ```rust
/// use pia_handlers::testing::MemoryEks;
/// use pia_handlers::{Action, Pacing, ResourceModel, ResourceRequest, handle};
/// use serde_json::json;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let eks = MemoryEks::new().with_cluster("prod");
/// let request = ResourceRequest {
///     desired: ResourceModel {
///         cluster_name: Some("prod".into()),
///         association_id: Some("a-0123456789abcdefg".into()),
///         ..ResourceModel::default()
///     },
///     scope: eks.scope(),
///     ..ResourceRequest::default()
/// };
/// let event = handle(&eks, Action::Read, &request, &Pacing::default()).await;
/// assert_eq!(
///     serde_json::to_value(&event).unwrap(),
///     json!({
///         "status": "FAILED",
///         "errorCode": "NotFound",
///         "message": "pod identity association a-0123456789abcdefg does not exist in cluster prod",
///     })
/// );
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProgressEvent {
    pub status: OperationStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<HandlerErrorCode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_model: Option<ResourceModel>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_models: Option<Vec<ResourceModel>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_context: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_delay_seconds: Option<u32>,
}

/// The longest message sent back. CloudFormation shows it as the status reason; a message that echoes a hostile
/// input (a megabyte-long ARN, EKS's own echo of it) must not make the event megabytes long.
pub const MAX_MESSAGE_CHARS: usize = 2000;

fn bounded(message: String) -> String {
    if message.chars().count() <= MAX_MESSAGE_CHARS {
        return message;
    }
    let mut short: String = message.chars().take(MAX_MESSAGE_CHARS - 1).collect();
    short.push('…');
    short
}

impl ProgressEvent {
    fn with_status(status: OperationStatus) -> Self {
        Self {
            status,
            error_code: None,
            message: None,
            resource_model: None,
            resource_models: None,
            next_token: None,
            callback_context: None,
            callback_delay_seconds: None,
        }
    }

    /// SUCCESS carrying the resulting model.
    pub fn success(model: ResourceModel) -> Self {
        Self {
            resource_model: Some(model),
            ..Self::with_status(OperationStatus::Success)
        }
    }

    /// DELETE's SUCCESS carries no model at all.
    pub fn deleted() -> Self {
        Self::with_status(OperationStatus::Success)
    }

    /// LIST's SUCCESS: one page of models and the token of the next page.
    pub fn listed(models: Vec<ResourceModel>, next_token: Option<String>) -> Self {
        Self {
            resource_models: Some(models),
            next_token,
            ..Self::with_status(OperationStatus::Success)
        }
    }

    /// IN_PROGRESS: CloudFormation waits `delay_seconds`, then calls again with `model` and `context`.
    pub fn in_progress(model: ResourceModel, context: serde_json::Value, delay_seconds: u32) -> Self {
        Self {
            resource_model: Some(model),
            callback_context: Some(context),
            callback_delay_seconds: Some(delay_seconds),
            ..Self::with_status(OperationStatus::InProgress)
        }
    }

    pub fn failed(code: HandlerErrorCode, message: impl Into<String>) -> Self {
        Self {
            error_code: Some(code),
            message: Some(bounded(message.into())),
            ..Self::with_status(OperationStatus::Failed)
        }
    }

    pub fn is_success(&self) -> bool {
        self.status == OperationStatus::Success
    }
}

impl From<HandlerError> for ProgressEvent {
    fn from(error: HandlerError) -> Self {
        Self::failed(error.code(), error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn leaves_absent_fields_out() {
        let event = serde_json::to_value(ProgressEvent::deleted()).unwrap();
        assert_eq!(event, json!({"status": "SUCCESS"}));
        let event = serde_json::to_value(ProgressEvent::failed(HandlerErrorCode::NotFound, "gone")).unwrap();
        assert_eq!(
            event,
            json!({"status": "FAILED", "errorCode": "NotFound", "message": "gone"})
        );
        let event = serde_json::to_value(ProgressEvent::listed(vec![], None)).unwrap();
        assert_eq!(event, json!({"status": "SUCCESS", "resourceModels": []}));
    }

    #[test]
    fn in_progress_carries_context_and_delay() {
        let event = ProgressEvent::in_progress(ResourceModel::default(), json!({"a": 1}), 15);
        assert_eq!(
            serde_json::to_value(event).unwrap(),
            json!({"status": "IN_PROGRESS", "resourceModel": {}, "callbackContext": {"a": 1}, "callbackDelaySeconds": 15})
        );
    }

    #[test]
    fn messages_are_bounded() {
        let event = ProgressEvent::failed(HandlerErrorCode::InvalidRequest, "é".repeat(1_000_000));
        let message = event.message.unwrap();
        assert_eq!(message.chars().count(), MAX_MESSAGE_CHARS);
        assert!(message.ends_with('…'));
        let event = ProgressEvent::failed(HandlerErrorCode::InvalidRequest, "short");
        assert_eq!(event.message.as_deref(), Some("short"));
    }

    #[test]
    fn every_code_keeps_its_name() {
        let event = ProgressEvent::failed(HandlerErrorCode::UnauthorizedTaggingOperation, "no");
        assert_eq!(
            serde_json::to_value(event).unwrap()["errorCode"],
            "UnauthorizedTaggingOperation"
        );
    }
}
