//! Fault injection: what a fault does to a request, and which request gets which.
//!
//! Scripted faults are queued per operation name (or `"*"` for every operation) and each hits the next
//! `times` requests; the operation's own queue is served before `"*"`. When no scripted fault applies,
//! an optional seeded chaos mode draws faults at configured rates, reproducibly for a given seed and
//! request order.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::error_kind::ErrorKind;

/// Matches every operation in [`crate::Emulator::inject`].
pub(crate) const ANY_OPERATION: &str = "*";

/// What an injected fault does to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 429 ThrottlingException; the request is not applied.
    Throttle,
    /// 500 ServerException; the request is not applied.
    ServerError,
    /// 503 ServiceUnavailableException; the request is not applied.
    Unavailable,
    /// The request is served normally after this delay.
    Latency(Duration),
    /// The request is applied, then the connection is closed without an answer: the client sees the
    /// response end early (a transient dispatch failure in the AWS SDK), although the change was made.
    DropAfterApply,
    /// Answer with this EKS error (and a canned message); the request is not applied. For errors the
    /// emulator has no natural way to produce, such as AccessDeniedException.
    Error(ErrorKind),
    /// Never answer: the request is not applied and the connection stays open, silent, until the client
    /// gives up (a hung endpoint; only the client's own timeouts end the call).
    Hang,
}

impl Fault {
    /// The fault's kind, as [`crate::Emulator::faults_injected`] counts them.
    pub fn kind(&self) -> &'static str {
        match self {
            Fault::Throttle => "Throttle",
            Fault::ServerError => "ServerError",
            Fault::Unavailable => "Unavailable",
            Fault::Latency(_) => "Latency",
            Fault::DropAfterApply => "DropAfterApply",
            Fault::Error(_) => "Error",
            Fault::Hang => "Hang",
        }
    }
}

/// Seeded random faults for chaos runs. Rates are probabilities per request in 0..=1, drawn in the
/// order throttle, server error, unavailable, drop after apply, latency.
#[derive(Debug, Clone, PartialEq)]
pub struct ChaosConfig {
    pub seed: u64,
    pub throttle: f64,
    pub server_error: f64,
    pub unavailable: f64,
    pub drop_after_apply: f64,
    pub latency: f64,
    /// The delay of a latency fault.
    pub latency_duration: Duration,
    /// Operations chaos applies to; empty means all.
    pub operations: Vec<String>,
}

impl ChaosConfig {
    /// No faults at all, with the given seed: set the rates you want.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            throttle: 0.0,
            server_error: 0.0,
            unavailable: 0.0,
            drop_after_apply: 0.0,
            latency: 0.0,
            latency_duration: Duration::from_millis(200),
            operations: Vec::new(),
        }
    }
}

#[derive(Debug)]
struct Scripted {
    fault: Fault,
    /// `u32::MAX` never runs out.
    remaining: u32,
}

#[derive(Debug)]
struct Chaos {
    config: ChaosConfig,
    rng: StdRng,
}

/// Queued and random faults; see the module docs.
#[derive(Debug, Default)]
pub(crate) struct FaultInjector {
    scripted: HashMap<String, VecDeque<Scripted>>,
    chaos: Option<Chaos>,
    /// Faults handed out so far, by [`Fault::kind`] (scripted and chaos alike).
    injected: BTreeMap<&'static str, u64>,
}

impl FaultInjector {
    /// Queues `fault` for the next `times` requests of `operation` (`"*"`: any). `times == u32::MAX`
    /// keeps it until [`FaultInjector::clear`]; `times == 0` does nothing.
    pub fn inject(&mut self, operation: &str, fault: Fault, times: u32) {
        if times == 0 {
            return;
        }
        self.scripted
            .entry(operation.to_owned())
            .or_default()
            .push_back(Scripted {
                fault,
                remaining: times,
            });
    }

    pub fn set_chaos(&mut self, chaos: Option<ChaosConfig>) {
        self.chaos = chaos.map(|config| Chaos {
            rng: StdRng::seed_from_u64(config.seed),
            config,
        });
    }

    /// Removes every scripted fault and turns chaos off.
    pub fn clear(&mut self) {
        self.scripted.clear();
        self.chaos = None;
    }

    /// Faults handed out since start (or [`FaultInjector::reset_injected`]), by kind.
    pub fn injected(&self) -> BTreeMap<String, u64> {
        self.injected.iter().map(|(kind, n)| ((*kind).to_owned(), *n)).collect()
    }

    pub fn reset_injected(&mut self) {
        self.injected.clear();
    }

