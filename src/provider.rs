//! One invocation, from raw payload to ProgressEvent: decode and validate, run the handler, report.
//! Shared by the Lambda, the local invoke server and the CLI.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use pia_handlers::{handle, Action, HandlerErrorCode, ProgressEvent};
use tracing::{info, warn};

use crate::eks_client::{self, SdkEks};
use crate::protocol::{decode, CallerCredentials, Invocation};
use crate::schema::ModelValidator;

/// How long a handler may run in all: inside the Lambda timeouts CloudFormation applies (60 s for Read and List,
/// 120 s for the others), so that a hung endpoint answers NetworkFailure rather than a Lambda timeout.
fn deadline(action: Action) -> Duration {
    match action {
        Action::Read | Action::List => Duration::from_secs(50),
        Action::Create | Action::Update | Action::Delete => Duration::from_secs(100),
    }
}

/// Clients kept warm: a CloudFormation operation calls again and again with the same caller credentials, and a
/// client's first call costs several times a warm one (connection, identity, endpoint resolution).
const WARM_CLIENTS: usize = 8;

pub struct Provider {
    base: SdkConfig,
    validator: ModelValidator,
    /// Most recently used first; keyed by everything the client was built from.
    clients: Mutex<VecDeque<(ClientKey, SdkEks)>>,
}

#[derive(PartialEq, Eq)]
struct ClientKey {
    region: Option<String>,
    credentials: Option<CallerCredentials>,
}

impl Provider {
    pub fn new(base: SdkConfig) -> Arc<Self> {
        Arc::new(Self { base, validator: ModelValidator::new(), clients: Mutex::new(VecDeque::with_capacity(WARM_CLIENTS)) })
    }

    /// The provider configured from the environment (endpoint overrides included).
    pub async fn from_env() -> Arc<Self> {
        Self::new(eks_client::base_config().await)
    }

    /// Answers one raw request. Never panics outward and never fails: every problem is a FAILED event.
    pub async fn invoke(self: &Arc<Self>, payload: &[u8]) -> ProgressEvent {
        let started = Instant::now();
        let invocation = match decode(payload, &self.validator) {
            Ok(invocation) => invocation,
            Err(error) => {
                warn!(error = %error, "rejected request");
                return ProgressEvent::failed(HandlerErrorCode::InvalidRequest, error.to_string());
            }
        };
        let action = invocation.action;
        let provider = Arc::clone(self);
        // The handler runs as its own task so that a bug (a panic) becomes InternalFailure, not a lost invocation.
        let mut task = tokio::spawn(async move { provider.run(invocation).await });
        let event = match tokio::time::timeout(deadline(action), &mut task).await {
            Ok(Ok(event)) => event,
            Ok(Err(join_error)) => ProgressEvent::failed(
                HandlerErrorCode::InternalFailure,
                format!("the {} handler failed unexpectedly: {join_error}", action.as_str()),
            ),
            Err(_) => {
                // The handler is abandoned, not left running into the next invocation with its EKS calls.
                task.abort();
                ProgressEvent::failed(
                    HandlerErrorCode::NetworkFailure,
                    format!("EKS did not complete the {} within {} s", action.as_str(), deadline(action).as_secs()),
                )
            }
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

    async fn run(&self, invocation: Invocation) -> ProgressEvent {
        let eks = self.client(invocation.region, invocation.credentials);
        handle(&eks, invocation.action, &invocation.request).await
    }

    /// The EKS client for these credentials and region: a warm one if this process made it recently.
    fn client(&self, region: Option<String>, credentials: Option<CallerCredentials>) -> SdkEks {
        let key = ClientKey { region, credentials };
        let mut clients = self.clients.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let warm = clients.iter().position(|(cached, _)| *cached == key).and_then(|position| clients.remove(position));
        if let Some((key, client)) = warm {
            clients.push_front((key, client.clone()));
            return client;
        }
        let client = SdkEks::new(&self.base, key.region.as_deref(), key.credentials.as_ref());
        clients.truncate(WARM_CLIENTS - 1);
        clients.push_front((key, client.clone()));
        client
    }
}
