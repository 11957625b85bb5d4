//! Create, Describe, Update, Delete and List of Pod Identity associations.
//!
//! Order of checks in each operation: request shape and id length, cluster, association, client
//! request token, parameter rules, roles, uniqueness, quota.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::error::{ApiError, ErrorKind};
use super::extract::{PathParams, QueryPairs, parse_body};
use super::paging;
use super::roles::{check_role, check_target_role};
use super::shapes::{AssociationOutput, CreateAssociationRequest, ListAssociationsOutput, UpdateAssociationRequest};
use super::validate;
use crate::clock::now_epoch_seconds;
use crate::ids::{new_association_id, new_uuid};
use crate::world::eks::{Association, AssociationSummary, Cluster, IdempotencyRecord, ListFilter};
use crate::world::state::State as World;
use crate::world::store::Store;

fn respond(association: &Association) -> Response {
    Json(AssociationOutput { association }).into_response()
}

fn cluster_mut<'a>(clusters: &'a mut BTreeMap<String, Cluster>, name: &str) -> Result<&'a mut Cluster, ApiError> {
    clusters.get_mut(name).ok_or_else(|| ApiError::cluster_not_found(name))
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
    PathParams(cluster_name): PathParams<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: CreateAssociationRequest = parse_body(&body, ErrorKind::InvalidRequest)?;
    let mut guard = store.state();
    let World {
        clusters,
        roles,
        settings,
        ..
    } = &mut *guard;
    let cluster = cluster_mut(clusters, &cluster_name)?;

    let namespace = required(request.namespace, "namespace")?;
    let service_account = required(request.service_account, "serviceAccount")?;
    let role_arn = required(request.role_arn, "roleArn")?;
    let tags = request.tags.unwrap_or_default();
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
        external_id: new_uuid(),
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
    let association = cluster.insert(association);
    tracing::debug!(cluster = %association.cluster_name, id = %association.association_id, "association created");
    Ok(respond(association))
}

pub(super) async fn describe(
    State(store): State<Arc<Store>>,
    PathParams((cluster_name, association_id)): PathParams<(String, String)>,
) -> Result<Response, ApiError> {
    validate::association_id(&association_id)?;
    let mut guard = store.state();
    let cluster = cluster_mut(&mut guard.clusters, &cluster_name)?;
    let association = cluster
        .association(&association_id)
        .ok_or_else(|| ApiError::association_not_found(&cluster_name, &association_id))?;
    Ok(respond(association))
}

pub(super) async fn update(
    State(store): State<Arc<Store>>,
    PathParams((cluster_name, association_id)): PathParams<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    validate::association_id(&association_id)?;
    let request: UpdateAssociationRequest = parse_body(&body, ErrorKind::InvalidRequest)?;
    let mut guard = store.state();
    let World {
        clusters,
        roles,
        settings,
        ..
    } = &mut *guard;
    let cluster = cluster_mut(clusters, &cluster_name)?;
    let current = cluster
        .association(&association_id)
        .ok_or_else(|| ApiError::association_not_found(&cluster_name, &association_id))?;

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

    let association = cluster
        .association_mut(&association_id)
        .ok_or_else(|| ApiError::association_not_found(&cluster_name, &association_id))?;
    association.role_arn = role_arn;
    association.disable_session_tags = disable_session_tags;
    association.target_role_arn = target_role_arn;
    association.policy = policy;
    association.modified_at = now_epoch_seconds().max(association.created_at);
    if let Some(token) = token {
        cluster.remember_update_token(association_id.clone(), token, fingerprint);
    }
    let association = cluster.association(&association_id).expect("updated just now");
    tracing::debug!(cluster = %cluster_name, id = %association_id, "association updated");
    Ok(respond(association))
}

pub(super) async fn delete(
    State(store): State<Arc<Store>>,
    PathParams((cluster_name, association_id)): PathParams<(String, String)>,
) -> Result<Response, ApiError> {
    validate::association_id(&association_id)?;
    let mut guard = store.state();
    let cluster = cluster_mut(&mut guard.clusters, &cluster_name)?;
    let association = cluster
        .remove(&association_id)
        .ok_or_else(|| ApiError::association_not_found(&cluster_name, &association_id))?;
    tracing::debug!(cluster = %cluster_name, id = %association_id, "association deleted");
    Ok(respond(&association))
}

pub(super) async fn list(
    State(store): State<Arc<Store>>,
    PathParams(cluster_name): PathParams<String>,
    query: QueryPairs,
) -> Result<Response, ApiError> {
    let max_results = paging::max_results(&query).map_err(|e| e.with_cluster(&cluster_name))?;
    let filter = ListFilter {
        namespace: query.get("namespace").map(str::to_owned),
        service_account: query.get("serviceAccount").map(str::to_owned),
    };
    let mut guard = store.state();
    let cluster = cluster_mut(&mut guard.clusters, &cluster_name)?;
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
