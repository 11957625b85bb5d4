//! An emulated EKS Pod Identity world on loopback, for tests and local runs.
//!
//! On one port ([`Emulator::endpoint`], for `AWS_ENDPOINT_URL`): the EKS control plane API for Pod
//! Identity associations (and tagging, DescribeCluster), IAM roles, STS GetCallerIdentity and
//! AssumeRole, and EKS Auth, each speaking its service's wire protocol so that unmodified AWS SDK
//! clients work against it. Requests must be SigV4-signed with a known access key (by default
//! [`config::DEFAULT_ACCESS_KEY_ID`] / [`config::DEFAULT_SECRET_ACCESS_KEY`], no session token), as AWS
//! checks them. Calls are counted and logged, faults can be injected per operation, and the world can
//! be kept in a state file across runs.
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

pub mod agent;
pub mod cloudformation;
pub mod config;
pub mod dispatch;
pub mod eks;
pub mod eks_auth;
pub mod faults;
pub mod iam;
pub mod identity;
pub mod lambda_runtime_api;
mod persist;
mod query;
mod server;
mod sigv4;
pub mod state;
mod sts;
pub mod tokens;
pub mod trust;
pub mod webhook;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

pub use config::{
    AccessKeyConfig, ClusterConfig, DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY, EmulatorConfig, RoleConfig,
    pod_identity_trust_policy,
};
pub use eks::ErrorKind;
pub use eks::{CROSS_ACCOUNT_PASS_ROLE, ROLE_DOES_NOT_EXIST, TRUST_POLICY_INVALID};
pub use faults::{ChaosConfig, Fault};
pub use identity::{CallerIdentity, IssuedCredentials};
pub use state::{Association, AssociationSummary, Role};

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

/// What the server's handlers share.
pub(crate) struct Shared {
    state: Mutex<state::State>,
    faults: Mutex<faults::FaultInjector>,
    calls: Mutex<faults::CallCounter>,
    /// Where the world is saved after each change, if anywhere.
    state_file: Option<PathBuf>,
    /// Orders state file writes, so that the last change is the one on disk.
    persist_lock: Mutex<()>,
}

