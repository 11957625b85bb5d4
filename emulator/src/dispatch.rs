//! One port for every AWS API the emulator serves, as AWS's own endpoints tell requests apart:
//!
//! - rest-json services by path: EKS (`/clusters/{name}`, `/clusters/{name}/pod-identity-associations…`,
//!   `/tags/…`) and EKS Auth (`POST /clusters/{name}/assume-role-for-pod-identity`);
//! - query services (`POST /`, form-encoded) by the SigV4 credential scope's service name (`iam` or
//!   `sts`) and the `Action` parameter.
//!
//! Every request of a known operation goes through [`instrument`]: it is counted and logged by
//! operation name, its SigV4 signature is verified (unless turned off), a fault injected for the
//! operation is applied, and after a successful change the state file is rewritten. Handlers find the
//! [`RequestContext`] (request id, caller) and the [`Operation`] in the request's extensions.

use std::sync::Arc;
use std::time::SystemTime;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Extension, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use tracing::debug;

use crate::Shared;
use crate::config::{DEFAULT_ACCOUNT_ID, DEFAULT_USER_NAME};
use crate::eks::{self, ApiError, ErrorKind};
use crate::faults::Fault;
use crate::identity::{CallerIdentity, Identities, user_id};
use crate::query::{self, Params, QueryError};
use crate::server::ConnectionKill;
use crate::sigv4::{self, AuthFailure, Received};
use crate::state::new_uuid;

/// The route of EKS Auth's AssumeRoleForPodIdentity (rest-json, signing name `eks-auth`).
pub const ASSUME_ROLE_FOR_POD_IDENTITY: &str = "/clusters/{name}/assume-role-for-pod-identity";
/// The query services' single route.
pub const QUERY: &str = "/";

/// Largest request body read (IAM documents and EKS requests are far smaller).
const MAX_BODY: usize = 8 * 1024 * 1024;

/// IAM actions served (API version 2010-05-08).
pub const IAM_ACTIONS: &[&str] = &[
    "CreateRole",
    "GetRole",
    "UpdateAssumeRolePolicy",
    "DeleteRole",
    "ListRoles",
    "AttachRolePolicy",
    "DetachRolePolicy",
    "ListAttachedRolePolicies",
];
/// CloudFormation registry actions served (API version 2010-05-15).
pub const CLOUDFORMATION_ACTIONS: &[&str] = &["RegisterType", "DescribeTypeRegistration", "SetTypeDefaultVersion"];
/// STS actions served (API version 2011-06-15).
pub const STS_ACTIONS: &[&str] = &["GetCallerIdentity", "AssumeRole", "GetSessionToken"];

/// The AWS APIs on the emulator's port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Api {
    Eks,
    EksAuth,
    Iam,
    Sts,
    CloudFormation,
}

