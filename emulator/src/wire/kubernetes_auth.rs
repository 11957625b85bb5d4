//! Authentication of requests to the clusters' Kubernetes APIs, as EKS authenticates them: `Authorization: Bearer
//! k8s-aws-v1.…` (see [`super::presigned`]) whose presigned URL is signed for the cluster named in the path. A
//! request that fails is answered 401 `Unauthorized`, as the API server answers, with the reason in the log only.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use tracing::debug;

use super::dispatch::unverified_caller;
use super::presigned::PresignedUrl;
use super::shared::Shared;
use crate::context::RequestContext;
use crate::ids::new_uuid;
use crate::kubernetes::CLUSTER_PARAMETER;
use crate::protocol::kubernetes::status_response;

pub(super) async fn authenticate(
    State(shared): State<Arc<Shared>>,
    Path(parameters): Path<HashMap<String, String>>,
    mut request: Request,
    next: Next,
) -> Response {
    let cluster = parameters.get(CLUSTER_PARAMETER).map_or("", String::as_str);
    let bearer = request
        .headers()
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default();
    let authenticated = PresignedUrl::parse(bearer.trim()).and_then(|url| {
        let state = shared.store.state();
        let caller = if state.settings.verify_signatures {
            url.verify(&state.identities, cluster, SystemTime::now())?
        } else {
            unverified_caller(&state.identities, Some(&url.access_key_id)).0
        };
        Ok((caller, url))
    });
    let (caller, url) = match authenticated {
        Ok(authenticated) => authenticated,
        Err(failure) => {
            debug!(%cluster, ?failure, "Kubernetes API request refused");
            return status_response(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized");
        }
    };
    request.extensions_mut().insert(RequestContext {
        request_id: new_uuid(),
        caller,
        access_key_id: Some(url.access_key_id.clone()),
        region: Some(url.region().to_owned()),
    });
    next.run(request).await
}
