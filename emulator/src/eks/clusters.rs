//! DescribeCluster and ListClusters (paged by maxResults and nextToken) for the seeded clusters (always ACTIVE, so
//! DescribeCluster gives everything an ACTIVE cluster has, the endpoint and certificate authority among it).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, State};
use axum::response::{IntoResponse, Response};

use super::access::{Scope, allow, scope_for};
use super::error::ApiError;
use super::extract::{PathParams, QueryPairs};
use super::paging;
use super::shapes::{ClusterOutput, ClusterShape, Identity, ListClustersOutput, Oidc};
use crate::authz::Ask;
use crate::context::RequestContext;
use crate::world::store::Store;

pub(super) async fn describe(
    State(store): State<Arc<Store>>,
    Extension(context): Extension<RequestContext>,
    PathParams(name): PathParams<String>,
) -> Result<Response, ApiError> {
    let guard = store.state();
    let scope = scope_for(&guard, &context, &name);
    allow(
        &guard,
        &context,
        &Ask::new("eks:DescribeCluster", scope.cluster_arn(&name)),
    )?;
    let cluster = guard
        .clusters
        .get(&name)
        .filter(|cluster| scope.holds(cluster))
        .ok_or_else(|| ApiError::cluster_not_found(&name))?;
    let shape = ClusterShape {
        name: &cluster.name,
        arn: &cluster.arn,
        created_at: cluster.created_at,
        version: &cluster.version,
        endpoint: &cluster.endpoint,
        status: "ACTIVE",
        platform_version: "eks.1",
        identity: Identity {
            oidc: Oidc {
                issuer: &cluster.oidc_issuer,
            },
        },
        tags: cluster.tags(),
        control_plane: &cluster.control_plane,
    };
    Ok(Json(ClusterOutput { cluster: shape }).into_response())
}

/// The list whose tokens name a cluster to continue after.
const CLUSTER_LIST: &str = "clusters";

pub(super) async fn list(
    State(store): State<Arc<Store>>,
    Extension(context): Extension<RequestContext>,
    query: QueryPairs,
) -> Result<Response, ApiError> {
    let max_results = paging::max_results(&query)?;
    let after = match query.get("nextToken") {
        None => None,
        Some(token) => Some(
            paging::decode_token(CLUSTER_LIST, token)
                .ok_or_else(|| ApiError::invalid_parameter("The nextToken provided is invalid."))?,
        ),
    };
    let guard = store.state();
    // ListClusters names no resource: it is allowed on `*`, and lists the caller's clusters in the signed region.
    allow(&guard, &context, &Ask::new("eks:ListClusters", "*"))?;
    let scope = Scope::of(&context, crate::config::DEFAULT_REGION);
    let mut names = guard
        .clusters
        .values()
        .filter(|cluster| scope.holds(cluster))
        .map(|cluster| &cluster.name)
        .filter(|name| after.as_ref().is_none_or(|after| name.as_str() > after.as_str()));
    let clusters: Vec<&str> = names.by_ref().take(max_results).map(String::as_str).collect();
    let next_token = match (names.next(), clusters.last()) {
        (Some(_), Some(last)) => Some(paging::encode_token(CLUSTER_LIST, last)),
        _ => None,
    };
    Ok(Json(ListClustersOutput { clusters, next_token }).into_response())
}