impl Api {
    /// The service name in the SigV4 credential scope.
    pub fn signing_name(self) -> &'static str {
        match self {
            Api::Eks => "eks",
            Api::EksAuth => "eks-auth",
            Api::Iam => "iam",
            Api::Sts => "sts",
            Api::CloudFormation => "cloudformation",
        }
    }

    pub fn is_query(self) -> bool {
        matches!(self, Api::Iam | Api::Sts | Api::CloudFormation)
    }

    pub fn xml_namespace(self) -> &'static str {
        match self {
            Api::Sts => "https://sts.amazonaws.com/doc/2011-06-15/",
            Api::CloudFormation => "http://cloudformation.amazonaws.com/doc/2010-05-15/",
            _ => "https://iam.amazonaws.com/doc/2010-05-08/",
        }
    }

    pub fn api_version(self) -> &'static str {
        match self {
            Api::Eks => "2017-11-01",
            Api::EksAuth => "2023-11-26",
            Api::Iam => "2010-05-08",
            Api::Sts => "2011-06-15",
            Api::CloudFormation => "2010-05-15",
        }
    }

    /// An error in the API's protocol: rest-json (`x-amzn-errortype` and `{"message"}`) or query XML.
    pub fn error_response(self, status: u16, code: &'static str, message: &str, request_id: &str) -> Response {
        if self.is_query() {
            return query::error_response(self, &QueryError::new(status, code, message), request_id);
        }
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
        let mut response = (status, axum::Json(json!({ "message": message }))).into_response();
        let headers = response.headers_mut();
        headers.insert("x-amzn-errortype", HeaderValue::from_static(code));
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    }

    /// The error an injected [`Fault`] answers with, in this API's terms (`None`: no error).
    fn fault_response(self, fault: Fault, request_id: &str) -> Option<Response> {
        let (status, code, message): (u16, &'static str, String) = match (self, fault) {
            (_, Fault::Latency(_) | Fault::DropAfterApply | Fault::Hang) => return None,
            (Api::Eks, Fault::Throttle) => {
                return Some(ApiError::new(ErrorKind::Throttling, "Rate exceeded").into_response());
            }
            (Api::Eks, Fault::ServerError) => {
                return Some(
                    ApiError::new(ErrorKind::Server, "An internal error occurred (injected fault).").into_response(),
                );
            }
            (Api::Eks, Fault::Unavailable) => {
                return Some(
                    ApiError::new(ErrorKind::ServiceUnavailable, "Service unavailable (injected fault).")
                        .into_response(),
                );
            }
            (Api::Eks, Fault::Error(kind)) => {
                return Some(ApiError::new(kind, format!("{} (injected fault).", kind.name())).into_response());
            }
            (Api::EksAuth, Fault::Throttle) => (429, "ThrottlingException", "Rate exceeded".into()),
            (Api::EksAuth, Fault::ServerError) => (
                500,
                "InternalServerException",
                "An internal error occurred (injected fault).".into(),
            ),
            (Api::EksAuth, Fault::Unavailable) => (
                503,
                "ServiceUnavailableException",
                "Service unavailable (injected fault).".into(),
            ),
            (Api::EksAuth, Fault::Error(kind)) => {
                let kind = crate::eks_auth::AuthErrorKind::from_eks(kind);
                (kind.status(), kind.name(), format!("{} (injected fault).", kind.name()))
            }
            (_, Fault::Throttle) => (400, "Throttling", "Rate exceeded".into()),
            (Api::Iam, Fault::ServerError) => (
                500,
                "ServiceFailure",
                "An internal error occurred (injected fault).".into(),
            ),
            (_, Fault::ServerError) => (
                500,
                "InternalFailure",
                "An internal error occurred (injected fault).".into(),
            ),
            (_, Fault::Unavailable) => (
                503,
                "ServiceUnavailable",
                "Service unavailable (injected fault).".into(),
            ),
            (api, Fault::Error(kind)) => {
                let (status, code) = query_code(api, kind);
                (status, code, format!("{code} (injected fault)."))
            }
        };
        Some(self.error_response(status, code, &message, request_id))
    }
}

/// The query protocol's nearest equivalent of an EKS error kind.
fn query_code(api: Api, kind: ErrorKind) -> (u16, &'static str) {
    match kind {
        ErrorKind::AccessDenied => (403, "AccessDenied"),
        ErrorKind::Throttling => (400, "Throttling"),
        ErrorKind::Server if api == Api::Iam => (500, "ServiceFailure"),
        ErrorKind::Server => (500, "InternalFailure"),
        ErrorKind::ServiceUnavailable => (503, "ServiceUnavailable"),
        ErrorKind::ResourceNotFound | ErrorKind::NotFound => (404, "NoSuchEntity"),
        ErrorKind::ResourceInUse => (409, "EntityAlreadyExists"),
        ErrorKind::ResourceLimitExceeded => (409, "LimitExceeded"),
        ErrorKind::InvalidParameter | ErrorKind::InvalidRequest | ErrorKind::BadRequest => (400, "ValidationError"),
    }
}

/// An operation: the API and its operation name (`CreatePodIdentityAssociation`, `CreateRole`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    pub api: Api,
    pub name: &'static str,
}

impl Operation {
    /// Whether a success changes the world (then the state file is rewritten).
    pub fn mutates(&self) -> bool {
        !["Get", "List", "Describe"]
            .iter()
            .any(|prefix| self.name.starts_with(prefix))
    }
}

/// What the handlers of an operation learn about the request.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: String,
    /// Who signed the request (with verification off: the key's owner if the key is known, else the
    /// default user).
    pub caller: CallerIdentity,
    /// The access key the request was signed with, if known.
    pub access_key_id: Option<String>,
    /// The region of the signature's credential scope, if signed.
    pub region: Option<String>,
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .merge(eks::routes())
        .merge(crate::eks_auth::routes())
        .route(QUERY, get(query_endpoint).post(query_endpoint))
        .fallback(eks::unknown_operation)
        .method_not_allowed_fallback(eks::unknown_operation)
        .layer(middleware::from_fn_with_state(shared.clone(), instrument))
        .with_state(shared)
}

