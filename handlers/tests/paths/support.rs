//! What the create and update tests share: the cluster and role they use, tags, and the check of a FAILED event.

use std::collections::BTreeMap;

use pia_handlers::{HandlerErrorCode, OperationStatus, ProgressEvent, Tag};

pub const CLUSTER: &str = "prod";
pub const ROLE: &str = "arn:aws:iam::111122223333:role/app";

pub fn tag(key: &str, value: &str) -> Tag {
    Tag {
        key: key.into(),
        value: value.into(),
    }
}

pub fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// FAILED with this code, a message saying `message_part`, and no model (a FAILED event never carries one).
pub fn assert_failed(event: &ProgressEvent, code: HandlerErrorCode, message_part: &str) {
    assert_eq!(event.status, OperationStatus::Failed, "{event:?}");
    assert_eq!(event.error_code, Some(code), "{event:?}");
    let message = event.message.as_deref().unwrap_or_default();
    assert!(
        message.contains(message_part),
        "{message:?} does not contain {message_part:?}"
    );
    assert_eq!(event.resource_model, None);
}
