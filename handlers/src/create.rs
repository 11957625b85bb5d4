//! Create: one CreatePodIdentityAssociation, tried again within the invocation while that may still succeed.
//!
//! A create cannot answer IN_PROGRESS before EKS has made the association: every IN_PROGRESS event must carry the
//! primary identifier, and the AssociationArn exists only once EKS answers. So the two waits a create may need
//! happen inside the invocation, bounded well within the handler's deadline:
//! - a role that IAM has not yet propagated to EKS is polled for, up to [`ROLE_WAIT_LIMIT`] (a minute);
//! - a create that still fails transiently after the client's retries (throttling, 5xx, a lost connection) may
//!   have been applied with its answer lost. Reporting FAILED then would leak the association (CloudFormation
//!   neither retries a FAILED create nor deletes what returned no model), so it is sent again, a bounded number of
//!   times within the same minute, with the same `clientRequestToken`: EKS answers with the association the lost
//!   write made, or makes it now.

use std::time::Duration;

use tokio::time::{Instant, sleep};

use crate::Action;
use crate::arn;
use crate::eks::{EksApi, EksError, EksErrorKind, NewAssociation};
use crate::error::HandlerError;
use crate::progress::ProgressEvent;
use crate::propagation::{ROLE_WAIT_LIMIT, is_role_not_propagated};
use crate::request::ResourceRequest;
use crate::tags::{model_tags, resource_tags};
use crate::translate::{model_from_association, required};

/// How a create spaces its attempts. The defaults fit CloudFormation's handler timeouts; tests against an emulator
/// that recovers at once may shorten them.
///
/// ```rust
/// use std::time::Duration;
///
/// use pia_handlers::testing::{CREATE, MemoryEks};
/// use pia_handlers::{Action, Pacing, ResourceModel, ResourceRequest, handle};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let role = "arn:aws:iam::111122223333:role/new";
/// // EKS refuses the role twice, as while IAM propagates a role created moments ago.
/// let eks = MemoryEks::new().with_cluster("prod").with_late_role(role, 2);
/// let pacing = Pacing {
///     role_poll_interval: Duration::from_millis(10),
///     ..Pacing::default()
/// };
/// # let request = ResourceRequest {
/// #     desired: ResourceModel {
/// #         cluster_name: Some("prod".into()),
/// #         namespace: Some("default".into()),
/// #         service_account: Some("app".into()),
/// #         role_arn: Some(role.into()),
/// #         ..ResourceModel::default()
/// #     },
/// #     scope: eks.scope(),
/// #     client_request_token: Some("4b0c7f1e-create".into()),
/// #     ..ResourceRequest::default()
/// # };
/// let event = handle(&eks, Action::Create, &request, &pacing).await;
/// assert!(event.is_success());
/// assert_eq!(eks.take_calls(), [CREATE; 3]);
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pacing {
    /// Between creates refused because the role is not visible yet.
    pub role_poll_interval: Duration,
    /// Before the first resend after a transient failure; doubled before each further one.
    pub transient_pause: Duration,
    /// Resends after transient failures, each with the client's own retries.
    pub transient_retries: u32,
    /// No attempt starts later than this after the first: the last one (one EKS call, at most 14 s) still ends
    /// well inside the handler's deadline.
    pub window: Duration,
}

impl Default for Pacing {
    fn default() -> Self {
        Self {
            role_poll_interval: Duration::from_secs(5),
            transient_pause: Duration::from_secs(1),
            transient_retries: TRANSIENT_RETRIES,
            window: ROLE_WAIT_LIMIT,
        }
    }
}

/// Resends of a create after transient failures before it gives up.
pub const TRANSIENT_RETRIES: u32 = 5;

pub async fn create(
    eks: &impl EksApi,
    request: &ResourceRequest,
    pacing: &Pacing,
) -> Result<ProgressEvent, HandlerError> {
    let model = &request.desired;
    let read_only = model.read_only_properties_set();
    if !read_only.is_empty() {
        return Err(HandlerError::InvalidRequest(format!(
            "read-only properties cannot be set on create: {}",
            read_only.join(", ")
        )));
    }
    if request.callback_context.is_some() {
        return Err(HandlerError::BadCallbackContext(
            "a create is never called back by this provider".into(),
        ));
    }
    let new = NewAssociation {
        cluster_name: required(&model.cluster_name, "ClusterName")?.to_owned(),
        namespace: required(&model.namespace, "Namespace")?.to_owned(),
        service_account: required(&model.service_account, "ServiceAccount")?.to_owned(),
        role_arn: required(&model.role_arn, "RoleArn")?.to_owned(),
        target_role_arn: model.target_role_arn.clone(),
        disable_session_tags: model.disable_session_tags,
        policy: model.policy.clone(),
        tags: resource_tags(&model_tags(model.tags.as_deref())?, &request.stack_tags),
        client_request_token: request.client_request_token.clone(),
    };

    let started = Instant::now();
    let mut transient_retries = 0;
    loop {
        let error = match eks.create_association(&new).await {
            Ok(association) => return Ok(ProgressEvent::success(model_from_association(association))),
            Err(error) => error.redacted(new.client_request_token.as_deref()),
        };
        let waited = started.elapsed();
        let pause = if is_role_not_propagated(&error) {
            pacing.role_poll_interval
        } else if is_transient(&error)
            && transient_retries < pacing.transient_retries
            // Without a token a resend could not be told from a duplicate.
            && new.client_request_token.is_some()
        {
            transient_retries += 1;
            tracing::warn!(
                operation = error.operation,
                code = %error.code,
                retry = transient_retries,
                "create failed transiently; sending it again with the same client request token"
            );
            pacing
                .transient_pause
                .saturating_mul(2u32.saturating_pow(transient_retries - 1))
        } else {
            return Err(failure(error, new, waited));
        };
        if waited + pause > pacing.window {
            return Err(failure(error, new, waited));
        }
        sleep(pause).await;
    }
}

fn failure(error: EksError, new: NewAssociation, waited: Duration) -> HandlerError {
    if error.kind == EksErrorKind::Conflict {
        return HandlerError::AlreadyExists {
            existing_id: arn::find_association_id(&error.message).map(str::to_owned),
            cluster_name: new.cluster_name,
            namespace: new.namespace,
            service_account: new.service_account,
        };
    }
    if is_role_not_propagated(&error) {
        return HandlerError::RoleNotFound {
            role_arn: new.role_arn,
            waited_seconds: waited.as_secs(),
        };
    }
    HandlerError::eks(Action::Create, error)
}

/// Throttling, 5xx or a lost connection, still failing after the client's retries: EKS may have applied the write.
fn is_transient(error: &EksError) -> bool {
    matches!(
        error.kind,
        EksErrorKind::Throttling | EksErrorKind::ServiceError | EksErrorKind::Network
    )
}
