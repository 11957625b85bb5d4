//! `/v1/credentials`, any method, as the real agent answers it: the rate limit, the Host check, the token's own
//! checks, then the cache or EKS Auth. A cache hit checks the token's times and the credentials' expiry, and sends
//! the stored bytes.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use tracing::debug;

use super::cache::{Cached, renewal_time};
use super::error::AgentError;
use super::service::AgentService;
use super::token;

pub(crate) async fn credentials(State(agent): State<Arc<AgentService>>, request: Request) -> Response {
    // The head alone: the body is neither read nor held across the EKS Auth call.
    let (head, _) = request.into_parts();
    match answer(&agent, &head).await {
        Ok(body) => {
            agent.metrics.answered_ok();
            (
                [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
                body,
            )
                .into_response()
        }
        Err(error) => {
            debug!(cluster = %agent.cluster(), status = error.status().as_u16(), "credentials refused");
            agent.metrics.answered(error.status().as_u16());
            error.into_response()
        }
    }
}

async fn answer(agent: &AgentService, request: &Parts) -> Result<Bytes, AgentError> {
    if agent.limiter.check().is_err() {
        return Err(AgentError::RateLimited);
    }
    agent.hosts.check(&request.uri, &request.headers)?;
    let token = request
        .headers
        .get(header::AUTHORIZATION)
        .map_or(Cow::Borrowed(""), |value| String::from_utf8_lossy(value.as_bytes()));
    let token = token.trim();
    if token.is_empty() {
        return Err(AgentError::EmptyToken);
    }
    let now = SystemTime::now();
    if let Some(entry) = agent.cache.get(token) {
        entry.token.check(now)?;
        if entry.usable(now) {
            agent.metrics.cache_hit();
            return Ok(entry.body);
        }
        agent.cache.remove(token);
    }
    let validity = token::inspect(token, now)?;
    if !agent.cache.enabled() {
        return Ok(agent.fetch(token).await?.body);
    }
    agent.metrics.cache("miss", 1);
    debug!(cluster = %agent.cluster(), "calling EKS Auth");
    let fetched = agent.fetch(token).await?;
    let entry = Cached {
        body: fetched.body,
        expiration: fetched.expiration,
        renew_at: renewal_time(now, fetched.expiration, agent.max_retention),
        token: validity,
    };
    if !entry.usable(now) {
        let left = fetched.expiration.duration_since(now).unwrap_or_default();
        return Err(AgentError::ShortLived(left.as_secs_f64()));
    }
    let body = entry.body.clone();
    if agent.cache.put(token, entry) {
        agent.metrics.cache("evicted", 1);
    }
    debug!(cluster = %agent.cluster(), "credentials issued");
    Ok(body)
}