/// Locks, ignoring poisoning: a panicking handler leaves data that is still consistent enough for an
/// emulator.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
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

    /// Issues temporary credentials for a session of `role_arn` (EKS Auth's AssumeRoleForPodIdentity).
    /// All `session_tags` are transitive (as EKS Pod Identity's are). The role need not be known to
    /// IAM; its unique id comes from the registry when it is.
    pub(crate) fn issue_role_session(
        &self,
        role_arn: &str,
        session_name: &str,
        session_tags: BTreeMap<String, String>,
        duration: Duration,
    ) -> IssuedCredentials {
        let issued = {
            let mut state = self.state();
            let role_id = state
                .roles
                .get(role_arn)
                .map_or_else(|| identity::stable_role_id(role_arn), |role| role.role_id.clone());
            let transitive_tag_keys: BTreeSet<String> = session_tags.keys().cloned().collect();
            state.identities.issue_session(identity::SessionRequest {
                role_arn,
                role_id: &role_id,
                session_name,
                session_tags,
                transitive_tag_keys,
                duration,
            })
        };
        self.persist();
        issued
    }

    /// The secret, the session token (session keys only) and the owner of an access key; `None` for
    /// an unknown key or expired session credentials.
    #[allow(dead_code)] // For the Pod Identity side (agent, EKS Auth); SigV4 checks use the registry.
    pub(crate) fn authenticate(&self, access_key_id: &str) -> Option<(String, Option<String>, CallerIdentity)> {
        let state = self.state();
        let key = state.identities.get(access_key_id)?;
        if let identity::Key::Session(session) = key
            && session.expired(std::time::SystemTime::now())
        {
            return None;
        }
        Some((
            key.secret_access_key().to_owned(),
            key.session_token().map(str::to_owned),
            key.identity(),
        ))
    }

    /// Writes the world to the state file (if there is one), atomically; errors are logged.
    pub(crate) fn persist(&self) {
        let Some(path) = &self.state_file else {
            return;
        };
        let _order = lock(&self.persist_lock);
        let bytes = persist::save(&self.state());
        if let Err(error) = persist::write_atomically(path, &bytes) {
            tracing::warn!(path = %path.display(), %error, "cannot write the state file");
        }
    }

    /// [`Shared::persist`] off the async threads; returns when the file is written.
    pub(crate) async fn persist_async(self: &Arc<Self>) {
        if self.state_file.is_none() {
            return;
        }
        let shared = self.clone();
        let _ = tokio::task::spawn_blocking(move || shared.persist()).await;
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
        let mut world = state::State::new(&config);
        if let Some(path) = &config.state_file {
            match std::fs::read(path) {
                Ok(bytes) => persist::load(&mut world, &bytes).map_err(|message| EmulatorError::StateFile {
                    path: path.clone(),
                    message,
                })?,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => {
                    return Err(EmulatorError::StateFile {
                        path: path.clone(),
                        message: error.to_string(),
                    });
                }
            }
        }
        let shared = Arc::new(Shared {
            state: Mutex::new(world),
            faults: Mutex::new(faults::FaultInjector::default()),
            calls: Mutex::new(faults::CallCounter::default()),
            state_file: config.state_file.clone(),
            persist_lock: Mutex::new(()),
        });
        if let Some(path) = &config.state_file {
            let bytes = persist::save(&shared.state());
            persist::write_atomically(path, &bytes).map_err(|error| EmulatorError::StateFile {
                path: path.clone(),
                message: error.to_string(),
            })?;
        }
        let (shutdown, stop) = watch::channel(false);
        tokio::spawn(server::serve(listener, dispatch::router(shared.clone()), stop));
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

    pub fn local_addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// Adds a role to the emulated IAM, or replaces the trust policy of the role with this ARN. The
    /// same registry serves IAM's API, so this is a shortcut for CreateRole.
    pub fn put_role(&self, arn: &str, trust_policy: serde_json::Value) {
        self.inner.shared.state().roles.put(arn, trust_policy);
        self.inner.shared.persist();
    }

    /// Removes a role from the emulated IAM; associations that use it are left as they are.
    pub fn delete_role(&self, arn: &str) {
        self.inner.shared.state().roles.delete(arn);
        self.inner.shared.persist();
    }

    /// A copy of a role of the emulated IAM.
    pub fn role(&self, arn: &str) -> Option<Role> {
        self.inner.shared.state().roles.get(arn).cloned()
    }

    /// Adds a cluster (replacing one of the same name, with its associations).
    pub fn add_cluster(&self, cluster: ClusterConfig) {
        self.inner
            .shared
            .state()
            .clusters
            .insert(cluster.name.clone(), state::Cluster::new(&cluster));
        self.inner.shared.persist();
    }

    /// Makes a new long-term access key for an IAM user: (access key id `AKIA…`, secret). Requests
    /// signed with it act as `arn:aws:iam::ACCOUNT:user/USER_NAME`.
    pub fn issue_access_key(&self, account_id: &str, user_name: &str) -> (String, String) {
        let key = self.inner.shared.state().identities.new_user_key(account_id, user_name);
        self.inner.shared.persist();
        key
    }

    /// Temporary credentials for a session of a role, as STS would issue them (without checking the
    /// role's trust policy): for tests that need session credentials, such as the caller credentials
    /// CloudFormation passes to a handler. Tags are transitive.
    pub fn issue_session_credentials(
        &self,
        role_arn: &str,
        session_name: &str,
        session_tags: BTreeMap<String, String>,
        duration: Duration,
    ) -> IssuedCredentials {
        self.inner
            .shared
            .issue_role_session(role_arn, session_name, session_tags, duration)
    }

    /// The session tags of a set of credentials (empty for a user's key); `None` for an unknown key.
    /// (STS GetCallerIdentity does not return tags.)
    pub fn session_tags(&self, access_key_id: &str) -> Option<BTreeMap<String, String>> {
        let state = self.inner.shared.state();
        Some(state.identities.get(access_key_id)?.identity().session_tags)
    }

    /// Who an access key belongs to, as GetCallerIdentity would say; `None` for an unknown key.
    pub fn caller_identity(&self, access_key_id: &str) -> Option<CallerIdentity> {
        let state = self.inner.shared.state();
        Some(state.identities.get(access_key_id)?.identity())
    }

    /// Turns SigV4 verification on or off (on by default).
    pub fn set_verify_signatures(&self, verify: bool) {
        self.inner.shared.state().settings.verify_signatures = verify;
    }

    pub fn set_check_roles(&self, check_roles: bool) {
        self.inner.shared.state().settings.check_roles = check_roles;
    }

    pub fn set_allow_system_tags(&self, allow: bool) {
        self.inner.shared.state().settings.allow_system_tags = allow;
    }

    pub fn set_max_associations_per_cluster(&self, max: usize) {
        self.inner.shared.state().settings.max_associations_per_cluster = max;
    }

    /// Makes the next `times` requests of operation `op` (an operation name of any API served, such as
    /// `"CreatePodIdentityAssociation"`, `"CreateRole"`, `"AssumeRole"`, or `"*"` for any) fail with
    /// `fault`, answered in that API's protocol. Faults queued for the
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

    /// Faults injected so far (scripted and chaos), by kind (`Throttle`, `ServerError`, `Unavailable`,
    /// `Latency`, `DropAfterApply`, `Error`, `Hang`); kept across [`Emulator::clear_faults`].
    pub fn faults_injected(&self) -> BTreeMap<String, u64> {
        self.inner.shared.faults().injected()
    }

    pub fn reset_faults_injected(&self) {
        self.inner.shared.faults().reset_injected();
    }

    /// Requests received for an operation (faulted ones included) since start or [`Emulator::reset_calls`].
    pub fn calls(&self, op: &str) -> u64 {
        self.inner.shared.calls().get(op)
    }

    pub fn calls_snapshot(&self) -> BTreeMap<String, u64> {
        self.inner.shared.calls().snapshot()
    }

    /// Operation names of the requests received since start or [`Emulator::reset_calls`], in arrival
    /// order (refused and faulted ones included).
    pub fn call_log(&self) -> Vec<String> {
        self.inner.shared.calls().log()
    }

    pub fn reset_calls(&self) {
        self.inner.shared.calls().reset();
    }

    /// Associations in a cluster (0 for an unknown cluster).
    /// Adds `count` associations to a cluster directly (service accounts `{prefix}-{n}` in namespace
    /// `namespace`), as a world with a long history would hold; for scale tests and benchmarks. Returns how many
    /// the cluster holds afterwards, or `None` for an unknown cluster.
    pub fn seed_associations(
        &self,
        cluster: &str,
        namespace: &str,
        prefix: &str,
        count: usize,
        role_arn: &str,
    ) -> Option<usize> {
        let mut state = self.inner.shared.state();
        let cluster = state.clusters.get_mut(cluster)?;
        for n in 0..count {
            let id = state::new_association_id();
            let now = state::now_epoch_seconds();
            cluster.insert(Association {
                cluster_name: cluster.name.clone(),
                namespace: namespace.to_owned(),
                service_account: format!("{prefix}-{n}"),
                role_arn: role_arn.to_owned(),
                association_arn: cluster.association_arn(&id),
                association_id: id,
                tags: BTreeMap::new(),
                created_at: now,
                modified_at: now,
                owner_arn: None,
                disable_session_tags: false,
                target_role_arn: None,
                external_id: state::new_uuid(),
                policy: None,
                seq: 0,
            });
        }
        Some(cluster.len())
    }

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
    if !(0.0..=86_400.0).contains(&config.role_propagation_seconds) {
        return Err(EmulatorError::InvalidConfig(format!(
            "role_propagation_seconds {} is not between 0 and 86400",
            config.role_propagation_seconds
        )));
    }
    let mut names = HashSet::new();
    for cluster in &config.clusters {
        if cluster.name.is_empty() || !names.insert(cluster.name.as_str()) {
            return Err(EmulatorError::InvalidConfig(format!(
                "cluster name {:?} is empty or repeated",
                cluster.name
            )));
        }
        if cluster.account_id.len() != 12 || !cluster.account_id.chars().all(|c| c.is_ascii_digit()) {
            return Err(EmulatorError::InvalidConfig(format!(
                "cluster {}: account id {:?} is not 12 digits",
                cluster.name, cluster.account_id
            )));
        }
        if let Some(pem) = &cluster.signing_key_pem {
            tokens::check_pem(pem)
                .map_err(|e| EmulatorError::InvalidConfig(format!("cluster {}: {e}", cluster.name)))?;
        }
    }
    for key in &config.access_keys {
        if key.access_key_id.is_empty()
            || key.secret_access_key.is_empty()
            || key.user_name.is_empty()
            || key.account_id.len() != 12
            || !key.account_id.chars().all(|c| c.is_ascii_digit())
        {
            return Err(EmulatorError::InvalidConfig(format!(
                "access key {:?}: id, secret and user name must be given and the account id must be 12 digits",
                key.access_key_id
            )));
        }
    }
    Ok(())
}
