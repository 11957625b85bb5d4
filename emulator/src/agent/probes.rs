//! The probe port, as the real agent's probe and metrics servers: `/healthz` and `/readyz` ask each credentials
//! address for `/` and expect its 404 (200 when all answer so, 408 when they take over 10 s, 500 otherwise), and
//! `/metrics` is the Prometheus text of [`super::metrics`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::routes::not_found;
use super::service::AgentService;

const PROBE_TIMEOUT: Duration = Duration::from_secs(10);
pub(crate) const HEALTH_PATH: &str = "/healthz";
pub(crate) const READINESS_PATH: &str = "/readyz";
pub(crate) const METRICS_PATH: &str = "/metrics";

struct Probes {
    targets: Vec<SocketAddr>,
    agent: Arc<AgentService>,
}

pub(crate) fn router(targets: Vec<SocketAddr>, agent: Arc<AgentService>) -> Router {
    Router::new()
        .route(HEALTH_PATH, get(probe))
        .route(READINESS_PATH, get(probe))
        .route(METRICS_PATH, get(metrics))
        .fallback(not_found)
        .with_state(Arc::new(Probes { targets, agent }))
}

async fn probe(State(probes): State<Arc<Probes>>) -> Response {
    let all = async {
        for target in &probes.targets {
            answers_not_found(*target).await?;
        }
        Ok::<(), String>(())
    };
    match tokio::time::timeout(PROBE_TIMEOUT, all).await {
        Ok(Ok(())) => StatusCode::OK.into_response(),
        Err(_) => StatusCode::REQUEST_TIMEOUT.into_response(),
        Ok(Err(reason)) => {
            tracing::warn!(%reason, "failed probe");
            (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error occurred").into_response()
        }
    }
}

/// One `GET /` of a credentials address, which must answer 404.
async fn answers_not_found(target: SocketAddr) -> Result<(), String> {
    let stream = TcpStream::connect(target).await.map_err(|e| e.to_string())?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    let request = Request::get("/")
        .header(header::HOST, target.to_string())
        .body(Body::empty())
        .map_err(|e| e.to_string())?;
    let status = sender.send_request(request).await.map_err(|e| e.to_string())?.status();
    if status != StatusCode::NOT_FOUND {
        return Err(format!(
            "unexpected status code received, expected 404, got {}",
            status.as_u16()
        ));
    }
    Ok(())
}

async fn metrics(State(probes): State<Arc<Probes>>) -> Response {
    match probes.agent.metrics.render() {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4"),
            )],
            text,
        )
            .into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}
