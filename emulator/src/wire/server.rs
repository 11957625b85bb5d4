//! The accept loop: HTTP/1.1 on loopback, one task per connection.
//!
//! Each request carries a [`ConnectionKill`] for its connection, so that a fault can close the
//! connection without an answer. Shutdown stops accepting and closes every open connection.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tower::ServiceExt;
use tracing::debug;

/// Closes the connection a request came on, without an answer.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionKill(Arc<Notify>);

impl ConnectionKill {
    pub(crate) fn kill(&self) {
        self.0.notify_one();
    }
}

/// Serves `router` on `listener` until `shutdown` turns true or its sender is dropped.
pub(crate) async fn serve(listener: TcpListener, router: Router, mut shutdown: watch::Receiver<bool>) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.wait_for(|stop| *stop) => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                debug!(%error, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let mut shutdown = shutdown.clone();
        tokio::spawn(async move {
            let notify = Arc::new(Notify::new());
            let kill = ConnectionKill(notify.clone());
            let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(kill.clone());
                router.clone().oneshot(request.map(Body::new))
            });
            let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                result = connection => {
                    if let Err(error) = result {
                        debug!(%peer, %error, "connection ended with an error");
                    }
                }
                _ = notify.notified() => debug!(%peer, "connection dropped by an injected fault"),
                _ = shutdown.wait_for(|stop| *stop) => debug!(%peer, "connection closed by shutdown"),
            }
        });
    }
    debug!("emulator stopped accepting connections");
}
