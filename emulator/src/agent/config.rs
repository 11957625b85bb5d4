//! How to run an agent: ports, cluster, EKS Auth client, cache, rate limit and connection limits. The defaults are
//! the real agent's where it has one (cache 2,000 entries, renewal at most 3 hours after a fetch, 3 renewals per
//! second, 1,000 requests per second with bursts of 500).

use std::time::Duration;

use aws_credential_types::Credentials;

use crate::connection_limits::ConnectionLimits;

#[derive(Debug, Clone, PartialEq)]
pub struct AgentConfig {
    /// Port of the credentials endpoint, on 127.0.0.1 and [::1]; 0 picks a free one.
    pub port: u16,
    /// Port of `/healthz`, `/readyz` and `/metrics`, on 127.0.0.1; 0 picks a free one (the real agent: 2703).
    pub probe_port: u16,
    /// The cluster the agent serves; `None`: the first cluster by name.
    pub cluster: Option<String>,
    /// Credentials that sign EKS Auth requests; `None`: sessions of the emulator's node role
    /// (`node_role_arn`), renewed before they expire, as a node's instance profile gives them.
    pub credentials: Option<Credentials>,
    /// EKS Auth's endpoint; `None`: the emulator's.
    pub eks_auth_endpoint: Option<String>,
    /// The SDK's attempts per EKS Auth call (standard retry mode: throttling and 5xx are retried).
    pub max_attempts: u32,
    /// The SDK's first retry back-off.
    pub initial_backoff: Duration,
    /// Tokens whose credentials are cached at most, the one stored longest ago evicted first; 0: no cache.
    pub max_cache_entries: usize,
    /// Cached credentials are renewed at most this long after they were fetched, and in any case shortly
    /// before they expire.
    pub max_retention_before_renewal: Duration,
    /// How often the cache is swept for credentials due for renewal (and expired ones).
    pub renewal_interval: Duration,
    /// EKS Auth calls per second at most for renewals.
    pub renewal_calls_per_second: u32,
    /// Credential requests per second at most (bursts of half as many); more are answered 429.
    pub requests_per_second: u32,
    /// Timeouts and the connection cap of each of the agent's listeners.
    pub connection_limits: ConnectionLimits,
}

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            port: 0,
            probe_port: 0,
            cluster: None,
            credentials: None,
            eks_auth_endpoint: None,
            max_attempts: 3,
            initial_backoff: Duration::from_millis(100),
            max_cache_entries: 2000,
            max_retention_before_renewal: Duration::from_secs(3 * 3600),
            renewal_interval: Duration::from_secs(60),
            renewal_calls_per_second: 3,
            requests_per_second: 1000,
            connection_limits: ConnectionLimits::default(),
        }
    }
}
