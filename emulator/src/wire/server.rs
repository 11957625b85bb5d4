//! The accept loop: HTTP/1.1 on loopback, one task per connection, within [`ConnectionLimits`].
//!
//! Each request carries a [`ConnectionKill`] for its connection, so that a fault can close the
//! connection without an answer. A connection whose request head comes too slowly, or that waits too
//! long for its next request, is closed; at most `max_connections` are open at once (the next ones wait
//! in the kernel's backlog). Shutdown stops accepting and closes every open connection.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, watch};
use tower::ServiceExt;
use tracing::debug;

use crate::connection_limits::ConnectionLimits;

/// Closes the connection a request came on, without an answer.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionKill(Arc<Notify>);

impl ConnectionKill {
    pub(crate) fn kill(&self) {
        self.0.notify_one();
    }
}

/// Serves `router` on `listener` within `limits` until `shutdown` turns true or its sender is dropped.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    mut shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let timeouts = Timeouts::new(&limits);
    loop {
        // A free slot first: at the cap, connections queue in the backlog rather than take descriptors.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot,
            _ = shutdown.wait_for(|stop| *stop) => break,
        };
        let Ok(slot) = slot else { break };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.wait_for(|stop| *stop) => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                debug!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let mut shutdown = shutdown.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let notify = Arc::new(Notify::new());
            let kill = ConnectionKill(notify.clone());
            let activity = Arc::new(Activity::new());
            let requests = activity.clone();
            let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(kill.clone());
                let in_flight = InFlight::start(requests.clone());
                let answer = router.clone().oneshot(request.map(Body::new));
                async move {
                    let response = answer.await;
                    drop(in_flight);
                    response
                }
            });
            let io = TokioIo::new(Watched {
                stream,
                activity: activity.clone(),
            });
            let connection = http1::Builder::new().serve_connection(io, service);
            tokio::select! {
                result = connection => {
                    if let Err(error) = result {
                        debug!(%peer, %error, "connection ended with an error");
                    }
                }
                reason = timeouts.expiry(&activity) => debug!(%peer, reason, "connection closed"),
                _ = notify.notified() => debug!(%peer, "connection dropped by an injected fault"),
                _ = shutdown.wait_for(|stop| *stop) => debug!(%peer, "connection closed by shutdown"),
            }
        });
    }
    debug!("stopped accepting connections");
}

/// What a connection is doing, as its timeouts see it.
const AWAITING_REQUEST: u8 = 0;
const READING_HEAD: u8 = 1;
const ANSWERING: u8 = 2;

/// A connection's phase and when it began (milliseconds since the connection opened), shared by its reads, its
/// requests and its watchdog.
struct Activity {
    opened: Instant,
    phase: AtomicU8,
    since_ms: AtomicU64,
    in_flight: AtomicUsize,
}

impl Activity {
    fn new() -> Self {
        Self {
            opened: Instant::now(),
            phase: AtomicU8::new(AWAITING_REQUEST),
            since_ms: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn enter(&self, phase: u8) {
        self.since_ms.store(self.now_ms(), Ordering::Relaxed);
        self.phase.store(phase, Ordering::Release);
    }

    /// Bytes came in: the first of a request starts its head's clock.
    fn received(&self) {
        if self.phase.load(Ordering::Acquire) == AWAITING_REQUEST {
            self.enter(READING_HEAD);
        }
    }
}

/// A request being answered: the connection is busy until it is dropped.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn start(activity: Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        activity.enter(ANSWERING);
        Self(activity)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.enter(AWAITING_REQUEST);
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Timeouts {
    header_read_ms: u64,
    idle_ms: u64,
    /// How often the watchdog looks: a quarter of the shorter timeout, within 5 ms and 1 s.
    check_every: Duration,
}

impl Timeouts {
    fn new(limits: &ConnectionLimits) -> Self {
        let header_read = limits.header_read_timeout();
        let idle = limits.idle_timeout();
        let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Self {
            header_read_ms: millis(header_read),
            idle_ms: millis(idle),
            check_every: (header_read.min(idle) / 4).clamp(Duration::from_millis(5), Duration::from_secs(1)),
        }
    }

    /// Resolves, with the reason, once the connection has overrun a timeout; never while a request is answered.
    async fn expiry(self, activity: &Activity) -> &'static str {
        let mut ticks = tokio::time::interval(self.check_every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            // The phase first: its Acquire makes the matching start time visible.
            let phase = activity.phase.load(Ordering::Acquire);
            let waited = activity
                .now_ms()
                .saturating_sub(activity.since_ms.load(Ordering::Relaxed));
            match phase {
                AWAITING_REQUEST if waited >= self.idle_ms => return "idle timeout",
                READING_HEAD if waited >= self.header_read_ms => return "header read timeout",
                _ => {}
            }
        }
    }
}

/// The connection's stream, noting when bytes arrive.
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.received();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
