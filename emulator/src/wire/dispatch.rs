//! One port for every AWS API the emulator serves, as AWS's own endpoints tell requests apart:
//!
//! - the clusters' Kubernetes APIs by path (`/kubernetes/{cluster}/api/v1/…`), each request authenticated with
//!   an EKS bearer token (`kubernetes_auth`) and not counted as an AWS operation;
//! - rest-json services by path: EKS (`/clusters/{name}`, `/clusters/{name}/pod-identity-associations…`,
//!   `/tags/…`) and EKS Auth (`POST /clusters/{name}/assume-role-for-pod-identity`);
//! - JSON 1.0 services (`POST /` with `X-Amz-Target`) by the target: Cloud Control (`CloudApiService.…`);
//! - query services (`POST /`, form-encoded) by the SigV4 credential scope's service name (`iam`, `sts`
//!   or `cloudformation`) and the `Action` parameter.
//!
//! Every request of a known operation goes through [`instrument`]: it is counted and logged by
//! operation name, its SigV4 signature is verified (unless turned off), a fault injected for the
//! operation is applied, and a change that could not be saved is answered with a 5xx. Handlers find the
//! [`RequestContext`] (request id, caller) and the [`Operation`] in the request's extensions.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Extension, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tracing::{debug, info};

use super::fault_response::fault_response;
use super::kubernetes_auth;
use super::operation::{Api, Operation, json_operation, query_operation, rest_operation};
use super::server::ConnectionKill;
use super::shared::Shared;
use super::sigv4::{self, AuthFailure, Received};
use crate::config::{DEFAULT_ACCOUNT_ID, DEFAULT_USER_NAME};
use crate::context::{CallerIdentity, RequestContext};
use crate::faults::Fault;
use crate::ids::{new_uuid, user_id};
use crate::protocol::query::{self, Params, QueryError};
use crate::world::identities::Identities;
use crate::world::store::{Unsaved, saving};
use crate::{cloudformation, eks, eks_auth, iam, kubernetes, stacks, sts};

/// The single route of the query and JSON 1.0 services.
const QUERY: &str = "/";

/// Largest request body read (IAM documents and EKS requests are far smaller).
const MAX_BODY: usize = 8 * 1024 * 1024;

/// Every API on one router: the services' routes and the query endpoint, each request through
/// [`instrument`]; what matches no route is EKS's unknown-operation error.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .merge(eks::routes().with_state(shared.store.clone()))
        .merge(eks_auth::routes().with_state(shared.store.clone()))
        .merge(
            kubernetes::routes()
                .route_layer(middleware::from_fn_with_state(
                    shared.clone(),
                    kubernetes_auth::authenticate,
                ))
                .with_state(shared.store.clone()),
        )
        .route(QUERY, get(root_endpoint).post(root_endpoint))
        .fallback(eks::unknown_operation)
        .method_not_allowed_fallback(eks::unknown_operation)
        .layer(middleware::from_fn_with_state(shared.clone(), instrument))
        .with_state(shared)
}

/// Names the operation, counts it, checks the signature, applies faults, runs it, and tags the
/// response with a request id.
async fn instrument(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let request_id = new_uuid();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|route| route.as_str().to_owned());
    let (mut parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(body) => body,
        Err(error) => {
            debug!(%error, "cannot read the request body");
            return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response();
        }
    };
    let operation = match route.as_deref() {
        Some(QUERY) => Some(json_operation(&parts.headers, &request_id).unwrap_or_else(|| {
            let params = Params::parse(parts.uri.query(), &body);
            let operation = query_operation(&parts.headers, &params, &request_id);
            parts.extensions.insert(params);
            operation
        })),
        Some(route) => rest_operation(&parts.method, route).map(Ok),
        None => None,
    };
    let name = operation
        .as_ref()
        .and_then(|op| op.as_ref().ok())
        .map_or("unknown", |op| op.name);
    // One line per request at info (`pia -v emulator`): what was asked and answered, never a header or a body,
    // where credentials and tokens travel.
    let (method, path, started) = (parts.method.clone(), parts.uri.path().to_owned(), Instant::now());
    let mut response = match operation {
        None => next.run(Request::from_parts(parts, Body::from(body))).await,
        Some(Err(response)) => *response,
        Some(Ok(operation)) => run_operation(&shared, operation, parts, body, next, &request_id).await,
    };
    info!(
        operation = name,
        status = response.status().as_u16(),
        ms = format!("{:.1}", started.elapsed().as_secs_f64() * 1e3),
        %method,
        path,
        request_id,
        "request"
    );
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-amzn-requestid", value);
    }
    response
}

