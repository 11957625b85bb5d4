//! GetResourceRequestStatus, ListResourceRequests and CancelResourceRequest, over the requests kept.

use serde_json::{Value, json};

use super::CloudControlError;
use super::input::Input;
use super::requests::Requests;

/// ListResourceRequests' page size when MaxResults is not given.
const DEFAULT_PAGE: usize = 20;

pub(super) fn get(requests: &Requests, input: &Input, owner: &str) -> Result<Value, CloudControlError> {
    let token = input.request_token()?;
    let event = requests
        .get(owner, token)
        .ok_or_else(|| CloudControlError::request_token_not_found(token))?;
    Ok(json!({ "ProgressEvent": event }))
}

pub(super) fn list(requests: &Requests, input: &Input, owner: &str) -> Result<Value, CloudControlError> {
    let max = input.max_results(DEFAULT_PAGE)?;
    let (events, next_token) = requests.list(owner, input.status_filter(), input.next_token()?, max)?;
    let mut output = json!({ "ResourceRequestStatusSummaries": events });
    if let Some(token) = next_token {
        output["NextToken"] = json!(token);
    }
    Ok(output)
}

pub(super) fn cancel(requests: &Requests, input: &Input, owner: &str) -> Result<Value, CloudControlError> {
    let event = requests.cancel(owner, input.request_token()?)?;
    Ok(json!({ "ProgressEvent": event }))
}
