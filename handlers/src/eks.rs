//! The narrow EKS interface the handlers depend on: the seven association calls, in the provider's own types.
//!
//! The implementation over aws-sdk-eks lives in the provider crate; tests may implement it too.

use std::collections::BTreeMap;
use std::future::Future;

use thiserror::Error;

/// An association as EKS describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Association {
    pub cluster_name: String,
    pub namespace: String,
    pub service_account: String,
    pub role_arn: String,
    pub association_arn: String,
    pub association_id: String,
    pub target_role_arn: Option<String>,
    pub external_id: Option<String>,
    pub disable_session_tags: Option<bool>,
    pub policy: Option<String>,
    pub owner_arn: Option<String>,
    pub tags: BTreeMap<String, String>,
}

/// One entry of a List page: identifiers only (EKS returns no role and no tags in lists).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssociationSummary {
    pub cluster_name: String,
    pub namespace: String,
    pub service_account: String,
    pub association_arn: String,
    pub association_id: String,
    pub owner_arn: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssociationPage {
    pub associations: Vec<AssociationSummary>,
    pub next_token: Option<String>,
}

/// The parameters of CreatePodIdentityAssociation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewAssociation {
    pub cluster_name: String,
    pub namespace: String,
    pub service_account: String,
    pub role_arn: String,
    pub target_role_arn: Option<String>,
    pub disable_session_tags: Option<bool>,
    pub policy: Option<String>,
    pub tags: BTreeMap<String, String>,
    /// Makes a retried create return the association the first attempt made instead of a duplicate.
    pub client_request_token: Option<String>,
}

/// The parameters of UpdatePodIdentityAssociation: `None` leaves a field as it is, `Some("")` clears
/// TargetRoleArn or Policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssociationChanges {
    pub role_arn: Option<String>,
    pub target_role_arn: Option<String>,
    pub disable_session_tags: Option<bool>,
    pub policy: Option<String>,
}

impl AssociationChanges {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// What went wrong with an EKS call, classified so that it maps to one HandlerErrorCode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EksErrorKind {
    /// ResourceNotFoundException, NotFoundException (404).
    NotFound,
    /// ResourceInUseException (409): the (cluster, namespace, service account) already has an association.
    Conflict,
    /// InvalidParameterException, InvalidRequestException, BadRequestException, other 4xx.
    InvalidRequest,
    /// ResourceLimitExceededException.
    LimitExceeded,
    /// AccessDeniedException, 403.
    AccessDenied,
    /// Unrecognized or expired credentials.
    InvalidCredentials,
    /// ThrottlingException, 429, 503: still failing after the client's bounded retries.
    Throttling,
    /// ServerException, 5xx: still failing after the client's bounded retries.
    ServiceError,
    /// Timeout, connection refused or reset.
    Network,
    /// The client could not build or understand a call: a bug on our side.
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{operation}: {code}: {message}")]
pub struct EksError {
    pub kind: EksErrorKind,
    /// The EKS operation, e.g. `CreatePodIdentityAssociation`.
    pub operation: &'static str,
    /// The service's error code, e.g. `ResourceInUseException`, or a short description of a transport error.
    pub code: String,
    pub message: String,
}

impl EksError {
    pub fn new(
        kind: EksErrorKind,
        operation: &'static str,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            operation,
            code: code.into(),
            message: message.into(),
        }
    }
}

impl EksError {
    /// The error with a secret the request carried (the client request token, which is CloudFormation's bearer
    /// token) blanked out of EKS's message, which may quote it.
    pub fn redacted(mut self, secret: Option<&str>) -> Self {
        if let Some(secret) = secret.filter(|secret| !secret.is_empty()) {
            self.message = self.message.replace(secret, "<clientRequestToken>");
        }
        self
    }
}

pub type EksResult<T> = Result<T, EksError>;

/// The EKS calls the handlers make. Each method is exactly one API call (retries of throttled or failed
/// attempts happen inside, bounded).
///
/// Code written against the trait runs on the AWS SDK or, in tests, on `testing::MemoryEks`:
///
/// ```rust
/// use pia_handlers::EksApi;
/// use pia_handlers::eks::{EksErrorKind, EksResult, NewAssociation};
/// use pia_handlers::testing::{CREATE, LIST, MemoryEks};
///
/// /// The ids of every association of a cluster, one List page at a time.
/// async fn all_ids(eks: &impl EksApi, cluster_name: &str) -> EksResult<Vec<String>> {
///     let mut ids = Vec::new();
///     let mut next_token = None;
///     loop {
///         let page = eks.list_associations(cluster_name, next_token.as_deref()).await?;
///         ids.extend(page.associations.into_iter().map(|summary| summary.association_id));
///         next_token = page.next_token;
///         if next_token.is_none() {
///             return Ok(ids);
///         }
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let role = "arn:aws:iam::111122223333:role/app";
/// let eks = MemoryEks::new().with_cluster("prod").with_role(role).with_page_size(1);
/// for service_account in ["a", "b"] {
///     let new = NewAssociation {
///         cluster_name: "prod".into(),
///         namespace: "default".into(),
///         service_account: service_account.into(),
///         role_arn: role.into(),
///         ..NewAssociation::default()
///     };
///     eks.create_association(&new).await.unwrap();
/// }
/// assert_eq!(all_ids(&eks, "prod").await.unwrap().len(), 2);
/// assert_eq!(all_ids(&eks, "test").await.unwrap_err().kind, EksErrorKind::NotFound);
/// assert_eq!(eks.take_calls(), [CREATE, CREATE, LIST, LIST, LIST]);
/// # }
/// ```
pub trait EksApi: Sync {
    fn create_association(&self, new: &NewAssociation) -> impl Future<Output = EksResult<Association>> + Send;
    fn describe_association(
        &self,
        cluster_name: &str,
        association_id: &str,
    ) -> impl Future<Output = EksResult<Association>> + Send;
    fn update_association(
        &self,
        cluster_name: &str,
        association_id: &str,
        changes: &AssociationChanges,
    ) -> impl Future<Output = EksResult<Association>> + Send;
    fn delete_association(
        &self,
        cluster_name: &str,
        association_id: &str,
    ) -> impl Future<Output = EksResult<()>> + Send;
    fn list_associations(
        &self,
        cluster_name: &str,
        next_token: Option<&str>,
    ) -> impl Future<Output = EksResult<AssociationPage>> + Send;
    fn tag_resource(&self, arn: &str, tags: &BTreeMap<String, String>) -> impl Future<Output = EksResult<()>> + Send;
    fn untag_resource(&self, arn: &str, keys: &[String]) -> impl Future<Output = EksResult<()>> + Send;
}