    /// The fault for the next request of `operation`, if any, using it up (and counting it).
    pub fn next_fault(&mut self, operation: &str) -> Option<Fault> {
        let fault = self.draw(operation);
        if let Some(fault) = &fault {
            *self.injected.entry(fault.kind()).or_default() += 1;
        }
        fault
    }

    fn draw(&mut self, operation: &str) -> Option<Fault> {
        for key in [operation, ANY_OPERATION] {
            let Some(queue) = self.scripted.get_mut(key) else {
                continue;
            };
            let Some(front) = queue.front_mut() else {
                continue;
            };
            let fault = front.fault;
            if front.remaining != u32::MAX {
                front.remaining -= 1;
                if front.remaining == 0 {
                    queue.pop_front();
                }
            }
            if queue.is_empty() {
                self.scripted.remove(key);
            }
            return Some(fault);
        }
        let chaos = self.chaos.as_mut()?;
        if !chaos.config.operations.is_empty() && !chaos.config.operations.iter().any(|op| op == operation) {
            return None;
        }
        let config = &chaos.config;
        let draws = [
            (config.throttle, Fault::Throttle),
            (config.server_error, Fault::ServerError),
            (config.unavailable, Fault::Unavailable),
            (config.drop_after_apply, Fault::DropAfterApply),
            (config.latency, Fault::Latency(config.latency_duration)),
        ];
        for (rate, fault) in draws {
            if rate > 0.0 && chaos.rng.random_bool(rate.min(1.0)) {
                return Some(fault);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripted_faults_are_used_up_in_order_operation_first() {
        let mut faults = FaultInjector::default();
        faults.inject("*", Fault::ServerError, 1);
        faults.inject("Op", Fault::Throttle, 2);
        faults.inject("Op", Fault::DropAfterApply, 1);
        faults.inject("Op", Fault::Unavailable, 0);
        assert_eq!(faults.next_fault("Op"), Some(Fault::Throttle));
        assert_eq!(faults.next_fault("Other"), Some(Fault::ServerError));
        assert_eq!(faults.next_fault("Other"), None);
        assert_eq!(faults.next_fault("Op"), Some(Fault::Throttle));
        assert_eq!(faults.next_fault("Op"), Some(Fault::DropAfterApply));
        assert_eq!(faults.next_fault("Op"), None);
        let injected: Vec<(String, u64)> = faults.injected().into_iter().collect();
        assert_eq!(
            injected,
            [
                ("DropAfterApply".to_owned(), 1),
                ("ServerError".to_owned(), 1),
                ("Throttle".to_owned(), 2)
            ]
        );
        faults.reset_injected();
        assert!(faults.injected().is_empty());
    }

    #[test]
    fn forever_faults_last_until_cleared() {
        let mut faults = FaultInjector::default();
        faults.inject("Op", Fault::Latency(Duration::from_millis(5)), u32::MAX);
        for _ in 0..1000 {
            assert_eq!(faults.next_fault("Op"), Some(Fault::Latency(Duration::from_millis(5))));
        }
        faults.clear();
        assert_eq!(faults.next_fault("Op"), None);
    }

    #[test]
    fn chaos_is_reproducible_for_a_seed_and_respects_rates_and_operations() {
        let run = |seed| {
            let mut faults = FaultInjector::default();
            let mut config = ChaosConfig::new(seed);
            config.throttle = 0.3;
            config.drop_after_apply = 0.1;
            config.operations = vec!["Op".into()];
            faults.set_chaos(Some(config));
            (0..2000).map(|_| faults.next_fault("Op")).collect::<Vec<_>>()
        };
        let a = run(7);
        assert_eq!(a, run(7));
        assert_ne!(a, run(8));
        let throttles = a.iter().filter(|f| **f == Some(Fault::Throttle)).count();
        let drops = a.iter().filter(|f| **f == Some(Fault::DropAfterApply)).count();
        assert!((500..700).contains(&throttles), "{throttles}");
        // 0.7 * 0.1 of the requests
        assert!((100..190).contains(&drops), "{drops}");
        assert!(
            a.iter()
                .all(|f| matches!(f, None | Some(Fault::Throttle) | Some(Fault::DropAfterApply)))
        );

        let mut faults = FaultInjector::default();
        let mut config = ChaosConfig::new(1);
        config.throttle = 1.0;
        config.operations = vec!["Op".into()];
        faults.set_chaos(Some(config));
        assert_eq!(faults.next_fault("Other"), None);
        assert_eq!(faults.next_fault("Op"), Some(Fault::Throttle));
    }
}
