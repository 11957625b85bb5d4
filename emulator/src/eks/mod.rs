//! The emulated EKS control plane API (rest-json, apiVersion 2017-11-01), as far as Pod Identity
//! associations, tagging and cluster description go.
//!
//! Requests reach these handlers through the wire layer's dispatcher, which names the operation from the
//! matched route ([`operation_name`]), counts it, verifies its signature and applies injected faults.

mod access;
mod associations;
mod clusters;
pub(crate) mod error;
mod extract;
pub(crate) mod owned;
mod paging;
mod roles;
mod shapes;
mod tags;
mod validate;

use std::sync::Arc;

use axum::Router;
use axum::http::Method;
use axum::routing::get;

use crate::world::store::Store;
use error::{ApiError, ErrorKind};

const CLUSTERS: &str = "/clusters";
const CLUSTER: &str = "/clusters/{name}";
const ASSOCIATIONS: &str = "/clusters/{name}/pod-identity-associations";
const ASSOCIATION: &str = "/clusters/{name}/pod-identity-associations/{association_id}";
const TAGS: &str = "/tags/{*resource_arn}";

/// The EKS operation that a request on a route is, by EKS's operation name.
pub(crate) fn operation_name(method: &Method, route: &str) -> Option<&'static str> {
    Some(match (method.as_str(), route) {
        ("GET", CLUSTERS) => "ListClusters",
        ("GET", CLUSTER) => "DescribeCluster",
        ("POST", ASSOCIATIONS) => "CreatePodIdentityAssociation",
        ("GET", ASSOCIATIONS) => "ListPodIdentityAssociations",
        ("GET", ASSOCIATION) => "DescribePodIdentityAssociation",
        ("POST", ASSOCIATION) => "UpdatePodIdentityAssociation",
        ("DELETE", ASSOCIATION) => "DeletePodIdentityAssociation",
        ("GET", TAGS) => "ListTagsForResource",
        ("POST", TAGS) => "TagResource",
        ("DELETE", TAGS) => "UntagResource",
        _ => return None,
    })
}

/// The EKS routes, without state; the dispatcher serves them with the other APIs.
pub(crate) fn routes() -> Router<Arc<Store>> {
    Router::new()
        .route(CLUSTERS, get(clusters::list))
        .route(CLUSTER, get(clusters::describe))
        .route(ASSOCIATIONS, get(associations::list).post(associations::create))
        .route(
            ASSOCIATION,
            get(associations::describe)
                .post(associations::update)
                .delete(associations::delete),
        )
        .route(TAGS, get(tags::list).post(tags::tag).delete(tags::untag))
}

/// Requests that are no operation of any API served.
pub(crate) async fn unknown_operation(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        ErrorKind::NotFound,
        format!("No EKS operation for {method} {}.", uri.path()),
    )
}
