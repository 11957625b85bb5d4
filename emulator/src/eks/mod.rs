//! The emulated EKS control plane API (rest-json, apiVersion 2017-11-01), as far as Pod Identity
//! associations, tagging and cluster description go.
//!
//! Requests go through [`instrument`], which names the operation from the matched route, counts it,
//! and applies injected faults, before the operation's handler. Further layers (such as SigV4
//! verification) can be added in [`router`].

mod associations;
mod clusters;
pub mod error;
mod shapes;
mod tags;
pub mod validate;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, MatchedPath, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::de::DeserializeOwned;
use tracing::debug;

pub(crate) use associations::snapshot;
pub use error::{
    ApiError, CROSS_ACCOUNT_PASS_ROLE, ErrorKind, ROLE_DOES_NOT_EXIST, TRUST_POLICY_INVALID,
};

use crate::Shared;
use crate::faults::Fault;
use crate::server::ConnectionKill;
use crate::state::new_uuid;

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

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(CLUSTERS, get(clusters::list))
        .route(CLUSTER, get(clusters::describe))
        .route(
            ASSOCIATIONS,
            get(associations::list).post(associations::create),
        )
        .route(
            ASSOCIATION,
            get(associations::describe)
                .post(associations::update)
                .delete(associations::delete),
        )
        .route(TAGS, get(tags::list).post(tags::tag).delete(tags::untag))
        .fallback(unknown_operation)
        .method_not_allowed_fallback(unknown_operation)
        .layer(middleware::from_fn_with_state(shared.clone(), instrument))
        .with_state(shared)
}

async fn unknown_operation(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        ErrorKind::NotFound,
        format!("No EKS operation for {method} {}.", uri.path()),
    )
}

/// Counts the request, applies a fault if one is due, and tags the response with a request id.
async fn instrument(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let request_id = new_uuid();
    let method = request.method().clone();
    let operation = request
        .extensions()
        .get::<MatchedPath>()
        .and_then(|route| operation_name(&method, route.as_str()));
    debug!(
        operation = operation.unwrap_or("unknown"),
        %method,
        path = %request.uri().path(),
        request_id,
        "EKS request"
    );
    let mut response = match operation {
        None => next.run(request).await,
        Some(operation) => run_operation(&shared, operation, request, next).await,
    };
    debug!(
        request_id,
        status = response.status().as_u16(),
        "EKS response"
    );
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-amzn-requestid", value);
    }
    response
}

async fn run_operation(
    shared: &Shared,
    operation: &'static str,
    request: Request,
    next: Next,
) -> Response {
    shared.calls().record(operation);
    let fault = shared.faults().next_fault(operation);
    if let Some(fault) = fault {
        debug!(operation, ?fault, "injecting fault");
    }
    match fault {
        Some(Fault::Throttle) => {
            return ApiError::new(ErrorKind::Throttling, "Rate exceeded").into_response();
        }
        Some(Fault::ServerError) => {
            return ApiError::new(
                ErrorKind::Server,
                "An internal error occurred (injected fault).",
            )
            .into_response();
        }
        Some(Fault::Unavailable) => {
            return ApiError::new(
                ErrorKind::ServiceUnavailable,
                "Service unavailable (injected fault).",
            )
            .into_response();
        }
        Some(Fault::Error(kind)) => {
            return ApiError::new(kind, format!("{} (injected fault).", kind.name()))
                .into_response();
        }
        Some(Fault::Latency(delay)) => tokio::time::sleep(delay).await,
        Some(Fault::DropAfterApply) | None => {}
    }
    let kill = request.extensions().get::<ConnectionKill>().cloned();
    let response = next.run(request).await;
    if fault == Some(Fault::DropAfterApply) {
        debug!(
            operation,
            status = response.status().as_u16(),
            "applied; dropping the connection unanswered"
        );
        if let Some(kill) = kill {
            kill.kill();
        }
        // Never answer; the connection task drops the connection (and this future with it).
        std::future::pending::<()>().await;
    }
    response
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
pub(crate) fn parse_body<T: DeserializeOwned>(
    body: &Bytes,
    kind: ErrorKind,
) -> Result<T, ApiError> {
    let text: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(text)
        .map_err(|e| ApiError::new(kind, format!("Invalid request body: {e}.")))
}
