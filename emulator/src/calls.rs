//! Call counting: requests received, per operation name and in arrival order.

use std::collections::BTreeMap;

/// Requests received, per operation name, and the operation names in arrival order.
#[derive(Debug, Default)]
pub(crate) struct CallCounter {
    counts: BTreeMap<String, u64>,
    log: Vec<String>,
}

impl CallCounter {
    pub fn record(&mut self, operation: &str) {
        *self.counts.entry(operation.to_owned()).or_default() += 1;
        self.log.push(operation.to_owned());
    }

    /// Operation names in arrival order.
    pub fn log(&self) -> Vec<String> {
        self.log.clone()
    }

    pub fn get(&self, operation: &str) -> u64 {
        self.counts.get(operation).copied().unwrap_or(0)
    }

    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.counts.clone()
    }

    pub fn reset(&mut self) {
        self.counts.clear();
        self.log.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_call_log_keeps_arrival_order_until_reset() {
        let mut calls = CallCounter::default();
        for op in ["B", "A", "B"] {
            calls.record(op);
        }
        assert_eq!(calls.log(), ["B", "A", "B"]);
        assert_eq!(calls.get("B"), 2);
        calls.reset();
        assert!(calls.log().is_empty());
        assert_eq!(calls.get("B"), 0);
    }
}
