//! TagResource, UntagResource and ListTagsForResource, for clusters and Pod Identity associations.
//! Errors here are BadRequestException (400) and NotFoundException (404), as EKS's tagging API has.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::response::{IntoResponse, Response};

use super::access::{allow, scope_for};
use super::error::{ApiError, ErrorKind};
use super::extract::{PathParams, QueryPairs, parse_body};
use super::shapes::{TagResourceRequest, TagsOutput};
use pia_core::arn::ArnParts;

use super::validate;
use crate::authz::Ask;
use crate::context::RequestContext;
use crate::world::state::State as World;
use crate::world::store::Store;

/// The tag map of the resource an EKS ARN names, if it is the caller's (of its account, in the signed region).
fn tags_of<'a>(
    world: &'a mut World,
    context: &RequestContext,
    resource_arn: &str,
) -> Result<&'a mut BTreeMap<String, String>, ApiError> {
    let invalid = || ApiError::bad_request(format!("Invalid resource ARN: {resource_arn}"));
    let not_found = || ApiError::new(ErrorKind::NotFound, format!("Resource not found: {resource_arn}"));
    let Some(ArnParts {
        partition,
        service: "eks",
        region,
        account: account_id,
        resource,
    }) = ArnParts::split(resource_arn)
    else {
        return Err(invalid());
    };
    let (cluster_name, association_id) = match resource.split('/').collect::<Vec<_>>()[..] {
        ["cluster", name] if !name.is_empty() => (name, None),
        ["podidentityassociation", cluster, id] if !cluster.is_empty() && !id.is_empty() => (cluster, Some(id)),
        _ => return Err(invalid()),
    };
    let scope = scope_for(world, context, cluster_name);
    let cluster = world.clusters.get_mut(cluster_name).ok_or_else(not_found)?;
    if cluster.partition != partition
        || cluster.region != region
        || cluster.account_id != account_id
        || !scope.holds(cluster)
    {
        return Err(not_found());
    }
    match association_id {
        None => Ok(&mut cluster.tags),
        Some(id) => cluster.association_mut(id).map(|a| &mut a.tags).ok_or_else(not_found),
    }
}

/// Authorizes `ask` on the resource, with the tags it has (if it is the caller's).
fn allow_on_resource(
    world: &mut World,
    context: &RequestContext,
    ask: Ask,
    resource_arn: &str,
) -> Result<(), ApiError> {
    let resource_tags = tags_of(world, context, resource_arn)
        .map(|tags| tags.clone())
        .unwrap_or_default();
    allow(world, context, &ask.with_resource_tags(&resource_tags))
}

pub(super) async fn list(
    State(store): State<Arc<Store>>,
    Extension(context): Extension<RequestContext>,
    PathParams(resource_arn): PathParams<String>,
) -> Result<Response, ApiError> {
    let mut guard = store.state();
    let ask = Ask::new("eks:ListTagsForResource", &resource_arn);
    allow_on_resource(&mut guard, &context, ask, &resource_arn)?;
    let tags = tags_of(&mut guard, &context, &resource_arn)?;
    Ok(Json(TagsOutput { tags }).into_response())
}

pub(super) async fn tag(
    State(store): State<Arc<Store>>,
    Extension(context): Extension<RequestContext>,
    PathParams(resource_arn): PathParams<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: TagResourceRequest = parse_body(&body, ErrorKind::BadRequest)?;
    let new_tags = request.tags.unwrap_or_default();
    if new_tags.is_empty() {
        return Err(ApiError::bad_request("The request must contain at least one tag."));
    }
    let mut guard = store.state();
    let ask = Ask::new("eks:TagResource", &resource_arn).with_request_tags(&new_tags);
    allow_on_resource(&mut guard, &context, ask, &resource_arn)?;
    let allow_system_tags = guard.settings.allow_system_tags;
    let tags = tags_of(&mut guard, &context, &resource_arn)?;
    let mut merged = tags.clone();
    merged.extend(new_tags);
    validate::tags(&merged, allow_system_tags, ErrorKind::BadRequest)?;
    *tags = merged;
    Ok(Json(serde_json::json!({})).into_response())
}

pub(super) async fn untag(
    State(store): State<Arc<Store>>,
    Extension(context): Extension<RequestContext>,
    PathParams(resource_arn): PathParams<String>,
    query: QueryPairs,
) -> Result<Response, ApiError> {
    let keys: Vec<&str> = query.all("tagKeys").collect();
    if keys.is_empty() {
        return Err(ApiError::bad_request(
            "The request must name at least one tag key (tagKeys).",
        ));
    }
    let mut guard = store.state();
    let ask = Ask::new("eks:UntagResource", &resource_arn).with("aws:TagKeys", keys.iter().copied());
    allow_on_resource(&mut guard, &context, ask, &resource_arn)?;
    let tags = tags_of(&mut guard, &context, &resource_arn)?;
    for key in keys {
        tags.remove(key);
    }
    Ok(Json(serde_json::json!({})).into_response())
}
