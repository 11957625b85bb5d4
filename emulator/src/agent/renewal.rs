//! The cache's background renewal, as the real agent's janitor: every `renewal_interval`, entries that can no
//! longer be served are dropped and those due are fetched anew from EKS Auth, at most `renewal_calls_per_second`.
//! A renewal that EKS Auth refuses for good (the association gone, the token expired or invalid, access denied)
//! drops the entry; any other failure keeps the old credentials and tries again at the next sweep.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::watch;
use tokio::time::{MissedTickBehavior, interval};
use tracing::debug;

use super::cache::renewal_time;
use super::metrics::RenewalFailure;
use super::service::AgentService;

pub(crate) async fn run(
    agent: Arc<AgentService>,
    every: Duration,
    calls_per_second: u32,
    mut stop: watch::Receiver<bool>,
) {
    let every = every.max(Duration::from_millis(10));
    let pace = Duration::from_secs(1) / calls_per_second.max(1);
    let mut sweeps = interval(every);
    sweeps.set_missed_tick_behavior(MissedTickBehavior::Delay);
    sweeps.tick().await;
    loop {
        tokio::select! {
            _ = sweeps.tick() => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
        tokio::select! {
            () = sweep(&agent, every, pace) => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
    }
}

async fn sweep(agent: &AgentService, retry_after: Duration, pace: Duration) {
    let now = SystemTime::now();
    let dropped = agent.cache.remove_unusable(now);
    if dropped > 0 {
        agent.metrics.cache("evicted", dropped as u64);
    }
    let mut calls = interval(pace);
    for token in agent.cache.due(now) {
        calls.tick().await;
        let now = SystemTime::now();
        match agent.fetch(&token).await {
            Ok(fetched) => {
                let renew_at = renewal_time(now, fetched.expiration, agent.max_retention);
                agent.cache.renewed(&token, fetched.body, fetched.expiration, renew_at);
                agent.metrics.cache("refreshed", 1);
                debug!(cluster = %agent.cluster(), "cached credentials renewed");
            }
            Err(error) if error.is_irrecoverable() => {
                agent
                    .metrics
                    .renewal_failed(RenewalFailure::NonRecoverable, error.eks_auth_code());
                if agent.cache.remove(&token) {
                    agent.metrics.cache("evicted", 1);
                }
            }
            Err(error) => {
                agent
                    .metrics
                    .renewal_failed(RenewalFailure::Recoverable, error.eks_auth_code());
                agent.cache.postpone(&token, now + retry_after);
            }
        }
    }
}
