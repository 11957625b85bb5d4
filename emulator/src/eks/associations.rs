//! Create, Describe, Update, Delete and List of Pod Identity associations.
//!
//! Order of checks in each operation: request shape and id length, cluster, association, client
//! request token, parameter rules, roles, uniqueness, quota.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::access::{Scope, allow, allow_pass_role, own_cluster, scope_for};
use super::error::{ApiError, ErrorKind};
use super::extract::{PathParams, QueryPairs, parse_body};
use super::paging;
use super::roles::{check_role, check_target_role};
use super::shapes::{AssociationOutput, CreateAssociationRequest, ListAssociationsOutput, UpdateAssociationRequest};
use super::validate;
use crate::authz::Ask;
use crate::clock::now_epoch_seconds;
use crate::context::RequestContext;
use crate::ids::new_association_id;
use crate::world::eks::{Association, AssociationSummary, Cluster, IdempotencyRecord, ListFilter};
use crate::world::state::State as World;
use crate::world::store::Store;

fn respond(association: &Association) -> Response {
    Json(AssociationOutput { association }).into_response()
}

/// Authorizes `action` on the association's ARN (with its tags, if it exists); the request's scope.
fn allow_on_association(
    world: &World,
    context: &RequestContext,
    action: &str,
    cluster_name: &str,
    association_id: &str,
) -> Result<Scope, ApiError> {
    let scope = scope_for(world, context, cluster_name);
    let resource_tags = world
        .clusters
        .get(cluster_name)
        .filter(|cluster| scope.holds(cluster))
        .and_then(|cluster| cluster.association(association_id))
        .map(|association| association.tags.clone())
        .unwrap_or_default();
    let ask = Ask::new(action, scope.association_arn(cluster_name, association_id)).with_resource_tags(&resource_tags);
    allow(world, context, &ask)?;
    Ok(scope)
}

fn required(value: Option<String>, name: &str) -> Result<String, ApiError> {
    value.ok_or_else(|| ApiError::invalid_parameter(format!("Missing required parameter: {name}.")))
}

/// `None` for absent or empty: on create, an empty optional ARN or policy means none.
fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}

/// A session policy needs session tags disabled.
fn check_policy(cluster: &Cluster, policy: Option<&str>, disable_session_tags: bool) -> Result<(), ApiError> {
    let Some(policy) = policy else { return Ok(()) };
    validate::policy(policy).map_err(|e| e.with_cluster(&cluster.name))?;
    if !disable_session_tags {
        return Err(
            ApiError::invalid_parameter("A policy can only be set when disableSessionTags is true.")
                .with_cluster(&cluster.name),
        );
    }
    Ok(())
}

fn token_mismatch(token: &str) -> ApiError {
    ApiError::invalid_parameter(format!(
        "The clientRequestToken {token} was already used for a request with different parameters."
    ))
}

