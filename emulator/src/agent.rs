//! The EKS Pod Identity Agent: the HTTP server that pods' AWS SDKs call for credentials
//! (`AWS_CONTAINER_CREDENTIALS_FULL_URI`), on 127.0.0.1 and a port of its own.
//!
//! `GET /v1/credentials` with the header `Authorization: <service-account token>` (the contents of
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`): the agent calls EKS Auth `AssumeRoleForPodIdentity` for its
//! cluster through the real `aws-sdk-eksauth` client (endpoint: the emulator; signed with the node's key,
//! by default the config's [`crate::config::NODE_ACCESS_KEY_ID`]), caches the answer per token until
//! five minutes (at most half the lifetime) before the credentials expire, and answers as the container
//! credentials provider expects:
//! `{"AccessKeyId", "SecretAccessKey", "Token", "AccountId", "Expiration"}` (Expiration in RFC 3339).
//!
//! Errors are JSON `{"message", "code"}`: a missing or empty token, or one that is not a JWT → 400
//! (`code` `InvalidRequest`); an EKS Auth error → its status (4xx for the token's or the association's
//! faults, 429, 5xx) with EKS Auth's error code and message; EKS Auth unreachable or answering nonsense →
//! 500 (`code` `UpstreamFailure`).
//!
//! Also on the same port: `GET /healthz` (200 `ok`) and the pod identity webhook
//! (`POST /webhook/mutate`, see [`crate::webhook`]) for the agent's cluster.
//!
//! Tokens and credentials are never logged.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use pia_emulator::{Emulator, EmulatorConfig, agent::AgentConfig, tokens::TokenRequest};
//! let emulator = Emulator::start(EmulatorConfig::default()).await?;
//! let agent = emulator.start_agent(AgentConfig::default()).await?;
//! let token_file = std::path::Path::new("/tmp/eks-pod-identity-token");
//! emulator.write_token_file(&TokenRequest::new("demo", "default", "my-sa", "pod-1"), token_file)?;
//! // In the pod's environment:
//! //   AWS_CONTAINER_CREDENTIALS_FULL_URI = agent.credentials_uri()
//! //   AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE = /tmp/eks-pod-identity-token
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_sdk_eksauth::config::retry::RetryConfig;
use aws_sdk_eksauth::config::timeout::TimeoutConfig;
use aws_sdk_eksauth::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_eksauth::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_types::date_time::Format;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::debug;

use crate::config::{NODE_ACCESS_KEY_ID, NODE_SECRET_ACCESS_KEY};
use crate::emulator::{Emulator, EmulatorError};
use crate::webhook;
use crate::wire::server::serve;
use crate::world::store::Store;

/// The credentials path, as on the real agent.
const CREDENTIALS_PATH: &str = "/v1/credentials";
const HEALTH_PATH: &str = "/healthz";
const WEBHOOK_PATH: &str = "/webhook/mutate";
/// Cached credentials are fetched anew this long before they expire (at most half their lifetime).
const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(300);

/// How to run an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// The cluster the agent serves; `None`: the first cluster by name.
    pub cluster: Option<String>,
    /// The node's key that signs EKS Auth requests (the node role's, standing in).
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    /// EKS Auth's endpoint; `None`: the emulator's.
    pub eks_auth_endpoint: Option<String>,
    /// The SDK's attempts per EKS Auth call (standard retry mode: throttling and 5xx are retried).
    pub max_attempts: u32,
    /// The SDK's first retry back-off.
    pub initial_backoff: Duration,
    /// Tokens whose credentials are cached at most.
    pub max_cache_entries: usize,
}

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            port: 0,
            cluster: None,
            access_key_id: NODE_ACCESS_KEY_ID.to_owned(),
            secret_access_key: NODE_SECRET_ACCESS_KEY.to_owned(),
            session_token: None,
            eks_auth_endpoint: None,
            max_attempts: 3,
            initial_backoff: Duration::from_millis(100),
            max_cache_entries: 10_000,
        }
    }
}

/// A running agent. Cheap to clone; it stops on [`Agent::shutdown`] or when the last handle is dropped.
#[derive(Clone)]
pub struct Agent {
    inner: Arc<AgentInner>,
}

struct AgentInner {
    addr: SocketAddr,
    service: Arc<AgentService>,
    shutdown: watch::Sender<bool>,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent")
            .field("addr", &self.inner.addr)
            .field("cluster", &self.inner.service.cluster)
            .finish_non_exhaustive()
    }
}

struct AgentService {
    cluster: String,
    client: aws_sdk_eksauth::Client,
    cache: Mutex<HashMap<Vec<u8>, Cached>>,
    max_cache_entries: usize,
    store: Arc<Store>,
}

#[derive(Clone)]
struct Cached {
    /// The answer as sent: a hit costs a reference count, not a serialization.
    body: Bytes,
    refresh_at: SystemTime,
    expiration: SystemTime,
}

impl Agent {
    /// Starts an agent for one of the emulator's clusters.
    pub async fn start(emulator: &Emulator, config: AgentConfig) -> Result<Agent, EmulatorError> {
        let store = emulator.store().clone();
        let (cluster, region) = {
            let state = store.state();
            let cluster = match &config.cluster {
                Some(name) => state.clusters.get(name),
                None => state.clusters.values().next(),
            }
            .ok_or_else(|| {
                EmulatorError::InvalidConfig(match &config.cluster {
                    Some(name) => format!("agent: no cluster named {name:?}"),
                    None => "agent: the emulator has no cluster".to_owned(),
                })
            })?;
            (cluster.name.clone(), cluster.region.clone())
        };
        let endpoint = config.eks_auth_endpoint.clone().unwrap_or_else(|| emulator.endpoint());
        let sdk_config = aws_sdk_eksauth::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region))
            .endpoint_url(endpoint)
            .credentials_provider(Credentials::new(
                &config.access_key_id,
                &config.secret_access_key,
                config.session_token.clone(),
                None,
                "pia-agent-node",
            ))
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(config.max_attempts.max(1))
                    .with_initial_backoff(config.initial_backoff),
            )
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(2))
                    .operation_timeout(Duration::from_secs(30))
                    .build(),
            )
            .build();
        let service = Arc::new(AgentService {
            cluster,
            client: aws_sdk_eksauth::Client::from_conf(sdk_config),
            cache: Mutex::new(HashMap::new()),
            max_cache_entries: config.max_cache_entries.max(1),
            store,
        });

        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, config.port));
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| EmulatorError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind { addr, source })?;
        let router = Router::new()
            .route(CREDENTIALS_PATH, get(credentials))
            .route(HEALTH_PATH, get(health))
            .route(WEBHOOK_PATH, post(webhook))
            .with_state(service.clone());
        let (shutdown, stop) = watch::channel(false);
        tokio::spawn(serve(listener, router, stop));
        debug!(%addr, cluster = %service.cluster, "pod identity agent listening");
        Ok(Agent {
            inner: Arc::new(AgentInner {
                addr,
                service,
                shutdown,
            }),
        })
    }

    /// `http://127.0.0.1:PORT/v1/credentials`: the pod's `AWS_CONTAINER_CREDENTIALS_FULL_URI`.
    pub fn credentials_uri(&self) -> String {
        format!("http://{}{CREDENTIALS_PATH}", self.inner.addr)
    }

    /// `http://127.0.0.1:PORT/healthz`.
    pub fn health_uri(&self) -> String {
        format!("http://{}{HEALTH_PATH}", self.inner.addr)
    }

    /// `http://127.0.0.1:PORT/webhook/mutate`: the pod identity webhook (AdmissionReview JSON).
    pub fn webhook_uri(&self) -> String {
        format!("http://{}{WEBHOOK_PATH}", self.inner.addr)
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// The cluster the agent serves.
    pub fn cluster(&self) -> &str {
        &self.inner.service.cluster
    }

    /// Tokens whose credentials are cached.
    pub fn cached_tokens(&self) -> usize {
        self.inner.service.lock_cache().len()
    }

    /// Forgets every cached credential.
    pub fn clear_cache(&self) {
        self.inner.service.lock_cache().clear();
    }

    /// Stops accepting connections and closes the open ones. Idempotent.
    pub fn shutdown(&self) {
        self.inner.shutdown.send_replace(true);
    }
}

