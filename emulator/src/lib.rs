//! An emulated EKS Pod Identity world on loopback, for tests and local runs.
//!
//! So far: the EKS control plane API for Pod Identity associations (and tagging, DescribeCluster),
//! speaking EKS's rest-json wire protocol so that the unmodified `aws-sdk-eks` client works against
//! it, with a registry of IAM roles, call counting and fault injection.
//!
//! ```no_run
//! # async fn demo() -> Result<(), pia_emulator::EmulatorError> {
//! let emulator = pia_emulator::Emulator::start(pia_emulator::EmulatorConfig::default()).await?;
//! let endpoint = emulator.endpoint(); // give it to the SDK as endpoint_url
//! # Ok(()) }
//! ```
//!
//! The server runs in a tokio task; it stops on [`Emulator::shutdown`] or when the last [`Emulator`]
//! handle is dropped.

pub mod config;
pub mod eks;
pub mod faults;
pub mod lambda_runtime_api;
mod server;
pub mod state;

use std::collections::{BTreeMap, HashSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::net::TcpListener;
use tokio::sync::watch;

pub use config::{ClusterConfig, EmulatorConfig, RoleConfig, pod_identity_trust_policy};
pub use eks::ErrorKind;
pub use eks::{CROSS_ACCOUNT_PASS_ROLE, ROLE_DOES_NOT_EXIST, TRUST_POLICY_INVALID};
pub use faults::{ChaosConfig, Fault};
pub use state::{Association, AssociationSummary};

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
}

/// What the server's handlers share.
pub(crate) struct Shared {
    state: Mutex<state::State>,
    faults: Mutex<faults::FaultInjector>,
    calls: Mutex<faults::CallCounter>,
}

/// Locks, ignoring poisoning: a panicking handler leaves data that is still consistent enough for an
/// emulator.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    pub(crate) fn state(&self) -> MutexGuard<'_, state::State> {
        lock(&self.state)
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, faults::FaultInjector> {
        lock(&self.faults)
    }

    pub(crate) fn calls(&self) -> MutexGuard<'_, faults::CallCounter> {
        lock(&self.calls)
    }
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
        let shared = Arc::new(Shared {
            state: Mutex::new(state::State::new(&config)),
            faults: Mutex::new(faults::FaultInjector::default()),
            calls: Mutex::new(faults::CallCounter::default()),
        });
        let (shutdown, stop) = watch::channel(false);
        tokio::spawn(server::serve(listener, eks::router(shared.clone()), stop));
        tracing::debug!(%addr, "emulator listening");
        Ok(Emulator {
            inner: Arc::new(Inner {
                shared,
                addr,
                shutdown,
            }),
        })
    }

    /// `http://127.0.0.1:PORT`, for the SDK's `endpoint_url`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// Adds or replaces a role in the emulated IAM.
    pub fn put_role(&self, arn: &str, trust_policy: serde_json::Value) {
        self.inner.shared.state().roles.put(arn, trust_policy);
    }

    /// Removes a role from the emulated IAM; associations that use it are left as they are.
    pub fn delete_role(&self, arn: &str) {
        self.inner.shared.state().roles.delete(arn);
    }

    /// Adds a cluster (replacing one of the same name, with its associations).
    pub fn add_cluster(&self, cluster: ClusterConfig) {
        self.inner
            .shared
            .state()
            .clusters
            .insert(cluster.name.clone(), state::Cluster::new(&cluster));
    }

    pub fn set_check_roles(&self, check_roles: bool) {
        self.inner.shared.state().settings.check_roles = check_roles;
    }

    pub fn set_allow_system_tags(&self, allow: bool) {
        self.inner.shared.state().settings.allow_system_tags = allow;
    }

    pub fn set_max_associations_per_cluster(&self, max: usize) {
        self.inner
            .shared
            .state()
            .settings
            .max_associations_per_cluster = max;
    }

    /// Makes the next `times` requests of operation `op` (an EKS operation name such as
    /// `"CreatePodIdentityAssociation"`, or `"*"` for any) fail with `fault`. Faults queued for the
    /// same operation are used in order; an operation's own faults come before `"*"` ones.
    /// `times == u32::MAX` keeps the fault until [`Emulator::clear_faults`].
    pub fn inject(&self, op: &str, fault: Fault, times: u32) {
        self.inner.shared.faults().inject(op, fault, times);
    }

    /// Seeded random faults when no scripted fault applies; `None` turns them off.
    pub fn set_chaos(&self, chaos: Option<ChaosConfig>) {
        self.inner.shared.faults().set_chaos(chaos);
    }

    /// Removes scripted faults and turns chaos off.
    pub fn clear_faults(&self) {
        self.inner.shared.faults().clear();
    }

    /// Requests received for an operation (faulted ones included) since start or [`Emulator::reset_calls`].
    pub fn calls(&self, op: &str) -> u64 {
        self.inner.shared.calls().get(op)
    }

    pub fn calls_snapshot(&self) -> BTreeMap<String, u64> {
        self.inner.shared.calls().snapshot()
    }

    pub fn reset_calls(&self) {
        self.inner.shared.calls().reset();
    }

    /// Associations in a cluster (0 for an unknown cluster).
    pub fn association_count(&self, cluster: &str) -> usize {
        self.inner
            .shared
            .state()
            .clusters
            .get(cluster)
            .map_or(0, state::Cluster::len)
    }

    /// A copy of a cluster's associations, in creation order.
    pub fn associations(&self, cluster: &str) -> Vec<Association> {
        eks::snapshot(&self.inner.shared.state(), cluster)
    }

    /// Stops accepting connections and closes the open ones. Idempotent.
    pub fn shutdown(&self) {
        self.inner.shutdown.send_replace(true);
    }
}

fn validate_config(config: &EmulatorConfig) -> Result<(), EmulatorError> {
    let mut names = HashSet::new();
    for cluster in &config.clusters {
        if cluster.name.is_empty() || !names.insert(cluster.name.as_str()) {
            return Err(EmulatorError::InvalidConfig(format!(
                "cluster name {:?} is empty or repeated",
                cluster.name
            )));
        }
        if cluster.account_id.len() != 12 || !cluster.account_id.chars().all(|c| c.is_ascii_digit())
        {
            return Err(EmulatorError::InvalidConfig(format!(
                "cluster {}: account id {:?} is not 12 digits",
                cluster.name, cluster.account_id
            )));
        }
    }
    Ok(())
}
