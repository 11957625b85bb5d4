//! Read: one DescribePodIdentityAssociation.

use crate::Action;
use crate::convert::{identify, model_from_association};
use crate::eks::{EksApi, EksErrorKind};
use crate::error::HandlerError;
use crate::progress::ProgressEvent;
use crate::request::ResourceRequest;

pub async fn read(eks: &impl EksApi, request: &ResourceRequest) -> Result<ProgressEvent, HandlerError> {
    let (cluster_name, association_id) = identify(&request.desired)?;
    let association = eks
        .describe_association(cluster_name, association_id)
        .await
        .map_err(|error| not_found_or(Action::Read, cluster_name, association_id, error))?;
    Ok(ProgressEvent::success(model_from_association(association)))
}

/// NotFound with a message naming the association, or the general mapping for any other error.
pub(crate) fn not_found_or(
    action: Action,
    cluster_name: &str,
    association_id: &str,
    error: crate::eks::EksError,
) -> HandlerError {
    if error.kind == EksErrorKind::NotFound {
        HandlerError::NotFound {
            cluster_name: cluster_name.to_owned(),
            association_id: association_id.to_owned(),
        }
    } else {
        HandlerError::eks(action, error)
    }
}