impl Emulator {
    /// Starts a Pod Identity Agent for one of this emulator's clusters ([`Agent::start`]).
    pub async fn start_agent(&self, config: AgentConfig) -> Result<Agent, EmulatorError> {
        Agent::start(self, config).await
    }
}

impl AgentService {
    fn lock_cache(&self) -> std::sync::MutexGuard<'_, HashMap<Vec<u8>, Cached>> {
        self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn cached(&self, key: &[u8], now: SystemTime) -> Option<Bytes> {
        let cache = self.lock_cache();
        cache
            .get(key)
            .filter(|entry| now < entry.refresh_at)
            .map(|entry| entry.body.clone())
    }

    fn remember(&self, key: Vec<u8>, entry: Cached, now: SystemTime) {
        let mut cache = self.lock_cache();
        if cache.len() >= self.max_cache_entries {
            cache.retain(|_, entry| entry.expiration > now);
        }
        while cache.len() >= self.max_cache_entries {
            let Some(oldest) = cache
                .iter()
                .min_by_key(|(_, entry)| entry.refresh_at)
                .map(|(key, _)| key.clone())
            else {
                break;
            };
            cache.remove(&oldest);
        }
        cache.insert(key, entry);
    }
}

fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"code": code, "message": message.into()}).to_string(),
    )
        .into_response()
}

