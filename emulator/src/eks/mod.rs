//! The emulated EKS control plane API (rest-json, apiVersion 2017-11-01), as far as Pod Identity
//! associations, tagging and cluster description go.
//!
//! Requests reach these handlers through [`crate::dispatch`], which names the operation from the
//! matched route ([`operation_name`]), counts it, verifies its signature and applies injected faults.

mod associations;
mod clusters;
pub mod error;
mod shapes;
mod tags;
pub mod validate;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query};
use axum::http::Method;
use axum::http::request::Parts;
use axum::routing::get;
use serde::de::DeserializeOwned;

pub(crate) use associations::snapshot;
pub use error::{ApiError, CROSS_ACCOUNT_PASS_ROLE, ErrorKind, ROLE_DOES_NOT_EXIST, TRUST_POLICY_INVALID};

use crate::Shared;

pub const CLUSTERS: &str = "/clusters";
pub const CLUSTER: &str = "/clusters/{name}";
pub const ASSOCIATIONS: &str = "/clusters/{name}/pod-identity-associations";
pub const ASSOCIATION: &str = "/clusters/{name}/pod-identity-associations/{association_id}";
pub const TAGS: &str = "/tags/{*resource_arn}";

/// The EKS operation that a request on a route is, by EKS's operation name.
pub fn operation_name(method: &Method, route: &str) -> Option<&'static str> {
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

/// The EKS routes, without state; [`crate::dispatch::router`] serves them with the other APIs.
pub(crate) fn routes() -> Router<Arc<Shared>> {
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

/// A `Path` whose rejection is an EKS error.
pub(crate) struct PathParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for PathParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Self(value)),
            Err(rejection) => Err(ApiError::invalid_parameter(rejection.body_text())),
        }
    }
}

/// The query string as (name, value) pairs, in order; a malformed one is an EKS error.
pub(crate) struct QueryPairs(pub Vec<(String, String)>);

impl QueryPairs {
    /// The last value given for `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Query::<Vec<(String, String)>>::from_request_parts(parts, state).await {
            Ok(Query(pairs)) => Ok(Self(pairs)),
            Err(rejection) => Err(ApiError::invalid_parameter(rejection.body_text())),
        }
    }
}

/// A JSON request body; an empty body reads as `{}`.
pub(crate) fn parse_body<T: DeserializeOwned>(body: &Bytes, kind: ErrorKind) -> Result<T, ApiError> {
    let text: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(text).map_err(|e| ApiError::new(kind, format!("Invalid request body: {e}.")))
}
