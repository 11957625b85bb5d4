//! The emulated EKS Auth API (rest-json, API version 2023-11-26, signing name `eks-auth`): its one
//! operation, `AssumeRoleForPodIdentity`, which the Pod Identity Agent calls with a pod's projected
//! service-account token.
//!
//! Requests reach the handler through [`crate::dispatch`] (counted as `AssumeRoleForPodIdentity`,
//! SigV4-verified, injected faults applied). The handler then
//! 1. finds the cluster (ResourceNotFoundException) and verifies the token ([`verify`]: shape and size →
//!    InvalidParameterException; signature, algorithm, issuer, audience, `nbf`, subject → InvalidTokenException;
//!    `exp` → ExpiredTokenException);
//! 2. finds the association of (cluster, namespace, service account): none → **ResourceNotFoundException**
//!    (404). EKS documents no wording for this case; the agent treats ResourceNotFound as "this pod has no
//!    pod identity", which is what the case is. *(unverified against a live account)*
//! 3. evaluates the role's trust policy for the service principal `pods.eks.amazonaws.com`: `sts:AssumeRole`, and
//!    `sts:TagSession` unless the association disables session tags, with `aws:SourceAccount`,
//!    `aws:SourceArn`, `aws:RequestTag/…`, `aws:TagKeys`, `sts:TransitiveTagKeys`, `sts:RoleSessionName`.
//!    Refused (or the role is gone) → AccessDeniedException (400) with EKS's wording and the reason;
//! 4. issues the role session (six transitive session tags unless disabled), and with a TargetRoleArn
//!    assumes the target role as that session (principal: the first role; `sts:ExternalId`: the
//!    association's external id; the tags pass on), answering with the target's credentials;
//! 5. records a [`PodIdentityGrant`] (see [`crate::Emulator::pod_identity_grants`]).

pub mod error;
pub mod verify;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Serialize;
use serde_json::{Value, json};
use tracing::debug;

pub use error::{AuthError, AuthErrorKind};
pub use verify::{LEEWAY_SECONDS, MAX_TOKEN_BYTES, VerifiedToken};

use crate::Shared;
use crate::config::POD_IDENTITY_PRINCIPAL;
use crate::identity::{IssuedCredentials, epoch_seconds, role_account_and_name};
use crate::sigv4::format_iso8601;
use crate::state::{Association, State as World, new_uuid};
use crate::trust::{TrustContext, TrustPrincipal, trust_allows};

/// The route of AssumeRoleForPodIdentity.
pub const ROUTE: &str = crate::dispatch::ASSUME_ROLE_FOR_POD_IDENTITY;
/// The operation name, as counted by [`crate::Emulator::calls`] and used by [`crate::Emulator::inject`].
pub const OPERATION: &str = "AssumeRoleForPodIdentity";
/// How long the credentials of a pod's role session last. *(unverified: EKS does not document it; the agent
/// refreshes well before)*
pub const CREDENTIALS_LIFETIME: Duration = Duration::from_secs(6 * 3600);
/// How long the target role's session lasts (STS's limit for role chaining).
pub const CHAINED_CREDENTIALS_LIFETIME: Duration = Duration::from_secs(3600);
/// The session tags EKS Auth sets (all transitive), unless the association disables them.
pub const SESSION_TAG_KEYS: [&str; 6] = [
    "eks-cluster-arn",
    "eks-cluster-name",
    "kubernetes-namespace",
    "kubernetes-service-account",
    "kubernetes-pod-name",
    "kubernetes-pod-uid",
];
/// How EKS Auth's AccessDeniedException begins when it cannot assume the role.
pub const UNAUTHORIZED: &str = "Unauthorized Exception! EKS does not have permissions to assume the associated role.";
/// The grants kept for [`crate::Emulator::pod_identity_grants`] (the oldest go first).
pub const MAX_GRANTS_KEPT: usize = 10_000;

