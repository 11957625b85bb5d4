//! What the agent's handlers and its renewal share.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use super::cache::Cache;
use super::config::AgentConfig;
use super::eks_auth::{EksAuth, Fetched};
use super::error::AgentError;
use super::host::AllowedHosts;
use super::metrics::Metrics;
use crate::world::store::Store;

pub(crate) struct AgentService {
    pub eks_auth: EksAuth,
    pub cache: Cache,
    pub metrics: Metrics,
    pub hosts: AllowedHosts,
    /// The real agent's limiter: `requests_per_second`, bursts of half as many.
    pub limiter: DefaultDirectRateLimiter,
    pub max_retention: Duration,
    /// The world, for the webhook.
    pub store: Arc<Store>,
}

impl AgentService {
    pub(crate) fn new(
        config: &AgentConfig,
        eks_auth: EksAuth,
        hosts: AllowedHosts,
        metrics: Metrics,
        store: Arc<Store>,
    ) -> Self {
        let rate = NonZeroU32::new(config.requests_per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(rate.get() / 2).unwrap_or(NonZeroU32::MIN);
        Self {
            eks_auth,
            cache: Cache::new(config.max_cache_entries),
            metrics,
            hosts,
            limiter: RateLimiter::direct(Quota::per_second(rate).allow_burst(burst)),
            max_retention: config.max_retention_before_renewal,
            store,
        }
    }

    pub(crate) fn cluster(&self) -> &str {
        self.eks_auth.cluster()
    }

    /// One EKS Auth call, counted when it fails.
    pub(crate) async fn fetch(&self, token: &str) -> Result<Fetched, AgentError> {
        let fetched = self.eks_auth.fetch(token).await;
        if let Err(error) = &fetched {
            tracing::debug!(cluster = %self.cluster(), %error, "EKS Auth call failed");
            self.metrics.eks_auth_failed(error.eks_auth_code());
        }
        fetched
    }
}
