//! One invocation, from raw payload to ProgressEvent: decode and validate, run the handler, report.
//! Shared by the Lambda, the local invoke server and the CLI.

use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::panic::AssertUnwindSafe;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use futures_util::FutureExt;
use pia_handlers::{Action, HandlerErrorCode, Pacing, ProgressEvent, handle};
use tracing::{info, warn};

use crate::eks_client::{self, SdkEks};
use crate::protocol::{CallerCredentials, Invocation, ProtocolError, SchemaCheck, decode};
use crate::schema::ModelValidator;

/// How long a handler may run in all: inside the Lambda timeouts CloudFormation applies (60 s for Read and List,
/// 120 s for the others), so that a hung endpoint answers NetworkFailure rather than a Lambda timeout.
fn deadline(action: Action) -> Duration {
    match action {
        Action::Read | Action::List => Duration::from_secs(50),
        Action::Create | Action::Update | Action::Delete => Duration::from_secs(100),
    }
}

/// Runs a handler so that a bug (a panic) becomes InternalFailure rather than a lost invocation, and a hung EKS
/// becomes NetworkFailure before the Lambda's own timeout. The handler is polled in place, not spawned: one task
/// less per invocation, and on the deadline it is dropped, EKS calls and all, not left running into the next.
async fn guarded(action: Action, deadline: Duration, handler: impl Future<Output = ProgressEvent>) -> ProgressEvent {
    match tokio::time::timeout(deadline, AssertUnwindSafe(handler).catch_unwind()).await {
        Ok(Ok(event)) => event,
        Ok(Err(panic)) => {
            let reason = panic
                .downcast_ref::<&str>()
                .map(|reason| (*reason).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".to_owned());
            ProgressEvent::failed(
                HandlerErrorCode::InternalFailure,
                format!("the {} handler failed unexpectedly: {reason}", action.as_str()),
            )
        }
        Err(_) => ProgressEvent::failed(
            HandlerErrorCode::NetworkFailure,
            format!(
                "EKS did not complete the {} within {} s",
                action.as_str(),
                deadline.as_secs()
            ),
        ),
    }
}

/// Clients kept warm: a CloudFormation operation calls again and again with the same caller credentials, and a
/// client's first call costs several times a warm one (connection, identity, endpoint resolution).
const WARM_CLIENTS: usize = 8;

pub struct Provider {
    base: SdkConfig,
    validator: ModelValidator,
    pacing: Pacing,
    /// Most recently used first; keyed by everything the client was built from.
    clients: Mutex<VecDeque<(ClientKey, SdkEks)>>,
}

struct ClientKey {
    region: Option<String>,
    credentials: CallerCredentials<'static>,
}

impl Provider {
    pub fn new(base: SdkConfig) -> Arc<Self> {
        Self::with_pacing(base, Pacing::default())
    }

    /// A provider whose creates space their attempts as given (tests against an emulator that recovers at once).
    pub fn with_pacing(base: SdkConfig, pacing: Pacing) -> Arc<Self> {
        Arc::new(Self {
            base,
            validator: ModelValidator::new(),
            pacing,
            clients: Mutex::new(VecDeque::with_capacity(WARM_CLIENTS)),
        })
    }

    /// The provider configured from the environment (endpoint overrides included).
    pub async fn from_env() -> Arc<Self> {
        Self::new(eks_client::base_config().await)
    }

    /// Answers one raw request. Never panics outward and never fails: every problem is a FAILED event.
    pub async fn invoke(self: &Arc<Self>, payload: &[u8]) -> ProgressEvent {
        let started = Instant::now();
        let mut invocation = match decode(payload, &self.validator) {
            Ok(invocation) => invocation,
            Err(error) => return rejected(&error),
        };
        let action = invocation.action;
        let schema_check = invocation.schema_check.take();
        // Boxed: the handler's state machine is deep, and one allocation is cheaper than a task.
        let handler = guarded(action, deadline(action), Box::pin(self.run(invocation)));
        let event = match schema_check {
            None => handler.await,
            Some(check) => match self.checking_while_reading(handler, check).await {
                Ok(event) => event,
                Err(error) => return rejected(&error),
            },
        };
        info!(
            action = action.as_str(),
            status = event.status.as_str(),
            error_code = event.error_code.as_ref().map(|code| code.as_str()),
            message = event.message.as_deref(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "handled"
        );
        event
    }

    /// Runs an Update's handler up to its first EKS call, a read, then the desired model's check against the
    /// schema while EKS answers. The handler is polled again only once the model has passed: a model that fails
    /// is refused before anything changes, the read dropped.
    async fn checking_while_reading(
        &self,
        handler: impl Future<Output = ProgressEvent>,
        check: SchemaCheck<'_>,
    ) -> Result<ProgressEvent, ProtocolError> {
        let mut handler = pin!(handler);
        let first = poll_fn(|cx| Poll::Ready(handler.as_mut().poll(cx))).await;
        if first.is_pending() {
            // The connection's own task writes the request: let it, before the check takes the thread.
            tokio::task::yield_now().await;
        }
        check.run(&self.validator)?;
        Ok(match first {
            Poll::Ready(event) => event,
            Poll::Pending => handler.await,
        })
    }

    async fn run(&self, mut invocation: Invocation<'_>) -> ProgressEvent {
        // EKS is called with the caller's credentials only: never with the process's own (in Lambda, the
        // function's role), which would act as somebody else.
        let Some(credentials) = invocation.credentials else {
            return ProgressEvent::failed(
                HandlerErrorCode::InvalidCredentials,
                "the request carries no callerCredentials: the provider calls EKS with the caller's credentials only",
            );
        };
        if invocation.request.scope.region.is_none() {
            invocation.request.scope.region = self.base.region().map(|region| region.to_string());
        }
        let eks = self.client(invocation.request.scope.region.as_deref(), credentials);
        handle(&eks, invocation.action, &invocation.request, &self.pacing).await
    }

    /// The EKS client for these credentials and region: a warm one if this process made it recently.
    fn client(&self, region: Option<&str>, credentials: CallerCredentials<'_>) -> SdkEks {
        let mut clients = self.clients.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let warm = clients
            .iter()
            .position(|(cached, _)| cached.region.as_deref() == region && cached.credentials == credentials)
            .and_then(|position| clients.remove(position));
        if let Some((key, client)) = warm {
            clients.push_front((key, client.clone()));
            return client;
        }
        let key = ClientKey {
            region: region.map(str::to_owned),
            credentials: credentials.into_owned(),
        };
        let client = SdkEks::new(&self.base, key.region.as_deref(), &key.credentials);
        clients.truncate(WARM_CLIENTS - 1);
        clients.push_front((key, client.clone()));
        client
    }
}

/// A request that cannot be handled: InvalidRequest, saying why.
fn rejected(error: &ProtocolError) -> ProgressEvent {
    warn!(error = %error, "rejected request");
    ProgressEvent::failed(HandlerErrorCode::InvalidRequest, error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_is_an_internal_failure() {
        let event = guarded(Action::Read, Duration::from_secs(5), async {
            panic!("index out of bounds")
        })
        .await;
        assert_eq!(event.error_code, Some(HandlerErrorCode::InternalFailure));
        assert_eq!(
            event.message.as_deref(),
            Some("the READ handler failed unexpectedly: index out of bounds")
        );
    }

    #[tokio::test]
    async fn a_handler_past_its_deadline_is_a_network_failure_and_is_dropped() {
        struct Dropped(Arc<std::sync::atomic::AtomicBool>);
        impl Drop for Dropped {
            fn drop(&mut self) {
                self.0.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
        let dropped = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let witness = Dropped(Arc::clone(&dropped));
        let hung = async move {
            let _witness = witness;
            std::future::pending::<ProgressEvent>().await
        };
        let event = guarded(Action::Update, Duration::from_millis(20), hung).await;
        assert_eq!(event.error_code, Some(HandlerErrorCode::NetworkFailure));
        assert!(
            dropped.load(std::sync::atomic::Ordering::SeqCst),
            "the hung handler must not keep running"
        );
    }

    #[tokio::test]
    async fn a_handler_that_answers_in_time_is_passed_through() {
        let event = guarded(Action::Delete, Duration::from_secs(5), async {
            ProgressEvent::deleted()
        })
        .await;
        assert_eq!(event, ProgressEvent::deleted());
    }
}
