//! The agent's Prometheus counters, named as the real agent's, served at `/metrics` of the probe port:
//! `pod_identity_http_response{code}`, `pod_identity_cache_state{state}` (`hit`, `miss`, `refreshed`, `evicted`)
//! and `pod_identity_cache_errors{type,code}` (renewals that failed, `Recoverable` or `NonRecoverable`); and, this
//! emulator's own, `pod_identity_eks_auth_errors{code}` (every EKS Auth call that failed). One registry per agent.

use prometheus::{Encoder, IntCounter, IntCounterVec, Opts, Registry, TextEncoder};

pub(crate) struct Metrics {
    registry: Registry,
    http_responses: IntCounterVec,
    cache_state: IntCounterVec,
    cache_errors: IntCounterVec,
    eks_auth_errors: IntCounterVec,
    /// The counters of the warm path, looked up once.
    ok: IntCounter,
    hits: IntCounter,
}

/// Why a renewal failed, as the real agent labels it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RenewalFailure {
    Recoverable,
    NonRecoverable,
}

impl Metrics {
    pub(crate) fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let counter = |name: &str, help: &str, labels: &[&str]| -> Result<IntCounterVec, prometheus::Error> {
            let counter = IntCounterVec::new(Opts::new(name, help), labels)?;
            registry.register(Box::new(counter.clone()))?;
            Ok(counter)
        };
        let http_responses = counter(
            "pod_identity_http_response",
            "Pod Identity http response code",
            &["code"],
        )?;
        let cache_state = counter(
            "pod_identity_cache_state",
            "The state of credential in cache",
            &["state"],
        )?;
        let cache_errors = counter(
            "pod_identity_cache_errors",
            "Removing credentials from cache, got non recoverable error",
            &["type", "code"],
        )?;
        let eks_auth_errors = counter(
            "pod_identity_eks_auth_errors",
            "EKS Auth calls that failed, by error code",
            &["code"],
        )?;
        Ok(Self {
            ok: http_responses.with_label_values(&["200"]),
            hits: cache_state.with_label_values(&["hit"]),
            registry,
            http_responses,
            cache_state,
            cache_errors,
            eks_auth_errors,
        })
    }

    pub(crate) fn answered_ok(&self) {
        self.ok.inc();
    }

    pub(crate) fn answered(&self, status: u16) {
        self.http_responses.with_label_values(&[&status.to_string()]).inc();
    }

    pub(crate) fn cache_hit(&self) {
        self.hits.inc();
    }

    pub(crate) fn cache(&self, state: &str, count: u64) {
        self.cache_state.with_label_values(&[state]).inc_by(count);
    }

    pub(crate) fn eks_auth_failed(&self, code: &str) {
        self.eks_auth_errors.with_label_values(&[code]).inc();
    }

    pub(crate) fn renewal_failed(&self, failure: RenewalFailure, code: &str) {
        let kind = match failure {
            RenewalFailure::Recoverable => "Recoverable",
            RenewalFailure::NonRecoverable => "NonRecoverable",
        };
        self.cache_errors.with_label_values(&[kind, code]).inc();
    }

    /// The Prometheus text exposition of every counter.
    pub(crate) fn render(&self) -> Result<String, prometheus::Error> {
        let mut text = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut text)?;
        Ok(String::from_utf8_lossy(&text).into_owned())
    }
}
