//! The CRUDL handlers of `AWS::EKS::PodIdentityAssociation`, written against a narrow EKS interface
//! ([`eks::EksApi`]). The wire protocol and the AWS SDK live elsewhere.

pub mod arn;
pub mod convert;
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
pub mod update;

use serde::{Deserialize, Serialize};

pub use create::Pacing;
pub use eks::EksApi;
pub use error::HandlerError;
pub use model::{ResourceModel, Tag};
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
