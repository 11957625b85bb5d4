//! DescribeCluster and ListClusters for the seeded clusters (always ACTIVE; ListClusters has no paging).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::extract::PathParams;
use super::shapes::{ClusterOutput, ClusterShape, Identity, ListClustersOutput, Oidc};
use crate::world::store::Store;

pub(super) async fn describe(
    State(store): State<Arc<Store>>,
    PathParams(name): PathParams<String>,
) -> Result<Response, ApiError> {
    let guard = store.state();
    let cluster = guard
        .clusters
        .get(&name)
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
        tags: &cluster.tags,
    };
    Ok(Json(ClusterOutput { cluster: shape }).into_response())
}

pub(super) async fn list(State(store): State<Arc<Store>>) -> Response {
    let guard = store.state();
    Json(ListClustersOutput {
        clusters: guard.clusters.keys().map(String::as_str).collect(),
    })
    .into_response()
}
