//! List: one ListPodIdentityAssociations page per invocation; CloudFormation's nextToken is EKS's.

use crate::Action;
use crate::eks::EksApi;
use crate::error::HandlerError;
use crate::progress::ProgressEvent;
use crate::request::ResourceRequest;
use crate::translate::{self, model_from_summary};

/// The longest nextToken passed on to EKS: EKS's own tokens are far shorter, and the token goes in the request URI.
pub const MAX_NEXT_TOKEN_CHARS: usize = 4096;

pub async fn list(eks: &impl EksApi, request: &ResourceRequest) -> Result<ProgressEvent, HandlerError> {
    let cluster_name = request
        .desired
        .cluster_name
        .as_deref()
        .filter(|name| !name.is_empty())
        .ok_or_else(|| HandlerError::InvalidRequest("List requires ClusterName".into()))?;
    let cluster_name = translate::cluster_name(cluster_name)?;
    if request
        .next_token
        .as_ref()
        .is_some_and(|token| token.chars().count() > MAX_NEXT_TOKEN_CHARS)
    {
        return Err(HandlerError::InvalidRequest(
            "nextToken is not a token this provider returned".into(),
        ));
    }
    let page = eks
        .list_associations(cluster_name, request.next_token.as_deref())
        .await
        .map_err(|error| HandlerError::eks(Action::List, error))?;
    let models = page.associations.into_iter().map(model_from_summary).collect();
    Ok(ProgressEvent::listed(models, page.next_token))
}
