//! The CRUDL handlers of `AWS::EKS::PodIdentityAssociation`, written against a narrow EKS interface
//! ([`eks::EksApi`]). The wire protocol and the AWS SDK live elsewhere.

pub mod arn;
pub mod create;
pub mod delete;
pub mod eks;
pub mod error;
pub mod list;
pub mod model;
pub mod progress;
pub mod propagation;
pub mod read;
pub mod request;
pub mod scope;
pub mod status;
pub mod tags;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod translate;
pub mod update;

use serde::{Deserialize, Serialize};

pub use create::Pacing;
pub use eks::EksApi;
pub use error::HandlerError;
pub use model::{ResourceModel, Tag};
/// The partition of a region, for what the provider decides per partition (its trust store).
pub use pia_core::partition_of_region;
pub use progress::ProgressEvent;
pub use request::ResourceRequest;
pub use scope::Scope;
pub use status::{HandlerErrorCode, OperationStatus};

/// The five handler actions, spelled as CloudFormation spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Action {
    Create,
    Read,
    Update,
    Delete,
    List,
}

impl Action {
    pub const ALL: [Self; 5] = [Self::Create, Self::Read, Self::Update, Self::Delete, Self::List];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "CREATE",
            Self::Read => "READ",
            Self::Update => "UPDATE",
            Self::Delete => "DELETE",
            Self::List => "LIST",
        }
    }
}

/// Runs one action. Every failure becomes a FAILED event with its HandlerErrorCode; nothing escapes.
///
/// ```rust
/// use pia_handlers::testing::{CREATE, DELETE, DESCRIBE, MemoryEks};
/// use pia_handlers::{Action, HandlerErrorCode, OperationStatus, Pacing, ResourceModel, ResourceRequest, handle};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let role = "arn:aws:iam::111122223333:role/app";
/// let eks = MemoryEks::new().with_cluster("prod").with_role(role);
/// let create = ResourceRequest {
///     desired: ResourceModel {
///         cluster_name: Some("prod".into()),
///         namespace: Some("default".into()),
///         service_account: Some("app".into()),
///         role_arn: Some(role.into()),
///         ..ResourceModel::default()
///     },
///     scope: eks.scope(),
///     client_request_token: Some("4b0c7f1e-create".into()),
///     ..ResourceRequest::default()
/// };
/// let created = handle(&eks, Action::Create, &create, &Pacing::default()).await;
/// assert_eq!(created.status, OperationStatus::Success);
/// let model = created.resource_model.unwrap();
///
/// // Read and Delete need only the primary identifier.
/// let by_arn = ResourceRequest {
///     desired: ResourceModel {
///         association_arn: model.association_arn.clone(),
///         ..ResourceModel::default()
///     },
///     scope: eks.scope(),
///     ..ResourceRequest::default()
/// };
/// let read = handle(&eks, Action::Read, &by_arn, &Pacing::default()).await;
/// assert_eq!(read.resource_model.as_ref(), Some(&model));
/// assert!(handle(&eks, Action::Delete, &by_arn, &Pacing::default()).await.is_success());
///
/// // A failure is an event too.
/// let gone = handle(&eks, Action::Read, &by_arn, &Pacing::default()).await;
/// assert_eq!(gone.status, OperationStatus::Failed);
/// assert_eq!(gone.error_code, Some(HandlerErrorCode::NotFound));
/// assert_eq!(eks.take_calls(), [CREATE, DESCRIBE, DELETE, DESCRIBE]);
/// # }
/// ```
pub async fn handle(eks: &impl EksApi, action: Action, request: &ResourceRequest, pacing: &Pacing) -> ProgressEvent {
    let outcome = match action {
        Action::Create => create::create(eks, request, pacing).await,
        Action::Read => read::read(eks, request).await,
        Action::Update => update::update(eks, request).await,
        Action::Delete => delete::delete(eks, request).await,
        Action::List => list::list(eks, request).await,
    };
    outcome.unwrap_or_else(ProgressEvent::from)
}