/// What one successful AssumeRoleForPodIdentity handed out (never the secret or session token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodIdentityGrant {
    pub cluster: String,
    pub namespace: String,
    pub service_account: String,
    pub pod_name: String,
    pub pod_uid: String,
    pub association_id: String,
    pub association_arn: String,
    /// The association's role (the first hop).
    pub role_arn: String,
    /// The session of `role_arn` (with a target role, the pod never sees it).
    pub role_session_arn: String,
    pub target_role_arn: Option<String>,
    /// The role session the pod got (of the target role, if any).
    pub assumed_role_arn: String,
    pub assumed_role_id: String,
    pub access_key_id: String,
    /// Its session tags (empty with DisableSessionTags).
    pub session_tags: BTreeMap<String, String>,
    pub transitive_tag_keys: BTreeSet<String>,
    /// The association's inline session policy, recorded (not enforced).
    pub policy: Option<String>,
    pub expiration: SystemTime,
}

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new().route(ROUTE, post(assume_role_for_pod_identity))
}

async fn assume_role_for_pod_identity(
    State(shared): State<Arc<Shared>>,
    cluster: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Response {
    match handle(&shared, cluster, &body) {
        Ok(body) => axum::Json(body).into_response(),
        Err(error) => {
            debug!(code = error.kind.name(), "AssumeRoleForPodIdentity refused");
            error.into_response()
        }
    }
}

fn handle(shared: &Shared, cluster: Result<Path<String>, PathRejection>, body: &Bytes) -> Result<Value, AuthError> {
    let Path(cluster_name) = cluster.map_err(|rejection| AuthError::invalid_parameter(rejection.body_text()))?;
    check_cluster_name(&cluster_name)?;
    let token = parse_token(body)?;

    let (key, issuer) = {
        let state = shared.state();
        let cluster = state.clusters.get(&cluster_name).ok_or_else(|| {
            AuthError::new(
                AuthErrorKind::ResourceNotFound,
                format!("No cluster found for name: {cluster_name}."),
            )
        })?;
        (cluster.signing_key.clone(), cluster.oidc_issuer.clone())
    };
    let verified = verify::verify_token(&token, &key, &issuer, &cluster_name)?;

    let (grant, credentials) = assume(shared, &cluster_name, &verified)?;
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
    let mut state = shared.state();
    if state.pod_identity_grants.len() >= MAX_GRANTS_KEPT {
        state.pod_identity_grants.remove(0);
    }
    state.pod_identity_grants.push(grant);
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

/// `eks-{cluster}-{pod}-{uuid}`, cut to STS's 64 characters.
fn session_name(cluster: &str, pod: &str) -> String {
    let mut name = format!("eks-{cluster}-{pod}-{}", new_uuid());
    name.retain(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    name.truncate(64);
    name
}

fn set(context: &mut TrustContext, key: &str, values: Vec<String>) {
    context.insert(key.to_ascii_lowercase(), values);
}

fn tag_context(context: &mut TrustContext, tags: &BTreeMap<String, String>) {
    for (key, value) in tags {
        set(context, &format!("aws:RequestTag/{key}"), vec![value.clone()]);
    }
    if !tags.is_empty() {
        set(context, "aws:TagKeys", tags.keys().cloned().collect());
        set(context, "sts:TransitiveTagKeys", tags.keys().cloned().collect());
    }
}

/// Why a trust policy refused: the first of the actions that it does not allow on its own.
fn refused_action<'a>(
    policy: &Value,
    principal: &TrustPrincipal<'_>,
    actions: &[&'a str],
    context: &TrustContext,
) -> Option<&'a str> {
    if trust_allows(policy, principal, actions, context) {
        return None;
    }
    Some(
        actions
            .iter()
            .copied()
            .find(|action| !trust_allows(policy, principal, &[action], context))
            .unwrap_or(actions[0]),
    )
}

/// The first hop, checked: whose session to issue, with which name and tags.
struct FirstHop {
    association: Association,
    role_arn: String,
    session_name: String,
    tags: BTreeMap<String, String>,
    actions: Vec<&'static str>,
}

fn assume(
    shared: &Shared,
    cluster_name: &str,
    token: &VerifiedToken,
) -> Result<(PodIdentityGrant, IssuedCredentials), AuthError> {
    let hop = check_first_hop(&shared.state(), cluster_name, token)?;
    let first = shared.issue_role_session(&hop.role_arn, &hop.session_name, hop.tags.clone(), CREDENTIALS_LIFETIME);
    let target_role_arn = hop.association.target_role_arn.clone().filter(|arn| !arn.is_empty());
    let credentials = match &target_role_arn {
        None => first.clone(),
        Some(target_arn) => {
            check_second_hop(&shared.state(), &hop, &first, target_arn)?;
            shared.issue_role_session(
                target_arn,
                &hop.session_name,
                hop.tags.clone(),
                CHAINED_CREDENTIALS_LIFETIME,
            )
        }
    };
    let transitive = hop.tags.keys().cloned().collect();
    let grant = PodIdentityGrant {
        cluster: cluster_name.to_owned(),
        namespace: token.namespace.clone(),
        service_account: token.service_account.clone(),
        pod_name: token.pod_name.clone(),
        pod_uid: token.pod_uid.clone(),
        association_id: hop.association.association_id.clone(),
        association_arn: hop.association.association_arn.clone(),
        role_arn: hop.role_arn,
        role_session_arn: first.assumed_role_arn.clone(),
        target_role_arn,
        assumed_role_arn: credentials.assumed_role_arn.clone(),
        assumed_role_id: credentials.assumed_role_id.clone(),
        access_key_id: credentials.access_key_id.clone(),
        session_tags: hop.tags,
        transitive_tag_keys: transitive,
        policy: hop.association.policy.clone().filter(|p| !p.is_empty()),
        expiration: credentials.expiration,
    };
    Ok((grant, credentials))
}

/// The association, and the role's trust policy for the service principal.
fn check_first_hop(state: &World, cluster_name: &str, token: &VerifiedToken) -> Result<FirstHop, AuthError> {
    let cluster = state.clusters.get(cluster_name).ok_or_else(|| {
        AuthError::new(
            AuthErrorKind::ResourceNotFound,
            format!("No cluster found for name: {cluster_name}."),
        )
    })?;
    let association: Association = cluster
        .id_for(&token.namespace, &token.service_account)
        .and_then(|id| cluster.association(id))
        .cloned()
        .ok_or_else(|| {
            AuthError::new(
                AuthErrorKind::ResourceNotFound,
                format!(
                    "No Pod Identity Association found for service account {} in namespace {} of cluster {cluster_name}.",
                    token.service_account, token.namespace
                ),
            )
        })?;
    let cluster_arn = cluster.arn.clone();
    let cluster_account = cluster.account_id.clone();

    let Some(role) = state.roles.get(&association.role_arn) else {
        return Err(AuthError::access_denied(format!(
            "{UNAUTHORIZED} The role {} does not exist.",
            association.role_arn
        )));
    };
    let (role_arn, role_policy) = (role.arn.clone(), &role.trust_policy);

    let tags: BTreeMap<String, String> = if association.disable_session_tags {
        BTreeMap::new()
    } else {
        SESSION_TAG_KEYS
            .iter()
            .zip([
                cluster_arn.as_str(),
                cluster_name,
                token.namespace.as_str(),
                token.service_account.as_str(),
                token.pod_name.as_str(),
                token.pod_uid.as_str(),
            ])
            .map(|(k, v)| ((*k).to_owned(), v.to_owned()))
            .collect()
    };
    let mut actions = vec!["sts:AssumeRole"];
    if !tags.is_empty() {
        actions.push("sts:TagSession");
    }
    let name = session_name(cluster_name, &token.pod_name);

    // First hop: EKS (the service principal) assumes the association's role.
    let mut context = TrustContext::new();
    set(&mut context, "aws:SourceAccount", vec![cluster_account.clone()]);
    set(&mut context, "aws:SourceArn", vec![cluster_arn.clone()]);
    set(
        &mut context,
        "aws:PrincipalServiceName",
        vec![POD_IDENTITY_PRINCIPAL.to_owned()],
    );
    set(&mut context, "aws:PrincipalIsAWSService", vec!["true".to_owned()]);
    set(&mut context, "aws:SecureTransport", vec!["true".to_owned()]);
    set(&mut context, "aws:CurrentTime", vec![format_iso8601(SystemTime::now())]);
    set(
        &mut context,
        "aws:EpochTime",
        vec![epoch_seconds(SystemTime::now()).to_string()],
    );
    set(&mut context, "sts:RoleSessionName", vec![name.clone()]);
    tag_context(&mut context, &tags);
    let service = TrustPrincipal::Service(POD_IDENTITY_PRINCIPAL);
    if let Some(action) = refused_action(role_policy, &service, &actions, &context) {
        let hint = if action == "sts:TagSession" {
            " EKS Pod Identity tags every session unless the association disables session tags: allow sts:TagSession too."
        } else {
            ""
        };
        return Err(AuthError::access_denied(format!(
            "{UNAUTHORIZED} The trust policy of role {role_arn} does not allow {POD_IDENTITY_PRINCIPAL} to perform {action} \
             for this request (aws:SourceAccount {cluster_account}, aws:SourceArn {cluster_arn}).{hint}"
        )));
    }
    Ok(FirstHop {
        association,
        role_arn,
        session_name: name,
        tags,
        actions,
    })
}

/// The target role's trust policy for the first role's session.
fn check_second_hop(
    state: &World,
    hop: &FirstHop,
    first: &IssuedCredentials,
    target_arn: &str,
) -> Result<(), AuthError> {
    let Some(target) = state.roles.get(target_arn) else {
        return Err(AuthError::access_denied(format!(
            "{UNAUTHORIZED} The target role {target_arn} does not exist."
        )));
    };
    let role_arn = hop.role_arn.as_str();
    let external_id = hop.association.external_id.as_str();
    let (role_account, _) = role_account_and_name(role_arn);
    let mut context = TrustContext::new();
    set(&mut context, "aws:PrincipalArn", vec![role_arn.to_owned()]);
    set(&mut context, "aws:PrincipalAccount", vec![role_account.to_owned()]);
    set(&mut context, "aws:userid", vec![first.assumed_role_id.clone()]);
    set(&mut context, "aws:SecureTransport", vec!["true".to_owned()]);
    set(&mut context, "aws:CurrentTime", vec![format_iso8601(SystemTime::now())]);
    set(
        &mut context,
        "aws:EpochTime",
        vec![epoch_seconds(SystemTime::now()).to_string()],
    );
    set(&mut context, "sts:ExternalId", vec![external_id.to_owned()]);
    set(&mut context, "sts:RoleSessionName", vec![hop.session_name.clone()]);
    for (key, value) in &hop.tags {
        set(&mut context, &format!("aws:PrincipalTag/{key}"), vec![value.clone()]);
    }
    tag_context(&mut context, &hop.tags);
    let caller = TrustPrincipal::Aws {
        arn: &first.assumed_role_arn,
        account_id: role_account,
        role_arn: Some(role_arn),
    };
    match refused_action(&target.trust_policy, &caller, &hop.actions, &context) {
        None => Ok(()),
        Some(action) => Err(AuthError::access_denied(format!(
            "{UNAUTHORIZED} The trust policy of target role {target_arn} does not allow {role_arn} to perform \
             {action} for this request (sts:ExternalId {external_id})."
        ))),
    }
}

impl crate::Emulator {
    /// Every successful AssumeRoleForPodIdentity since start (the last [`MAX_GRANTS_KEPT`]), oldest first.
    pub fn pod_identity_grants(&self) -> Vec<PodIdentityGrant> {
        self.inner.shared.state().pod_identity_grants.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names_fit_sts() {
        let name = session_name("demo", "web-7d9f");
        assert!(name.starts_with("eks-demo-web-7d9f-"), "{name}");
        assert_eq!(name.len(), "eks-demo-web-7d9f-".len() + 36);
        let long = session_name(&"c".repeat(100), &"p".repeat(253));
        assert_eq!(long.len(), 64);
    }

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

    #[test]
    fn error_statuses_follow_the_model() {
        let statuses: Vec<(&str, u16)> = AuthErrorKind::ALL.iter().map(|k| (k.name(), k.status())).collect();
        assert_eq!(
            statuses,
            [
                ("InvalidRequestException", 400),
                ("AccessDeniedException", 400),
                ("InvalidTokenException", 400),
                ("InvalidParameterException", 400),
                ("ExpiredTokenException", 400),
                ("ResourceNotFoundException", 404),
                ("ThrottlingException", 429),
                ("InternalServerException", 500),
                ("ServiceUnavailableException", 503),
            ]
        );
    }
}
