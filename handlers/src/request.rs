//! What a handler is asked to do, independent of the wire shape the request arrived in.

use crate::model::ResourceModel;
use crate::scope::Scope;
use crate::tags::TagMap;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourceRequest {
    /// The desired model (resourceProperties / desiredResourceState).
    pub desired: ResourceModel,
    /// The model before an update (previousResourceProperties).
    pub previous: Option<ResourceModel>,
    /// Stack-level tags CloudFormation wants on the resource.
    pub stack_tags: TagMap,
    /// The partition, region and account the request acts in.
    pub scope: Scope,
    /// Stable across the re-invocations of one operation: EKS's idempotency token.
    pub client_request_token: Option<String>,
    /// What this provider returned with its last IN_PROGRESS event, if any.
    pub callback_context: Option<serde_json::Value>,
    /// LIST: the page to fetch.
    pub next_token: Option<String>,
}
