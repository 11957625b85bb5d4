//! Faults and call counts, in process: what the dispatcher injects and what it counted.

use std::collections::BTreeMap;

use super::Emulator;
use crate::faults::{ChaosConfig, Fault};

impl Emulator {
    /// Makes the next `times` requests of operation `op` (an operation name of any API served, such as
    /// `"CreatePodIdentityAssociation"`, `"CreateRole"`, `"AssumeRole"`, or `"*"` for any) fail with
    /// `fault`, answered in that API's protocol. Faults queued for the
    /// same operation are used in order; an operation's own faults come before `"*"` ones.
    /// `times == u32::MAX` keeps the fault until [`Emulator::clear_faults`].
    pub fn inject(&self, op: &str, fault: Fault, times: u32) {
        self.shared().faults().inject(op, fault, times);
    }

    /// Seeded random faults when no scripted fault applies; `None` turns them off.
    pub fn set_chaos(&self, chaos: Option<ChaosConfig>) {
        self.shared().faults().set_chaos(chaos);
    }

    /// Removes scripted faults and turns chaos off.
    pub fn clear_faults(&self) {
        self.shared().faults().clear();
    }

    /// Faults injected so far (scripted and chaos), by kind (`Throttle`, `ServerError`, `Unavailable`,
    /// `Latency`, `DropAfterApply`, `Error`, `Hang`); kept across [`Emulator::clear_faults`].
    pub fn faults_injected(&self) -> BTreeMap<String, u64> {
        self.shared().faults().injected()
    }

    pub fn reset_faults_injected(&self) {
        self.shared().faults().reset_injected();
    }

    /// Requests received for an operation (faulted ones included) since start or [`Emulator::reset_calls`].
    pub fn calls(&self, op: &str) -> u64 {
        self.shared().calls().get(op)
    }

    pub fn calls_snapshot(&self) -> BTreeMap<String, u64> {
        self.shared().calls().snapshot()
    }

    /// Operation names of the requests received since start or [`Emulator::reset_calls`], in arrival
    /// order (refused and faulted ones included).
    pub fn call_log(&self) -> Vec<String> {
        self.shared().calls().log()
    }

    pub fn reset_calls(&self) {
        self.shared().calls().reset();
    }
}
