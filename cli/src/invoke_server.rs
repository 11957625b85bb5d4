//! A local stand-in for the Lambda Invoke API: `POST /2015-03-31/functions/{name}/invocations`, answered with the
//! provider's own dispatch, so that `cfn test` and boto3's Lambda client need no SAM and no Docker.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::routing::post;
use axum::{Json, Router};
use pia_handlers::ProgressEvent;
use tokio::net::TcpListener;

use pia_provider::Provider;

/// Lambda's own limit for a synchronous invocation payload.
pub const MAX_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;

pub fn router(provider: Arc<Provider>) -> Router {
    Router::new()
        .route("/2015-03-31/functions/{function}/invocations", post(invoke))
        .layer(DefaultBodyLimit::max(MAX_PAYLOAD_BYTES))
        .with_state(provider)
}

async fn invoke(
    State(provider): State<Arc<Provider>>,
    Path(_function): Path<String>,
    body: Bytes,
) -> Json<ProgressEvent> {
    Json(provider.invoke(&body).await)
}

/// Binds the server; returns its address and the future that serves it.
pub async fn bind(
    provider: Arc<Provider>,
    address: SocketAddr,
) -> std::io::Result<(SocketAddr, impl std::future::Future<Output = std::io::Result<()>>)> {
    let listener = TcpListener::bind(address).await?;
    let bound = listener.local_addr()?;
    Ok((bound, async move { axum::serve(listener, router(provider)).await }))
}
