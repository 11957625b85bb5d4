//! The EKS Pod Identity Agent, as aws/eks-pod-identity-agent behaves: the HTTP server that pods' AWS SDKs call for
//! credentials (`AWS_CONTAINER_CREDENTIALS_FULL_URI`), on 127.0.0.1 and [::1] on one port, with a probe port
//! beside it.
//!
//! `/v1/credentials` (any method) with the header `Authorization: <service-account token>` (the contents of
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`): past the rate limit (429 `Too Many Requests`), the Host check (403
//! unless the request names one of the agent's addresses) and the token's own checks (400: empty, not a JWT,
//! expired or not yet valid), the agent answers from its cache or calls EKS Auth `AssumeRoleForPodIdentity` for
//! its cluster through the real `aws-sdk-eksauth` client, signed with sessions of the node role
//! (`node`), and answers as the container credentials provider expects:
//! `{"AccessKeyId", "SecretAccessKey", "Token", "AccountId", "Expiration"}` (Expiration in RFC 3339). EKS Auth's
//! refusals keep their status. Every error is a `text/plain` line worded as the real agent's (`error`).
//!
//! The cache (`cache`) is bounded and renewed in the background before expiry (`renewal`). The probe port
//! serves `/healthz`, `/readyz` and the Prometheus `/metrics` (`probes`, `metrics`). Also on the credentials
//! port: the pod identity webhook (`POST /webhook/mutate`, see [`crate::webhook`]) for the agent's cluster.
//!
//! Tokens and credentials are never logged.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use pia_emulator::{Emulator, EmulatorConfig, agent::AgentConfig, tokens::TokenRequest};
//! let emulator = Emulator::start(EmulatorConfig::default()).await?;
//! let agent = emulator.start_agent(AgentConfig::default()).await?;
//! let token_file = std::path::Path::new("/tmp/eks-pod-identity-token");
//! emulator.write_token_file(&TokenRequest::new("demo", "default", "my-sa", "pod-1"), token_file)?;
//! // In the pod's environment:
//! //   AWS_CONTAINER_CREDENTIALS_FULL_URI = agent.credentials_uri()
//! //   AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE = /tmp/eks-pod-identity-token
//! # Ok(()) }
//! ```

mod cache;
mod config;
mod credentials;
mod eks_auth;
mod error;
mod host;
mod listeners;
mod metrics;
mod node;
mod probes;
mod renewal;
mod routes;
mod service;
mod token;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use tokio::sync::watch;
use tracing::debug;

pub use self::config::AgentConfig;
use self::eks_auth::EksAuth;
use self::host::AllowedHosts;
use self::metrics::Metrics;
use self::probes::{HEALTH_PATH, METRICS_PATH, READINESS_PATH};
use self::routes::{CREDENTIALS_PATH, WEBHOOK_PATH};
use self::service::AgentService;
use crate::emulator::{Emulator, EmulatorError};
use crate::wire::server::serve;

/// A running agent. Cheap to clone; it stops on [`Agent::shutdown`] or when the last handle is dropped.
#[derive(Clone)]
pub struct Agent {
    inner: Arc<AgentInner>,
}

struct AgentInner {
    /// The credentials addresses.
    ipv4: SocketAddr,
    ipv6: Option<SocketAddr>,
    probe_addr: SocketAddr,
    service: Arc<AgentService>,
    shutdown: watch::Sender<bool>,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent")
            .field("ipv4", &self.inner.ipv4)
            .field("ipv6", &self.inner.ipv6)
            .field("probe_addr", &self.inner.probe_addr)
            .field("cluster", &self.inner.service.cluster())
            .finish_non_exhaustive()
    }
}

