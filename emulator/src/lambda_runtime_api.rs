//! The Lambda Runtime API (`/2018-06-01/runtime/...`) as the Lambda service offers it to a custom runtime, so that
//! the real `bootstrap` binary can be run, invoked and measured on one machine.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};

/// What the function answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvocationOutcome {
    /// `POST .../response`: the function's result.
    Response(Bytes),
    /// `POST .../error`: the function reported an error (a "Lambda error", which CloudFormation must never see).
    Error(Bytes),
}

struct Pending {
    request_id: String,
    payload: Bytes,
    deadline: Duration,
}

struct RuntimeState {
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<Pending>>,
    waiting: Mutex<HashMap<String, oneshot::Sender<InvocationOutcome>>>,
    init_errors: Mutex<Vec<Bytes>>,
}

/// A running Runtime API. Point a runtime at it with `AWS_LAMBDA_RUNTIME_API=<address()>`.
pub struct LambdaRuntimeApi {
    addr: SocketAddr,
    state: Arc<RuntimeState>,
    sender: mpsc::UnboundedSender<Pending>,
    next_id: AtomicU64,
    shutdown: watch::Sender<bool>,
}

impl LambdaRuntimeApi {
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await?;
        let addr = listener.local_addr()?;
        let (sender, receiver) = mpsc::unbounded_channel();
        let state = Arc::new(RuntimeState {
            queue: tokio::sync::Mutex::new(receiver),
            waiting: Mutex::new(HashMap::new()),
            init_errors: Mutex::new(Vec::new()),
        });
        let router = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(respond))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(fail))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(Arc::clone(&state));
        let (shutdown, mut stopped) = watch::channel(false);
        tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stopped.wait_for(|stop| *stop).await;
                })
                .await;
        });
        Ok(Self {
            addr,
            state,
            sender,
            next_id: AtomicU64::new(1),
            shutdown,
        })
    }

    /// `host:port`, the form `AWS_LAMBDA_RUNTIME_API` takes.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// The environment Lambda gives a function's process (`provided.al2023`), pointing it at this Runtime API.
    pub fn function_environment(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_LAMBDA_RUNTIME_API", self.address()),
            ("AWS_LAMBDA_FUNCTION_NAME", "TypeFunction".to_owned()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".to_owned()),
            ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/TypeFunction".to_owned()),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "local".to_owned()),
        ]
    }

    /// Queues one invocation and waits for the function's answer.
    pub async fn invoke(&self, payload: impl Into<Bytes>) -> Option<InvocationOutcome> {
        let request_id = format!(
            "00000000-0000-4000-8000-{:012}",
            self.next_id.fetch_add(1, Ordering::Relaxed)
        );
        let (answer, outcome) = oneshot::channel();
        lock(&self.state.waiting).insert(request_id.clone(), answer);
        let pending = Pending {
            request_id,
            payload: payload.into(),
            deadline: Duration::from_secs(120),
        };
        self.sender.send(pending).ok()?;
        outcome.await.ok()
    }

    /// Errors the runtime reported while starting.
    pub fn init_errors(&self) -> Vec<Bytes> {
        lock(&self.state.init_errors).clone()
    }

    pub fn shutdown(&self) {
        let _ = self.shutdown.send(true);
    }
}

impl Drop for LambdaRuntimeApi {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Long-polls for the next invocation, as the real Runtime API does.
async fn next(State(state): State<Arc<RuntimeState>>) -> Response {
    let Some(pending) = state.queue.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    let deadline_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .saturating_add(pending.deadline)
        .as_millis();
    let mut headers = HeaderMap::new();
    let mut header = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    header("lambda-runtime-aws-request-id", pending.request_id);
    header("lambda-runtime-deadline-ms", deadline_ms.to_string());
    header(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:us-east-1:111122223333:function:TypeFunction".into(),
    );
    header(
        "lambda-runtime-trace-id",
        "Root=1-00000000-000000000000000000000000;Sampled=0".into(),
    );
    header("content-type", "application/json".into());
    (StatusCode::OK, headers, pending.payload).into_response()
}

async fn respond(State(state): State<Arc<RuntimeState>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    finish(&state, &id, InvocationOutcome::Response(body))
}

async fn fail(State(state): State<Arc<RuntimeState>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    finish(&state, &id, InvocationOutcome::Error(body))
}

fn finish(state: &RuntimeState, id: &str, outcome: InvocationOutcome) -> StatusCode {
    match lock(&state.waiting).remove(id) {
        Some(answer) => {
            let _ = answer.send(outcome);
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

async fn init_error(State(state): State<Arc<RuntimeState>>, body: Bytes) -> StatusCode {
    lock(&state.init_errors).push(body);
    StatusCode::ACCEPTED
}