async fn run_operation(
    shared: &Arc<Shared>,
    operation: Operation,
    mut parts: Parts,
    body: Bytes,
    next: Next,
    request_id: &str,
) -> Response {
    let api = operation.api;
    shared.calls().record(operation.name);
    let (caller, access_key_id) = {
        let state = shared.store.state();
        if state.settings.verify_signatures {
            let received = Received {
                method: &parts.method,
                uri: &parts.uri,
                headers: &parts.headers,
                body: &body,
            };
            match sigv4::verify(&state.identities, &received, api.signing_name(), SystemTime::now()) {
                Ok(caller) => (caller, sigv4::scope(&parts.headers).map(|s| s.access_key_id.to_owned())),
                Err(failure) => {
                    drop(state);
                    debug!(operation = operation.name, ?failure, "request refused");
                    return auth_failure_response(api, &failure, request_id);
                }
            }
        } else {
            unverified_caller(
                &state.identities,
                sigv4::scope(&parts.headers).map(|scope| scope.access_key_id),
            )
        }
    };

    let fault = shared.faults().next_fault(operation.name);
    if let Some(fault) = fault {
        debug!(operation = operation.name, ?fault, "injecting fault");
        if let Some(response) = fault_response(api, fault, request_id) {
            return response;
        }
        if let Fault::Latency(delay) = fault {
            tokio::time::sleep(delay).await;
        }
        if fault == Fault::Hang {
            // Never answer; the connection stays open until the client gives up (or shutdown).
            std::future::pending::<()>().await;
        }
    }

    let kill = parts.extensions.get::<ConnectionKill>().cloned();
    parts.extensions.insert(operation);
    let region = sigv4::scope(&parts.headers).map(|scope| scope.region.to_owned());
    parts.extensions.insert(RequestContext {
        request_id: request_id.to_owned(),
        caller,
        access_key_id,
        region,
    });
    let response = match saving(next.run(Request::from_parts(parts, Body::from(body)))).await {
        Ok(response) => response,
        Err(Unsaved) => unsaved_response(api, request_id),
    };
    if fault == Some(Fault::DropAfterApply) {
        debug!(
            operation = operation.name,
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

/// The answer to a request whose change could not be saved (and was undone), in the API's own shape.
fn unsaved_response(api: Api, request_id: &str) -> Response {
    let code = match api {
        Api::Eks => "ServerException",
        Api::EksAuth => "InternalServerException",
        Api::Iam | Api::Sts | Api::CloudFormation => "ServiceFailure",
        Api::CloudControl => "ServiceInternalErrorException",
    };
    let message = "The change could not be saved to the emulator's state database; nothing was changed.";
    api.error_response(500, code, message, request_id)
}

fn auth_failure_response(api: Api, failure: &AuthFailure, request_id: &str) -> Response {
    let (status, rest_code, query_code, message) = failure.describe();
    let code = if api.is_query() { query_code } else { rest_code };
    api.error_response(status, code, &message, request_id)
}

/// With verification off: the owner of the signing key if it is known, else the default user.
pub(super) fn unverified_caller(
    identities: &Identities,
    access_key_id: Option<&str>,
) -> (CallerIdentity, Option<String>) {
    if let Some(access_key_id) = access_key_id
        && let Some(key) = identities.get(access_key_id)
    {
        return (key.identity(), Some(access_key_id.to_owned()));
    }
    (
        CallerIdentity {
            arn: format!("arn:aws:iam::{DEFAULT_ACCOUNT_ID}:user/{DEFAULT_USER_NAME}"),
            account_id: DEFAULT_ACCOUNT_ID.to_owned(),
            user_id: user_id(DEFAULT_ACCOUNT_ID, DEFAULT_USER_NAME),
            session_tags: Default::default(),
        },
        None,
    )
}

/// `POST /` (and `GET /?Action=…`): Cloud Control (JSON 1.0), or IAM, STS or CloudFormation (query).
async fn root_endpoint(
    State(shared): State<Arc<Shared>>,
    Extension(operation): Extension<Operation>,
    Extension(context): Extension<RequestContext>,
    params: Option<Extension<Params>>,
    body: Bytes,
) -> Response {
    if operation.api == Api::CloudControl {
        return shared.cloud_control.handle(operation.name, &body, &context).await;
    }
    let params = params.map(|Extension(params)| params).unwrap_or_default();
    let result = match operation.api {
        Api::Iam => iam::handle(&shared.store, operation.name, &params, &context),
        Api::Sts => sts::handle(&shared.store, operation.name, &params, &context),
        Api::CloudFormation if stacks::api::ACTIONS.contains(&operation.name) => {
            let stacks = stacks::api::Stacks {
                store: &shared.store,
                types: &shared.resource_types,
                context: &context,
            };
            stacks::api::handle(&stacks, operation.name, &params).await
        }
        Api::CloudFormation => cloudformation::handle(&shared.store, operation.name, &params, &context),
        _ => Err(QueryError::new(400, "InvalidAction", "Not a query operation.")),
    };
    match result {
        Ok(result) => query::ok_response(
            operation.api.xml_namespace(),
            operation.name,
            result,
            &context.request_id,
        ),
        Err(error) => query::error_response(operation.api.xml_namespace(), &error, &context.request_id),
    }
}
