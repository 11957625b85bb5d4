//! Create: one CreatePodIdentityAssociation. A role that IAM has not yet propagated to EKS is waited for with
//! IN_PROGRESS callbacks (never by sleeping in the Lambda), for a bounded time.

use serde::{Deserialize, Serialize};

use crate::convert::{model_from_association, required};
use crate::eks::{EksApi, EksError, EksErrorKind, NewAssociation};
use crate::error::HandlerError;
use crate::progress::ProgressEvent;
use crate::request::ResourceRequest;
use crate::tags::resource_tags;
use crate::{arn, Action};

/// Seconds CloudFormation waits before calling again while the role propagates.
pub const ROLE_WAIT_DELAY_SECONDS: u32 = 15;
/// Calls made while waiting for the role: with the delay, about two minutes, as Terraform waits.
pub const ROLE_WAIT_MAX_ATTEMPTS: u32 = 8;

/// The callback context of a create waiting for its role.
#[derive(Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleWait {
    /// How many creates EKS has refused because the role did not exist yet.
    pub role_wait_attempts: u32,
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
        Some(context) => RoleWait::deserialize(context).map_err(|e| HandlerError::BadCallbackContext(e.to_string()))?,
        None => RoleWait::default(),
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
            let context = serde_json::to_value(RoleWait { role_wait_attempts: attempts })
                .map_err(|e| HandlerError::BadCallbackContext(e.to_string()))?;
            Ok(ProgressEvent::in_progress(model.clone(), context, ROLE_WAIT_DELAY_SECONDS))
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

/// EKS's answer while a new role has not reached it yet:
/// `InvalidParameterException: Role provided in the request does not exist`.
fn is_role_not_propagated(error: &EksError) -> bool {
    let message = error.message.to_ascii_lowercase();
    error.kind == EksErrorKind::InvalidRequest && message.contains("role") && message.contains("does not exist")
}