pub(super) async fn create(
    State(store): State<Arc<Store>>,
    Extension(context): Extension<RequestContext>,
    PathParams(cluster_name): PathParams<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: CreateAssociationRequest = parse_body(&body, ErrorKind::InvalidRequest)?;
    let mut guard = store.state();
    let scope = scope_for(&guard, &context, &cluster_name);
    let tags = request.tags.clone().unwrap_or_default();
    let cluster_arn = scope.cluster_arn(&cluster_name);
    allow(
        &guard,
        &context,
        &Ask::new("eks:CreatePodIdentityAssociation", &cluster_arn).with_request_tags(&tags),
    )?;
    if !tags.is_empty() {
        // Tags given at creation are tagging too, so they need eks:TagResource as well.
        allow(
            &guard,
            &context,
            &Ask::new("eks:TagResource", &cluster_arn).with_request_tags(&tags),
        )?;
    }
    if let Some(role_arn) = &request.role_arn {
        allow_pass_role(&guard, &context, role_arn)?;
    }
    let World {
        clusters,
        roles,
        settings,
        ..
    } = &mut *guard;
    let cluster = own_cluster(clusters, &scope, &cluster_name)?;

    let namespace = required(request.namespace, "namespace")?;
    let service_account = required(request.service_account, "serviceAccount")?;
    let role_arn = required(request.role_arn, "roleArn")?;
    let disable_session_tags = request.disable_session_tags.unwrap_or(false);
    let target_role_arn = non_empty(request.target_role_arn);
    let policy = non_empty(request.policy);
    let token = non_empty(request.client_request_token);
    let fingerprint = json!({
        "namespace": namespace,
        "serviceAccount": service_account,
        "roleArn": role_arn,
        "tags": tags,
        "disableSessionTags": disable_session_tags,
        "targetRoleArn": target_role_arn,
        "policy": policy,
    })
    .to_string();

    let seen = token
        .as_ref()
        .and_then(|token| Some((token, cluster.create_token(token)?.clone())));
    if let Some((token, record)) = seen {
        if record.fingerprint != fingerprint {
            return Err(token_mismatch(token).with_cluster(&cluster.name));
        }
        if let Some(existing) = cluster.association(&record.association_id) {
            tracing::debug!(id = %existing.association_id, "idempotent create replayed");
            return Ok(respond(existing));
        }
        // The association made for this token was deleted since: the token is spent, create anew.
        cluster.forget_create_token(token);
    }

    validate::namespace(&namespace).map_err(|e| e.with_cluster(&cluster.name))?;
    validate::service_account(&service_account).map_err(|e| e.with_cluster(&cluster.name))?;
    validate::tags(&tags, settings.allow_system_tags, ErrorKind::InvalidParameter)
        .map_err(|e| e.with_cluster(&cluster.name))?;
    check_policy(cluster, policy.as_deref(), disable_session_tags)?;
    check_role(roles, settings, cluster, &role_arn)?;
    if let Some(target) = &target_role_arn {
        check_target_role(cluster, target)?;
    }
    if let Some(existing) = cluster.id_for(&namespace, &service_account) {
        return Err(ApiError::new(
            ErrorKind::ResourceInUse,
            format!("Association already exists: {existing}"),
        )
        .with_cluster(&cluster.name));
    }
    if cluster.len() >= settings.max_associations_per_cluster {
        return Err(ApiError::new(
            ErrorKind::ResourceLimitExceeded,
            format!(
                "Cluster {} has reached its limit of {} Pod Identity associations.",
                cluster.name, settings.max_associations_per_cluster
            ),
        )
        .with_cluster(&cluster.name));
    }

    let mut association_id = new_association_id();
    while cluster.association(&association_id).is_some() {
        association_id = new_association_id();
    }
    let now = now_epoch_seconds();
    let external_id = cluster.external_id(&namespace, &service_account, disable_session_tags);
    let association = Association {
        cluster_name: cluster.name.clone(),
        namespace,
        service_account,
        role_arn,
        association_arn: cluster.association_arn(&association_id),
        association_id: association_id.clone(),
        tags,
        created_at: now,
        modified_at: now,
        owner_arn: None,
        disable_session_tags,
        target_role_arn,
        external_id,
        policy,
        seq: 0,
    };
    if let Some(token) = token {
        cluster.remember_create_token(
            token,
            IdempotencyRecord {
                fingerprint,
                association_id: association_id.clone(),
            },
        );
    }
    cluster.propagate(&association_id, None, now, settings.association_propagation_seconds);
    let association = cluster.insert(association);
    tracing::debug!(cluster = %association.cluster_name, id = %association.association_id, "association created");
    Ok(respond(association))
}

pub(super) async fn describe(
    State(store): State<Arc<Store>>,
    Extension(context): Extension<RequestContext>,
    PathParams((cluster_name, association_id)): PathParams<(String, String)>,
) -> Result<Response, ApiError> {
    validate::association_id(&association_id)?;
    let mut guard = store.state();
    let scope = allow_on_association(
        &guard,
        &context,
        "eks:DescribePodIdentityAssociation",
        &cluster_name,
        &association_id,
    )?;
    let cluster = own_cluster(&mut guard.clusters, &scope, &cluster_name)?;
    let association = cluster
        .association(&association_id)
        .ok_or_else(|| ApiError::association_not_found(&cluster_name, &association_id))?;
    Ok(respond(association))
}

