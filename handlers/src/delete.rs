//! Delete: one DeletePodIdentityAssociation; a missing association is NotFound, as the contract requires.

use crate::Action;
use crate::convert::identify;
use crate::eks::EksApi;
use crate::error::HandlerError;
use crate::progress::ProgressEvent;
use crate::read::not_found_or;
use crate::request::ResourceRequest;

pub async fn delete(eks: &impl EksApi, request: &ResourceRequest) -> Result<ProgressEvent, HandlerError> {
    let (cluster_name, association_id) = identify(&request.desired)?;
    eks.delete_association(cluster_name, association_id)
        .await
        .map_err(|error| not_found_or(Action::Delete, cluster_name, association_id, error))?;
    Ok(ProgressEvent::deleted())
}
