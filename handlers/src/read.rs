//! Read: one DescribePodIdentityAssociation.

use crate::Action;
use crate::eks::{Association, EksApi, EksError, EksErrorKind};
use crate::error::HandlerError;
use crate::progress::ProgressEvent;
use crate::request::ResourceRequest;
use crate::translate::{Target, identify, model_from_association};

pub async fn read(eks: &impl EksApi, request: &ResourceRequest) -> Result<ProgressEvent, HandlerError> {
    let target = identify(&request.desired, &request.scope)?;
    let association = describe(eks, Action::Read, &target).await?;
    Ok(ProgressEvent::success(model_from_association(association)))
}

/// The association the target names, NotFound when EKS has none or describes another one.
pub(crate) async fn describe(
    eks: &impl EksApi,
    action: Action,
    target: &Target<'_>,
) -> Result<Association, HandlerError> {
    let association = eks
        .describe_association(&target.cluster_name, &target.association_id)
        .await
        .map_err(|error| not_found_or(action, target, error))?;
    target.confirm(&association)?;
    Ok(association)
}

/// NotFound with a message naming the association, or the general mapping for any other error.
pub(crate) fn not_found_or(action: Action, target: &Target<'_>, error: EksError) -> HandlerError {
    if error.kind == EksErrorKind::NotFound {
        target.not_found()
    } else {
        HandlerError::eks(action, error)
    }
}
