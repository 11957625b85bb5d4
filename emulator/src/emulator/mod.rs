//! The emulator as its users hold it: start it on a port, give its endpoint to the SDK, and drive the
//! world, the faults and the Pod Identity side in process.

mod faults;
mod pods;
mod world;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::{ChaosSettings, EmulatorConfig};
use crate::wire::dispatch::router;
use crate::wire::server::serve;
use crate::wire::shared::Shared;
use crate::world::store::Store;

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid emulator config: {0}")]
    InvalidConfig(String),
    #[error("cannot use the state file {path}: {message}")]
    StateFile { path: PathBuf, message: String },
}

/// A running emulator. Cheap to clone; every clone controls the same server.
#[derive(Clone)]
pub struct Emulator {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("addr", &self.inner.addr)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Serves the resource type of `schema` (a resource schema with its `typeName`, as the registry holds it) in stacks
    /// and Cloud Control by running `invoker`'s handlers over the handler protocol, as CloudFormation runs a
    /// registered type's function. Returns the type name, or `None` for a schema without one.
    pub fn register_handlers(
        &self,
        schema: &serde_json::Value,
        invoker: Arc<dyn crate::resources::HandlerInvoker>,
    ) -> Option<String> {
        self.inner.shared.resource_types.register(schema, invoker)
    }

    /// Binds 127.0.0.1:`config.port` (0: any free port) and serves in a tokio task.
    pub async fn start(config: EmulatorConfig) -> Result<Emulator, EmulatorError> {
        validate_config(&config)?;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, config.port));
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| EmulatorError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind { addr, source })?;
        let store = Store::open(&config).map_err(|error| EmulatorError::StateFile {
            path: error.path,
            message: error.message,
        })?;
        let shared = Arc::new(Shared::new(store));
        for fault in &config.faults {
            let injected = fault.fault().map_err(EmulatorError::InvalidConfig)?;
            shared.faults().inject(&fault.operation, injected, fault.requests());
        }
        shared
            .faults()
            .set_chaos(config.chaos.as_ref().map(ChaosSettings::chaos));
        let (shutdown, stop) = watch::channel(false);
        tokio::spawn(serve(listener, router(shared.clone()), config.connection_limits, stop));
        tracing::debug!(%addr, "emulator listening");
        Ok(Emulator {
            inner: Arc::new(Inner { shared, addr, shutdown }),
        })
    }

    /// `http://127.0.0.1:PORT`, for the SDK's `endpoint_url` (or `AWS_ENDPOINT_URL`): EKS, EKS Auth, IAM
    /// and STS all answer there.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    /// The configuration of an SDK client of any service of this emulator, as the default user `admin`.
    pub fn sdk_config(&self) -> aws_types::SdkConfig {
        crate::clients::sdk_config(&self.endpoint(), crate::clients::admin_credentials())
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// Stops accepting connections and closes the open ones. Idempotent.
    pub fn shutdown(&self) {
        self.inner.shutdown.send_replace(true);
    }

    /// The world's store, as the services see it: for the in-process API, and for the agent's webhook.
    pub(crate) fn store(&self) -> &Arc<Store> {
        &self.inner.shared.store
    }

    /// What the dispatcher shares: for the in-process faults and call counts.
    fn shared(&self) -> &Shared {
        &self.inner.shared
    }
}

/// Every problem of the configuration, as `EmulatorConfig::problems` finds them (the one set of checks).
fn validate_config(config: &EmulatorConfig) -> Result<(), EmulatorError> {
    let problems = config.problems();
    if problems.is_empty() {
        return Ok(());
    }
    let named: Vec<String> = problems.iter().map(ToString::to_string).collect();
    Err(EmulatorError::InvalidConfig(named.join("; ")))
}