/// Whether the token is a JWT at all (the real agent refuses what it cannot parse before calling EKS
/// Auth). Its validity is EKS Auth's to judge.
fn looks_like_a_jwt(token: &str) -> Result<(), &'static str> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err("token contains an invalid number of segments");
    }
    for part in &parts[..2] {
        let bytes = URL_SAFE_NO_PAD
            .decode(part.trim_end_matches('='))
            .map_err(|_| "could not base64 decode a segment")?;
        serde_json::from_slice::<Value>(&bytes).map_err(|_| "a segment is not JSON")?;
    }
    Ok(())
}

async fn credentials(State(service): State<Arc<AgentService>>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .unwrap_or("");
    if token.is_empty() {
        debug!(cluster = %service.cluster, "credentials request without a token");
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidRequest",
            "Service account token cannot be empty",
        );
    }
    // The cache first: a token found there passed the shape check when it was cached.
    let key = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes())
        .as_ref()
        .to_vec();
    let now = SystemTime::now();
    if let Some(body) = service.cached(&key, now) {
        debug!(cluster = %service.cluster, "credentials from the cache");
        return json_response(body);
    }
    if let Err(reason) = looks_like_a_jwt(token) {
        debug!(cluster = %service.cluster, reason, "credentials request with an unparsable token");
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidRequest",
            format!("Service account token cannot be parsed: {reason}"),
        );
    }

    debug!(cluster = %service.cluster, "calling EKS Auth");
    let result = service
        .client
        .assume_role_for_pod_identity()
        .cluster_name(&service.cluster)
        .token(token)
        .send()
        .await;
    let output = match result {
        Ok(output) => output,
        Err(SdkError::ServiceError(failure)) => {
            let status = failure.raw().status().as_u16();
            let code = failure.err().code().unwrap_or("Unknown").to_owned();
            let message = failure.err().message().unwrap_or("").to_owned();
            debug!(cluster = %service.cluster, status, code, "EKS Auth refused");
            let status = StatusCode::from_u16(status)
                .ok()
                .filter(|s| s.is_client_error() || s.is_server_error())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return error(status, &code, format!("({code}): {message}"));
        }
        Err(other) => {
            let kind = match &other {
                SdkError::TimeoutError(_) => "timeout",
                SdkError::DispatchFailure(_) => "dispatch failure",
                SdkError::ResponseError(_) => "unreadable response",
                _ => "request failure",
            };
            debug!(cluster = %service.cluster, kind, "EKS Auth call failed");
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "UpstreamFailure",
                format!("Unable to fetch credentials from EKS Auth: {kind}"),
            );
        }
    };
    let (Some(credentials), Some(user)) = (output.credentials(), output.assumed_role_user()) else {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "UpstreamFailure",
            "EKS Auth answered without credentials",
        );
    };
    let expiration = SystemTime::try_from(*credentials.expiration()).unwrap_or(now);
    let body = json!({
        "AccessKeyId": credentials.access_key_id(),
        "SecretAccessKey": credentials.secret_access_key(),
        "Token": credentials.session_token(),
        "AccountId": pia_core::arn::ArnParts::split(user.arn()).map_or("", |parts| parts.account),
        "Expiration": credentials
            .expiration()
            .fmt(Format::DateTime)
            .unwrap_or_default(),
    });
    let body = Bytes::from(body.to_string());
    let lifetime = expiration.duration_since(now).unwrap_or_default();
    let refresh_at = expiration
        .checked_sub(REFRESH_BEFORE_EXPIRY.min(lifetime / 2))
        .unwrap_or(now);
    service.remember(
        key,
        Cached {
            body: body.clone(),
            refresh_at,
            expiration,
        },
        now,
    );
    debug!(cluster = %service.cluster, "credentials issued");
    json_response(body)
}

fn json_response(body: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn health() -> &'static str {
    "ok"
}

async fn webhook(State(service): State<Arc<AgentService>>, body: Bytes) -> Response {
    let review: Value = match serde_json::from_slice(&body) {
        Ok(review) => review,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "InvalidRequest",
                format!("the body is not an AdmissionReview: {e}"),
            );
        }
    };
    axum::Json(webhook::review(&service.store, &service.cluster, &review)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwt_shape_check() {
        assert!(looks_like_a_jwt("a.b").is_err());
        assert!(looks_like_a_jwt("!!.e30.x").is_err());
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#);
        let claims = URL_SAFE_NO_PAD.encode(br#"{"sub":"x"}"#);
        assert!(looks_like_a_jwt(&format!("{header}.{claims}.sig")).is_ok());
    }
}