/// The operation a routed request is.
fn rest_operation(method: &Method, route: &str) -> Option<Operation> {
    if let Some(name) = eks::operation_name(method, route) {
        return Some(Operation { api: Api::Eks, name });
    }
    (*method == Method::POST && route.ends_with("/assume-role-for-pod-identity")).then_some(Operation {
        api: Api::EksAuth,
        name: "AssumeRoleForPodIdentity",
    })
}

/// The query operation of a request on `/`: the API from the credential scope (or, unsigned, from
/// the action), the action from the parameters. `Err` is the answer to an unknown action.
fn query_operation(headers: &HeaderMap, params: &Params, request_id: &str) -> Result<Operation, Box<Response>> {
    let action = params.get("Action").unwrap_or("");
    let api = match sigv4::scope(headers).map(|scope| scope.service) {
        Some("iam") => Api::Iam,
        Some("sts") => Api::Sts,
        Some("cloudformation") => Api::CloudFormation,
        _ if STS_ACTIONS.contains(&action) => Api::Sts,
        _ if CLOUDFORMATION_ACTIONS.contains(&action) => Api::CloudFormation,
        _ => Api::Iam,
    };
    let actions = match api {
        Api::Sts => STS_ACTIONS,
        Api::CloudFormation => CLOUDFORMATION_ACTIONS,
        _ => IAM_ACTIONS,
    };
    match actions.iter().find(|known| **known == action) {
        Some(name) => Ok(Operation { api, name }),
        None => {
            let version = params.get("Version").unwrap_or(api.api_version());
            Err(Box::new(api.error_response(
                400,
                "InvalidAction",
                &format!("Could not find operation {action} for version {version}"),
                request_id,
            )))
        }
    }
}

/// Names the operation, counts it, checks the signature, applies faults, runs it, persists, and tags
/// the response with a request id.
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
        Some(QUERY) => {
            let params = Params::parse(parts.uri.query(), &body);
            let operation = query_operation(&parts.headers, &params, &request_id);
            parts.extensions.insert(params);
            Some(operation)
        }
        Some(route) => rest_operation(&parts.method, route).map(Ok),
        None => None,
    };
    debug!(
        operation = operation
            .as_ref()
            .and_then(|op| op.as_ref().ok())
            .map_or("unknown", |op| op.name),
        method = %parts.method,
        path = %parts.uri.path(),
        request_id,
        "request"
    );
    let mut response = match operation {
        None => next.run(Request::from_parts(parts, Body::from(body))).await,
        Some(Err(response)) => *response,
        Some(Ok(operation)) => run_operation(&shared, operation, parts, body, next, &request_id).await,
    };
    debug!(request_id, status = response.status().as_u16(), "response");
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
        let state = shared.state();
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
            unverified_caller(&state.identities, &parts.headers)
        }
    };

    let fault = shared.faults().next_fault(operation.name);
    if let Some(fault) = fault {
        debug!(operation = operation.name, ?fault, "injecting fault");
        if let Some(response) = api.fault_response(fault, request_id) {
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
    let response = next.run(Request::from_parts(parts, Body::from(body))).await;
    if operation.mutates() && response.status().is_success() {
        shared.persist_async().await;
    }
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

fn auth_failure_response(api: Api, failure: &AuthFailure, request_id: &str) -> Response {
    let (status, rest_code, query_code, message) = failure.describe();
    let code = if api.is_query() { query_code } else { rest_code };
    api.error_response(status, code, &message, request_id)
}

/// With verification off: the owner of the signing key if it is known, else the default user.
fn unverified_caller(identities: &Identities, headers: &HeaderMap) -> (CallerIdentity, Option<String>) {
    if let Some(scope) = sigv4::scope(headers)
        && let Some(key) = identities.get(scope.access_key_id)
    {
        return (key.identity(), Some(scope.access_key_id.to_owned()));
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

/// `POST /` (and `GET /?Action=…`): IAM or STS.
async fn query_endpoint(
    State(shared): State<Arc<Shared>>,
    Extension(operation): Extension<Operation>,
    Extension(context): Extension<RequestContext>,
    Extension(params): Extension<Params>,
) -> Response {
    let result = match operation.api {
        Api::Iam => crate::iam::handle(&shared, operation.name, &params, &context),
        Api::Sts => crate::sts::handle(&shared, operation.name, &params, &context),
        Api::CloudFormation => crate::cloudformation::handle(&shared, operation.name, &params, &context),
        _ => Err(QueryError::new(400, "InvalidAction", "Not a query operation.")),
    };
    match result {
        Ok(result) => query::ok_response(operation.api, operation.name, result, &context.request_id),
        Err(error) => query::error_response(operation.api, &error, &context.request_id),
    }
}
