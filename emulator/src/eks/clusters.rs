//! DescribeCluster and ListClusters for the seeded clusters (always ACTIVE; ListClusters has no paging).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use super::PathParams;
use super::error::ApiError;
use super::shapes::{ClusterOutput, ClusterShape, Identity, ListClustersOutput, Oidc};
use crate::Shared;

pub(super) async fn describe(
    State(shared): State<Arc<Shared>>,
    PathParams(name): PathParams<String>,
) -> Result<Response, ApiError> {
    let guard = shared.state();
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

pub(super) async fn list(State(shared): State<Arc<Shared>>) -> Response {
    let guard = shared.state();
    Json(ListClustersOutput {
        clusters: guard.clusters.keys().map(String::as_str).collect(),
    })
    .into_response()
}
