//! TokenRequest: a service-account token for a pod, signed with the cluster's key, as the API server issues
//! projected tokens (`status.token`, `status.expirationTimestamp`).
//!
//! As Kubernetes checks it: `apiVersion` `authentication.k8s.io/v1` and `kind` `TokenRequest` when given,
//! `expirationSeconds` at least 600 (default 3600), names that are DNS labels or subdomains. Audiences default to
//! the API server's own (`https://kubernetes.default.svc`). The token must be bound to a pod (`boundObjectRef` of kind
//! `Pod`, its `uid` kept when given): Pod Identity tokens are, and the claims this emulator signs always name one.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tracing::debug;

use crate::clock::format_iso8601;
use crate::context::RequestContext;
use crate::protocol::kubernetes::status_response;
use crate::tokens::TokenRequest;
use crate::world::store::Store;

const API_VERSION: &str = "authentication.k8s.io/v1";
const KIND: &str = "TokenRequest";
/// The audience of the API server itself, what a TokenRequest without audiences gets.
const API_SERVER_AUDIENCE: &str = "https://kubernetes.default.svc";
const DEFAULT_EXPIRATION_SECONDS: u64 = 3600;
const MIN_EXPIRATION_SECONDS: u64 = 600;
/// Kubernetes keeps `expirationSeconds` within 2^32 seconds.
const MAX_EXPIRATION_SECONDS: u64 = 1 << 32;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    api_version: Option<String>,
    kind: Option<String>,
    #[serde(default)]
    spec: Spec,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Spec {
    #[serde(default)]
    audiences: Vec<String>,
    expiration_seconds: Option<u64>,
    bound_object_ref: Option<BoundObjectRef>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BoundObjectRef {
    kind: Option<String>,
    name: Option<String>,
    uid: Option<String>,
}

/// A refusal: the HTTP status, the Kubernetes reason and the message.
struct Refusal(StatusCode, &'static str, String);

impl Refusal {
    fn invalid(message: String) -> Self {
        Refusal(StatusCode::UNPROCESSABLE_ENTITY, "Invalid", message)
    }
}

pub(super) async fn create(
    State(store): State<Arc<Store>>,
    Extension(context): Extension<RequestContext>,
    Path((cluster, namespace, service_account)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    match issue(&store, &context, &cluster, &namespace, &service_account, &body) {
        Ok(answer) => (StatusCode::CREATED, Json(answer)).into_response(),
        Err(Refusal(status, reason, message)) => {
            debug!(%cluster, %namespace, %service_account, reason, "TokenRequest refused");
            status_response(status, reason, &message)
        }
    }
}

fn issue(
    store: &Store,
    context: &RequestContext,
    cluster: &str,
    namespace: &str,
    service_account: &str,
    body: &[u8],
) -> Result<Value, Refusal> {
    let body: Body = serde_json::from_slice(body).map_err(|e| {
        Refusal(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!("the request body is not a TokenRequest: {e}"),
        )
    })?;
    if body.api_version.as_deref().is_some_and(|v| v != API_VERSION) || body.kind.as_deref().is_some_and(|k| k != KIND)
    {
        return Err(Refusal(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!("the request body must be a {KIND} of {API_VERSION}"),
        ));
    }
    check_name("namespace", namespace, 63)?;
    check_name("serviceaccount", service_account, 253)?;
    let spec = body.spec;
    let expiration_seconds = spec.expiration_seconds.unwrap_or(DEFAULT_EXPIRATION_SECONDS);
    if !(MIN_EXPIRATION_SECONDS..=MAX_EXPIRATION_SECONDS).contains(&expiration_seconds) {
        return Err(Refusal::invalid(format!(
            "spec.expirationSeconds: Invalid value: {expiration_seconds}: may not specify a duration less than 10 minutes or longer than 2^32 seconds"
        )));
    }
    let pod = spec
        .bound_object_ref
        .filter(|bound| bound.kind.as_deref() == Some("Pod"))
        .ok_or_else(|| Refusal::invalid("spec.boundObjectRef: Required value: a Pod the token is bound to".into()))?;
    let pod_name = pod.name.unwrap_or_default();
    check_name("spec.boundObjectRef.name", &pod_name, 253)?;
    let audiences = if spec.audiences.is_empty() {
        vec![API_SERVER_AUDIENCE.to_owned()]
    } else {
        spec.audiences
    };

    let (key, issuer) = {
        let state = store.state();
        let found = state.clusters.get(cluster).ok_or_else(|| {
            Refusal(
                StatusCode::NOT_FOUND,
                "NotFound",
                "the server could not find the requested resource".into(),
            )
        })?;
        if found.account_id != context.caller.account_id {
            return Err(Refusal(
                StatusCode::FORBIDDEN,
                "Forbidden",
                format!(
                    "serviceaccounts \"{service_account}\" is forbidden: User \"{}\" cannot create resource \"serviceaccounts/token\" in API group \"\" in the namespace \"{namespace}\"",
                    context.caller.arn
                ),
            ));
        }
        (found.signing_key.clone(), found.oidc_issuer.clone())
    };
    let mut request = TokenRequest::new(cluster, namespace, service_account, &pod_name);
    if let Some(uid) = pod.uid.filter(|uid| !uid.is_empty()) {
        request.pod_uid = uid;
    }
    request.audiences = audiences.clone();
    request.lifetime = Duration::from_secs(expiration_seconds);
    let issued_at = SystemTime::now();
    request.issued_at = Some(issued_at);
    let token = key
        .sign(&request.claims(&issuer))
        .map_err(|e| Refusal(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", e.to_string()))?;
    debug!(%cluster, %namespace, %service_account, pod = %pod_name, caller = %context.caller.arn, "service-account token issued");
    Ok(json!({
        "kind": KIND,
        "apiVersion": API_VERSION,
        "metadata": {"name": service_account, "namespace": namespace, "creationTimestamp": format_iso8601(issued_at)},
        "spec": {
            "audiences": audiences,
            "expirationSeconds": expiration_seconds,
            "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": pod_name, "uid": request.pod_uid},
        },
        "status": {
            "token": token,
            "expirationTimestamp": format_iso8601(issued_at + request.lifetime),
        },
    }))
}

/// A DNS-1123 name (lowercase letters, digits, `-`, and for subdomains `.`), as Kubernetes names objects.
fn check_name(field: &str, name: &str, max_length: usize) -> Result<(), Refusal> {
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || (max_length > 63 && c == '.');
    let edges = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let valid = !name.is_empty()
        && name.len() <= max_length
        && name.chars().all(allowed)
        && name.starts_with(edges)
        && name.ends_with(edges);
    if valid {
        Ok(())
    } else {
        Err(Refusal::invalid(format!(
            "{field}: Invalid value: {name:?}: a lowercase RFC 1123 name of at most {max_length} characters must consist of lower case alphanumeric characters or '-'{}, and must start and end with an alphanumeric character",
            if max_length > 63 { " or '.'" } else { "" }
        )))
    }
}
