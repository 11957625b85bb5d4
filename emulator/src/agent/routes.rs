//! What the agent's credentials port serves: `/v1/credentials` (any method, as the real agent's), the pod identity
//! webhook for the agent's cluster, and Go's 404 for anything else (which the probes expect at `/`).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use serde_json::Value;

use super::credentials::credentials;
use super::error::AgentError;
use super::service::AgentService;
use crate::webhook;

/// The credentials path, as on the real agent.
pub(crate) const CREDENTIALS_PATH: &str = "/v1/credentials";
pub(crate) const WEBHOOK_PATH: &str = "/webhook/mutate";

pub(crate) fn router(agent: Arc<AgentService>) -> Router {
    Router::new()
        .route(CREDENTIALS_PATH, any(credentials))
        .route(WEBHOOK_PATH, post(mutate))
        .fallback(not_found)
        .with_state(agent)
}

pub(crate) async fn not_found() -> AgentError {
    AgentError::NotFound
}

async fn mutate(State(agent): State<Arc<AgentService>>, body: Bytes) -> Response {
    match serde_json::from_slice::<Value>(&body) {
        Ok(review) => axum::Json(webhook::review(&agent.store, agent.cluster(), &review)).into_response(),
        Err(error) => AgentError::NotAdmissionReview(error.to_string()).into_response(),
    }
}
