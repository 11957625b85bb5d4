//! Create: one CreatePodIdentityAssociation. A role that IAM has not yet propagated to EKS is waited for with
//! IN_PROGRESS callbacks (never by sleeping in the Lambda), for a bounded time.
//!
//! A create that still fails transiently after the client's retries (throttling, 5xx, a lost connection) may
//! have been applied by EKS all the same: the response can be lost after the write. Reporting FAILED then would
//! leak the association, since CloudFormation neither retries a FAILED create nor deletes a resource whose
//! create returned no model. So the handler answers IN_PROGRESS instead, a bounded number of times: CloudFormation
//! calls again with the same bearer token, which is the call's `clientRequestToken`, and EKS answers with the
//! association the lost write made (or makes it now). Only when EKS keeps failing does the create end FAILED.

use serde::{Deserialize, Serialize};

use crate::convert::{model_from_association, required};
use crate::eks::{EksApi, EksError, EksErrorKind, NewAssociation};
use crate::error::HandlerError;
use crate::progress::ProgressEvent;
use crate::request::ResourceRequest;
use crate::tags::resource_tags;
use crate::{Action, arn};

/// Seconds CloudFormation waits before calling again while the role propagates.
pub const ROLE_WAIT_DELAY_SECONDS: u32 = 15;
/// Calls made while waiting for the role: with the delay, about two minutes, as Terraform waits.
pub const ROLE_WAIT_MAX_ATTEMPTS: u32 = 8;

/// Seconds CloudFormation waits before calling again after EKS failed transiently.
pub const TRANSIENT_RETRY_DELAY_SECONDS: u32 = 10;
/// Calls again after transient failures (each one with the client's own retries) before the create gives up.
pub const TRANSIENT_MAX_RETRIES: u32 = 5;

/// The callback context of a create waiting for its role or retrying after a transient failure.
#[derive(Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateContext {
    /// How many creates EKS has refused because the role did not exist yet.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub role_wait_attempts: u32,
    /// How many creates failed transiently (throttling, 5xx, network) after the client's retries.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub transient_retries: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

pub async fn create(eks: &impl EksApi, request: &ResourceRequest) -> Result<ProgressEvent, HandlerError> {
    let model = &request.desired;
    let read_only = model.read_only_properties_set();
    if !read_only.is_empty() {
        return Err(HandlerError::InvalidRequest(format!(
            "read-only properties cannot be set on create: {}",
            read_only.join(", ")
        )));
    }
    let wait = match &request.callback_context {
        Some(context) => {
            CreateContext::deserialize(context).map_err(|e| HandlerError::BadCallbackContext(e.to_string()))?
        }
        None => CreateContext::default(),
    };
    let new = NewAssociation {
        cluster_name: required(&model.cluster_name, "ClusterName")?.to_owned(),
        namespace: required(&model.namespace, "Namespace")?.to_owned(),
        service_account: required(&model.service_account, "ServiceAccount")?.to_owned(),
        role_arn: required(&model.role_arn, "RoleArn")?.to_owned(),
        target_role_arn: model.target_role_arn.clone(),
        disable_session_tags: model.disable_session_tags,
        policy: model.policy.clone(),
        tags: resource_tags(&model.tag_map(), &request.stack_tags),
        client_request_token: request.client_request_token.clone(),
    };

    match eks.create_association(&new).await {
        Ok(association) => Ok(ProgressEvent::success(model_from_association(association))),
        Err(error) if is_role_not_propagated(&error) => {
            let attempts = wait.role_wait_attempts + 1;
            if attempts >= ROLE_WAIT_MAX_ATTEMPTS {
                return Err(HandlerError::RoleNotFound {
                    role_arn: new.role_arn,
                    waited_seconds: wait.role_wait_attempts * ROLE_WAIT_DELAY_SECONDS,
                });
            }
            let context = serde_json::to_value(CreateContext {
                role_wait_attempts: attempts,
                ..wait
            })
            .map_err(|e| HandlerError::BadCallbackContext(e.to_string()))?;
            Ok(ProgressEvent::in_progress(
                model.clone(),
                context,
                ROLE_WAIT_DELAY_SECONDS,
            ))
        }
        // The write may have been applied with its answer lost: call again with the same token (see the module docs).
        // Without a token a second call could not be told from a duplicate, so only a request with one is retried.
        Err(error)
            if is_transient(&error)
                && wait.transient_retries < TRANSIENT_MAX_RETRIES
                && new.client_request_token.is_some() =>
        {
            let retries = wait.transient_retries + 1;
            tracing::warn!(
                operation = error.operation,
                code = %error.code,
                retry = retries,
                "create failed transiently; asking to be called again with the same client request token"
            );
            let context = serde_json::to_value(CreateContext {
                transient_retries: retries,
                ..wait
            })
            .map_err(|e| HandlerError::BadCallbackContext(e.to_string()))?;
            Ok(ProgressEvent::in_progress(
                model.clone(),
                context,
                TRANSIENT_RETRY_DELAY_SECONDS,
            ))
        }
        Err(error) if error.kind == EksErrorKind::Conflict => Err(HandlerError::AlreadyExists {
            existing_id: arn::find_association_id(&error.message).map(str::to_owned),
            cluster_name: new.cluster_name,
            namespace: new.namespace,
            service_account: new.service_account,
        }),
        Err(error) => Err(HandlerError::eks(Action::Create, error)),
    }
}

/// Throttling, 5xx or a lost connection, still failing after the client's retries: EKS may have applied the write.
fn is_transient(error: &EksError) -> bool {
    matches!(
        error.kind,
        EksErrorKind::Throttling | EksErrorKind::ServiceError | EksErrorKind::Network
    )
}

/// EKS's answer while a new role has not reached it yet:
/// `InvalidParameterException: Role provided in the request does not exist`.
fn is_role_not_propagated(error: &EksError) -> bool {
    let message = error.message.to_ascii_lowercase();
    error.kind == EksErrorKind::InvalidRequest && message.contains("role") && message.contains("does not exist")
}
