//! The emulated EKS Auth API (rest-json, API version 2023-11-26, signing name `eks-auth`): its one
//! operation, `AssumeRoleForPodIdentity`, which the Pod Identity Agent calls with a pod's projected
//! service-account token.
//!
//! Requests reach the handler through the wire layer's dispatcher (counted as `AssumeRoleForPodIdentity`,
//! SigV4-verified, injected faults applied). The handler then
//! 1. finds the cluster (ResourceNotFoundException) and verifies the token (`verify`: shape and size →
//!    InvalidParameterException; signature, algorithm, issuer, audience, `nbf`, subject → InvalidTokenException;
//!    `exp` → ExpiredTokenException);
//! 2. finds the association of (cluster, namespace, service account) as EKS Auth sees it (a create or update is
//!    seen `association_propagation_seconds` after it was made): none → **ResourceNotFoundException**
//!    (404). EKS documents no wording for this case; the agent treats ResourceNotFound as "this pod has no
//!    pod identity", which is what the case is. *(unverified against a live account)*
//! 3. evaluates the role's trust policy for the service principal `pods.eks.amazonaws.com`: `sts:AssumeRole`, and
//!    `sts:TagSession` unless the association disables session tags, with `aws:SourceAccount`,
//!    `aws:SourceArn`, `aws:RequestTag/…`, `aws:TagKeys`, `sts:TransitiveTagKeys`, `sts:RoleSessionName`.
//!    Refused (or the role is gone) → AccessDeniedException (400) with EKS's wording and the reason;
//! 4. issues the role session (six transitive session tags unless disabled), and with a TargetRoleArn
//!    assumes the target role as that session (principal: the first role; `sts:ExternalId`: the
//!    association's external id, which names region, account, cluster, namespace and service account when session
//!    tags are disabled; the tags pass on), answering with the target's credentials;
//! 5. records a [`PodIdentityGrant`] (see [`crate::Emulator::pod_identity_grants`]).

mod assume;
pub(crate) mod error;
mod verify;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Extension, Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tracing::debug;

pub use crate::world::eks_auth::PodIdentityGrant;
pub use assume::SESSION_TAG_KEYS;
pub use verify::MAX_TOKEN_BYTES;

use crate::authz::{Ask, authorize};
use crate::clock::epoch_seconds;
use crate::config::{DEFAULT_REGION, POD_IDENTITY_PRINCIPAL};
use crate::context::RequestContext;
use crate::world::store::Store;
use error::{AuthError, AuthErrorKind};

/// The route of AssumeRoleForPodIdentity (rest-json, signing name `eks-auth`).
pub(crate) const ROUTE: &str = "/clusters/{name}/assume-role-for-pod-identity";
/// The operation name, as counted by [`crate::Emulator::calls`] and used by [`crate::Emulator::inject`].
pub(crate) const OPERATION: &str = "AssumeRoleForPodIdentity";

pub(crate) fn routes() -> Router<Arc<Store>> {
    Router::new().route(ROUTE, post(assume_role_for_pod_identity))
}

async fn assume_role_for_pod_identity(
    State(store): State<Arc<Store>>,
    Extension(context): Extension<RequestContext>,
    cluster: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Response {
    match handle(&store, &context, cluster, &body) {
        Ok(body) => axum::Json(body).into_response(),
        Err(error) => {
            debug!(code = error.kind.name(), "AssumeRoleForPodIdentity refused");
            error.into_response()
        }
    }
}

fn handle(
    store: &Store,
    context: &RequestContext,
    cluster: Result<Path<String>, PathRejection>,
    body: &Bytes,
) -> Result<Value, AuthError> {
    let Path(cluster_name) = cluster.map_err(|rejection| AuthError::invalid_parameter(rejection.body_text()))?;
    check_cluster_name(&cluster_name)?;
    let token = parse_token(body)?;

    let (key, issuer) = {
        let state = store.state();
        // The node calls for a cluster of its own account, in the region it signs for.
        let region = context.region.clone().unwrap_or_else(|| {
            state
                .clusters
                .get(&cluster_name)
                .map_or(DEFAULT_REGION.to_owned(), |cluster| cluster.region.clone())
        });
        let partition = pia_core::partition_of_region(&region);
        let account_id = &context.caller.account_id;
        let cluster_arn = format!("arn:{partition}:eks:{region}:{account_id}:cluster/{cluster_name}");
        authorize(
            &state,
            context,
            &Ask::new("eks-auth:AssumeRoleForPodIdentity", &cluster_arn),
        )
        .map_err(|denied| AuthError::new(AuthErrorKind::AccessDenied, denied.message))?;
        let cluster = state
            .clusters
            .get(&cluster_name)
            .filter(|cluster| cluster.arn == cluster_arn);
        let cluster = cluster.ok_or_else(|| {
            AuthError::new(
                AuthErrorKind::ResourceNotFound,
                format!("No cluster found for name: {cluster_name}."),
            )
        })?;
        (cluster.signing_key.clone(), cluster.oidc_issuer.clone())
    };
    let verified = verify::verify_token(&token, &key, &issuer, &cluster_name)?;

    let (grant, credentials) = assume::assume(store, &cluster_name, &verified)?;
    debug!(
        cluster = %cluster_name,
        namespace = %verified.namespace,
        service_account = %verified.service_account,
        role = %grant.assumed_role_arn,
        "pod identity credentials issued"
    );
    let response = json!({
        "subject": {"namespace": verified.namespace, "serviceAccount": verified.service_account},
        "audience": POD_IDENTITY_PRINCIPAL,
        "podIdentityAssociation": {
            "associationArn": grant.association_arn,
            "associationId": grant.association_id,
        },
        "assumedRoleUser": {"arn": credentials.assumed_role_arn, "assumeRoleId": credentials.assumed_role_id},
        "credentials": {
            "sessionToken": credentials.session_token,
            "secretAccessKey": credentials.secret_access_key,
            "accessKeyId": credentials.access_key_id,
            "expiration": epoch_seconds(credentials.expiration),
        },
    });
    store.state().pod_identity_grants.record(grant);
    Ok(response)
}

/// The model's ClusterName: 1–100 of `[0-9A-Za-z][A-Za-z0-9\-_]*`.
fn check_cluster_name(name: &str) -> Result<(), AuthError> {
    let valid = (1..=100).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(())
    } else {
        Err(AuthError::invalid_parameter(format!(
            "The cluster name {name:?} is invalid: 1 to 100 letters, digits, hyphens and underscores, starting with a letter or digit."
        )))
    }
}

fn parse_token(body: &Bytes) -> Result<String, AuthError> {
    let value: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(body).map_err(|e| AuthError::invalid_parameter(format!("Invalid request body: {e}.")))?
    };
    match value.get("token") {
        Some(Value::String(token)) => Ok(token.clone()),
        Some(_) => Err(AuthError::invalid_parameter("The token must be a string.")),
        None => Err(AuthError::invalid_parameter("The request must contain a token.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_names_follow_the_model() {
        assert!(check_cluster_name("demo_1-x").is_ok());
        for bad in ["", "-x", "a.b", &"a".repeat(101)] {
            assert_eq!(
                check_cluster_name(bad).unwrap_err().kind,
                AuthErrorKind::InvalidParameter
            );
        }
    }
}