impl Agent {
    /// Starts an agent for one of the emulator's clusters.
    pub async fn start(emulator: &Emulator, config: AgentConfig) -> Result<Agent, EmulatorError> {
        config
            .connection_limits
            .validate()
            .map_err(|e| EmulatorError::InvalidConfig(format!("agent: {e}")))?;
        let store = emulator.store().clone();
        let (cluster, region) = {
            let state = store.state();
            let cluster = match &config.cluster {
                Some(name) => state.clusters.get(name),
                None => state.clusters.values().next(),
            }
            .ok_or_else(|| {
                EmulatorError::InvalidConfig(match &config.cluster {
                    Some(name) => format!("agent: no cluster named {name:?}"),
                    None => "agent: the emulator has no cluster".to_owned(),
                })
            })?;
            (cluster.name.clone(), cluster.region.clone())
        };
        let endpoint = config.eks_auth_endpoint.clone().unwrap_or_else(|| emulator.endpoint());
        let eks_auth = EksAuth::new(&config, &store, &cluster, &region, endpoint);
        let metrics = Metrics::new()
            .map_err(|e| EmulatorError::InvalidConfig(format!("agent: metrics cannot be registered: {e}")))?;

        let bound = listeners::bind_loopback(config.port).await?;
        let (ipv4, ipv6) = (bound.ipv4.1, bound.ipv6.as_ref().map(|(_, addr)| *addr));
        let addrs: Vec<SocketAddr> = std::iter::once(ipv4).chain(ipv6).collect();
        let probe_addr = SocketAddr::from((Ipv4Addr::LOCALHOST, config.probe_port));
        let probe_listener = tokio::net::TcpListener::bind(probe_addr)
            .await
            .map_err(|source| EmulatorError::Bind {
                addr: probe_addr,
                source,
            })?;
        let probe_addr = probe_listener.local_addr().map_err(|source| EmulatorError::Bind {
            addr: probe_addr,
            source,
        })?;

        let hosts = AllowedHosts::new(&addrs.iter().map(SocketAddr::ip).collect::<Vec<_>>());
        let service = Arc::new(AgentService::new(&config, eks_auth, hosts, metrics, store));
        let (shutdown, stop) = watch::channel(false);
        let limits = config.connection_limits;
        for (listener, _) in std::iter::once(bound.ipv4).chain(bound.ipv6) {
            tokio::spawn(serve(listener, routes::router(service.clone()), limits, stop.clone()));
        }
        tokio::spawn(serve(
            probe_listener,
            probes::router(addrs.clone(), service.clone()),
            limits,
            stop.clone(),
        ));
        tokio::spawn(renewal::run(
            service.clone(),
            config.renewal_interval,
            config.renewal_calls_per_second,
            stop,
        ));
        debug!(?addrs, %probe_addr, cluster = %service.cluster(), "pod identity agent listening");
        Ok(Agent {
            inner: Arc::new(AgentInner {
                ipv4,
                ipv6,
                probe_addr,
                service,
                shutdown,
            }),
        })
    }

    /// `http://127.0.0.1:PORT/v1/credentials`: the pod's `AWS_CONTAINER_CREDENTIALS_FULL_URI`.
    pub fn credentials_uri(&self) -> String {
        format!("http://{}{CREDENTIALS_PATH}", self.local_addr())
    }

    /// `http://[::1]:PORT/v1/credentials`, where the host has IPv6.
    pub fn credentials_uri_ipv6(&self) -> Option<String> {
        self.inner.ipv6.map(|addr| format!("http://{addr}{CREDENTIALS_PATH}"))
    }

    /// `http://127.0.0.1:PROBE_PORT/healthz`.
    pub fn health_uri(&self) -> String {
        format!("http://{}{HEALTH_PATH}", self.inner.probe_addr)
    }

    /// `http://127.0.0.1:PROBE_PORT/readyz`.
    pub fn readiness_uri(&self) -> String {
        format!("http://{}{READINESS_PATH}", self.inner.probe_addr)
    }

    /// `http://127.0.0.1:PROBE_PORT/metrics`: the Prometheus counters.
    pub fn metrics_uri(&self) -> String {
        format!("http://{}{METRICS_PATH}", self.inner.probe_addr)
    }

    /// `http://127.0.0.1:PORT/webhook/mutate`: the pod identity webhook (AdmissionReview JSON).
    pub fn webhook_uri(&self) -> String {
        format!("http://{}{WEBHOOK_PATH}", self.local_addr())
    }

    /// The IPv4 credentials address.
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.ipv4
    }

    /// The IPv6 credentials address (the same port), where the host has IPv6 loopback.
    pub fn local_addr_ipv6(&self) -> Option<SocketAddr> {
        self.inner.ipv6
    }

    /// The probe port's address.
    pub fn probe_addr(&self) -> SocketAddr {
        self.inner.probe_addr
    }

    /// The cluster the agent serves.
    pub fn cluster(&self) -> &str {
        self.inner.service.cluster()
    }

    /// Tokens whose credentials are cached.
    pub fn cached_tokens(&self) -> usize {
        self.inner.service.cache.len()
    }

    /// Forgets every cached credential.
    pub fn clear_cache(&self) {
        self.inner.service.cache.clear();
    }

    /// Stops accepting connections and closes the open ones. Idempotent.
    pub fn shutdown(&self) {
        self.inner.shutdown.send_replace(true);
    }
}

impl Emulator {
    /// Starts a Pod Identity Agent for one of this emulator's clusters ([`Agent::start`]).
    pub async fn start_agent(&self, config: AgentConfig) -> Result<Agent, EmulatorError> {
        Agent::start(self, config).await
    }
}