pub(super) async fn update(
    State(store): State<Arc<Store>>,
    Extension(context): Extension<RequestContext>,
    PathParams((cluster_name, association_id)): PathParams<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    validate::association_id(&association_id)?;
    let request: UpdateAssociationRequest = parse_body(&body, ErrorKind::InvalidRequest)?;
    let mut guard = store.state();
    let scope = allow_on_association(
        &guard,
        &context,
        "eks:UpdatePodIdentityAssociation",
        &cluster_name,
        &association_id,
    )?;
    if let Some(role_arn) = request.role_arn.as_deref().filter(|arn| !arn.is_empty()) {
        allow_pass_role(&guard, &context, role_arn)?;
    }
    let World {
        clusters,
        roles,
        settings,
        ..
    } = &mut *guard;
    let cluster = own_cluster(clusters, &scope, &cluster_name)?;
    let current = cluster
        .association(&association_id)
        .ok_or_else(|| ApiError::association_not_found(&cluster_name, &association_id))?;
    super::owned::refuse_owned(current)?;

    let token = non_empty(request.client_request_token);
    let fingerprint = json!({
        "roleArn": request.role_arn,
        "disableSessionTags": request.disable_session_tags,
        "targetRoleArn": request.target_role_arn,
        "policy": request.policy,
    })
    .to_string();
    let seen = token
        .as_ref()
        .and_then(|token| Some((token, cluster.update_token(&association_id, token)?)));
    if let Some((token, seen)) = seen {
        if seen != fingerprint {
            return Err(token_mismatch(token).with_cluster(&cluster.name));
        }
        tracing::debug!(id = %association_id, "idempotent update replayed");
        return Ok(respond(current));
    }

    // Absent keeps the old value; "" clears targetRoleArn and policy.
    let role_arn = request.role_arn.clone().unwrap_or_else(|| current.role_arn.clone());
    let disable_session_tags = request.disable_session_tags.unwrap_or(current.disable_session_tags);
    let target_role_arn = match &request.target_role_arn {
        None => current.target_role_arn.clone(),
        Some(value) => Some(value.clone()).filter(|v| !v.is_empty()),
    };
    let policy = match &request.policy {
        None => current.policy.clone(),
        Some(value) => Some(value.clone()).filter(|v| !v.is_empty()),
    };
    if role_arn == current.role_arn
        && disable_session_tags == current.disable_session_tags
        && target_role_arn == current.target_role_arn
        && policy == current.policy
    {
        return Err(ApiError::invalid_parameter(
            "The update request must change at least one of roleArn, targetRoleArn, disableSessionTags or policy.",
        )
        .with_cluster(&cluster.name));
    }
    if request.role_arn.is_some() {
        check_role(roles, settings, cluster, &role_arn)?;
    }
    if let Some(target) = target_role_arn.as_deref().filter(|_| request.target_role_arn.is_some()) {
        check_target_role(cluster, target)?;
    }
    if request.policy.is_some() || request.disable_session_tags.is_some() {
        check_policy(cluster, policy.as_deref(), disable_session_tags)?;
    }

    let external_id = (disable_session_tags != current.disable_session_tags)
        .then(|| cluster.external_id(&current.namespace, &current.service_account, disable_session_tags));
    let before = current.clone();
    let now = now_epoch_seconds();
    cluster.propagate(
        &association_id,
        Some(before),
        now,
        settings.association_propagation_seconds,
    );
    let association = cluster
        .association_mut(&association_id)
        .ok_or_else(|| ApiError::association_not_found(&cluster_name, &association_id))?;
    if let Some(external_id) = external_id {
        association.external_id = external_id;
    }
    association.role_arn = role_arn;
    association.disable_session_tags = disable_session_tags;
    association.target_role_arn = target_role_arn;
    association.policy = policy;
    association.modified_at = now.max(association.created_at);
    if let Some(token) = token {
        cluster.remember_update_token(association_id.clone(), token, fingerprint);
    }
    let association = cluster.association(&association_id).expect("updated just now");
    tracing::debug!(cluster = %cluster_name, id = %association_id, "association updated");
    Ok(respond(association))
}

pub(super) async fn delete(
    State(store): State<Arc<Store>>,
    Extension(context): Extension<RequestContext>,
    PathParams((cluster_name, association_id)): PathParams<(String, String)>,
) -> Result<Response, ApiError> {
    validate::association_id(&association_id)?;
    let mut guard = store.state();
    let scope = allow_on_association(
        &guard,
        &context,
        "eks:DeletePodIdentityAssociation",
        &cluster_name,
        &association_id,
    )?;
    let cluster = own_cluster(&mut guard.clusters, &scope, &cluster_name)?;
    if let Some(owned) = cluster.association(&association_id) {
        super::owned::refuse_owned(owned)?;
    }
    let association = cluster
        .remove(&association_id)
        .ok_or_else(|| ApiError::association_not_found(&cluster_name, &association_id))?;
    tracing::debug!(cluster = %cluster_name, id = %association_id, "association deleted");
    Ok(respond(&association))
}

pub(super) async fn list(
    State(store): State<Arc<Store>>,
    Extension(context): Extension<RequestContext>,
    PathParams(cluster_name): PathParams<String>,
    query: QueryPairs,
) -> Result<Response, ApiError> {
    let max_results = paging::max_results(&query).map_err(|e| e.with_cluster(&cluster_name))?;
    let filter = ListFilter {
        namespace: query.get("namespace").map(str::to_owned),
        service_account: query.get("serviceAccount").map(str::to_owned),
    };
    let mut guard = store.state();
    let scope = scope_for(&guard, &context, &cluster_name);
    allow(
        &guard,
        &context,
        &Ask::new("eks:ListPodIdentityAssociations", scope.cluster_arn(&cluster_name)),
    )?;
    let cluster = own_cluster(&mut guard.clusters, &scope, &cluster_name)?;
    let after = match query.get("nextToken") {
        None => None,
        Some(token) => Some(
            paging::decode_token(&cluster.name, token)
                .and_then(|position| position.parse().ok())
                .ok_or_else(|| {
                    ApiError::invalid_parameter("The nextToken provided is invalid.").with_cluster(&cluster_name)
                })?,
        ),
    };
    let (page, next) = cluster.page(&filter, after, max_results);
    let output = ListAssociationsOutput {
        associations: page.into_iter().map(AssociationSummary::from).collect(),
        next_token: next.map(|seq| paging::encode_token(&cluster.name, &seq.to_string())),
    };
    Ok(Json(output).into_response())
}
