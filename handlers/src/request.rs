//! What a handler is asked to do, independent of the wire shape the request arrived in.

use crate::model::ResourceModel;
use crate::scope::Scope;
use crate::tags::TagMap;

/// One invocation: the models, tags, scope and callback state a handler acts on.
///
/// A List, page by page: `next_token` carries the token of the previous event.
///
/// ```rust
/// use pia_handlers::eks::{EksApi, NewAssociation};
/// use pia_handlers::testing::MemoryEks;
/// use pia_handlers::{Action, Pacing, ResourceModel, ResourceRequest, handle};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let role = "arn:aws:iam::111122223333:role/app";
/// let eks = MemoryEks::new().with_cluster("prod").with_role(role).with_page_size(2);
/// for n in 0..3 {
///     let new = NewAssociation {
///         cluster_name: "prod".into(),
///         namespace: "default".into(),
///         service_account: format!("app-{n}"),
///         role_arn: role.into(),
///         ..NewAssociation::default()
///     };
///     eks.create_association(&new).await.unwrap();
/// }
/// let mut request = ResourceRequest {
///     desired: ResourceModel {
///         cluster_name: Some("prod".into()),
///         ..ResourceModel::default()
///     },
///     scope: eks.scope(),
///     ..ResourceRequest::default()
/// };
/// let first = handle(&eks, Action::List, &request, &Pacing::default()).await;
/// assert_eq!(first.resource_models.map(|models| models.len()), Some(2));
/// request.next_token = first.next_token;
/// let second = handle(&eks, Action::List, &request, &Pacing::default()).await;
/// assert_eq!(second.resource_models.map(|models| models.len()), Some(1));
/// assert_eq!(second.next_token, None);
/// # }
/// ```
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
