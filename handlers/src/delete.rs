//! Delete: one DeletePodIdentityAssociation; a missing association is NotFound, as the contract requires.

use crate::Action;
use crate::eks::EksApi;
use crate::error::HandlerError;
use crate::progress::ProgressEvent;
use crate::read::{describe, not_found_or};
use crate::request::ResourceRequest;
use crate::translate::identify;

pub async fn delete(eks: &impl EksApi, request: &ResourceRequest) -> Result<ProgressEvent, HandlerError> {
    let target = identify(&request.desired, &request.scope)?;
    // Without the request's account the ARN's account cannot be checked before the write: EKS's own description
    // of the association says whose it is.
    if request.scope.account_id.is_none() && target.association_arn.is_some() {
        describe(eks, Action::Delete, &target).await?;
    }
    eks.delete_association(&target.cluster_name, &target.association_id)
        .await
        .map_err(|error| not_found_or(Action::Delete, &target, error))?;
    Ok(ProgressEvent::deleted())
}
