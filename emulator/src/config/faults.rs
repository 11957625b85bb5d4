//! Faults injected from the start, as the configuration (`faults`, `chaos`) and `pia emulator --fault` write them:
//! one spelling of a fault for both, parsed here.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::faults::{ChaosConfig, Fault};

/// The spellings of a fault, for messages.
const FAULT_SPELLINGS: &str = "throttle, server-error, unavailable, drop-after-apply, hang or latency-<N>ms";

/// The next `times` requests of `operation` get `fault`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FaultConfig {
    /// An operation name (`CreatePodIdentityAssociation`, `AssumeRoleForPodIdentity`, `GetRole`, …), or `*` for
    /// every operation.
    pub operation: String,
    /// `throttle` (429), `server-error` (500), `unavailable` (503), `drop-after-apply` (applied, then the connection
    /// closed unanswered), `hang` (never answered) or `latency-<N>ms` (answered N ms late).
    pub fault: String,
    /// How many requests it hits; 0: every one.
    #[serde(default = "one")]
    pub times: u32,
}

fn one() -> u32 {
    1
}

impl FaultConfig {
    /// `OPERATION:FAULT[:TIMES]`, as `--fault` takes it: `CreatePodIdentityAssociation:throttle:2`, `*:latency-250ms`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = text.split(':');
        let (Some(operation), Some(fault)) = (parts.next(), parts.next()) else {
            return Err(format!("{text:?} is not OPERATION:FAULT[:TIMES]"));
        };
        let times = match parts.next() {
            None => 1,
            Some(times) => times
                .parse()
                .map_err(|_| format!("{times:?} (in {text:?}) is not a number of requests"))?,
        };
        if parts.next().is_some() || operation.is_empty() {
            return Err(format!("{text:?} is not OPERATION:FAULT[:TIMES]"));
        }
        let config = Self {
            operation: operation.to_owned(),
            fault: fault.to_owned(),
            times,
        };
        config.fault()?;
        Ok(config)
    }

    pub fn fault(&self) -> Result<Fault, String> {
        let fault = match self.fault.as_str() {
            "throttle" => Fault::Throttle,
            "server-error" => Fault::ServerError,
            "unavailable" => Fault::Unavailable,
            "drop-after-apply" => Fault::DropAfterApply,
            "hang" => Fault::Hang,
            other => {
                let millis = other
                    .strip_prefix("latency-")
                    .and_then(|rest| rest.strip_suffix("ms"))
                    .and_then(|millis| millis.parse().ok())
                    .ok_or_else(|| format!("{other:?} is not a fault: {FAULT_SPELLINGS}"))?;
                Fault::Latency(Duration::from_millis(millis))
            }
        };
        Ok(fault)
    }

    /// How many requests, as the injector counts them (`u32::MAX`: every one).
    pub fn requests(&self) -> u32 {
        if self.times == 0 { u32::MAX } else { self.times }
    }
}

/// Random faults at these rates (each a probability per request, 0 to 1), reproducible for a seed and an order of
/// requests; scripted faults come first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ChaosSettings {
    pub seed: u64,
    pub throttle: f64,
    pub server_error: f64,
    pub unavailable: f64,
    pub drop_after_apply: f64,
    pub latency: f64,
    /// The delay of a latency fault, in milliseconds.
    pub latency_ms: u64,
    /// The operations it applies to; empty: every one.
    pub operations: Vec<String>,
}

impl Default for ChaosSettings {
    fn default() -> Self {
        Self::from(&ChaosConfig::new(0))
    }
}

impl From<&ChaosConfig> for ChaosSettings {
    fn from(chaos: &ChaosConfig) -> Self {
        Self {
            seed: chaos.seed,
            throttle: chaos.throttle,
            server_error: chaos.server_error,
            unavailable: chaos.unavailable,
            drop_after_apply: chaos.drop_after_apply,
            latency: chaos.latency,
            latency_ms: u64::try_from(chaos.latency_duration.as_millis()).unwrap_or(u64::MAX),
            operations: chaos.operations.clone(),
        }
    }
}

impl ChaosSettings {
    pub fn chaos(&self) -> ChaosConfig {
        ChaosConfig {
            seed: self.seed,
            throttle: self.throttle,
            server_error: self.server_error,
            unavailable: self.unavailable,
            drop_after_apply: self.drop_after_apply,
            latency: self.latency,
            latency_duration: Duration::from_millis(self.latency_ms),
            operations: self.operations.clone(),
        }
    }

    /// The rates that are not probabilities, by key.
    pub fn bad_rates(&self) -> Vec<(&'static str, f64)> {
        [
            ("throttle", self.throttle),
            ("server_error", self.server_error),
            ("unavailable", self.unavailable),
            ("drop_after_apply", self.drop_after_apply),
            ("latency", self.latency),
        ]
        .into_iter()
        .filter(|(_, rate)| !(0.0..=1.0).contains(rate))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_spelling_parses_and_names_what_is_wrong() {
        let throttle = FaultConfig::parse("CreatePodIdentityAssociation:throttle:2").unwrap();
        assert_eq!(throttle.fault(), Ok(Fault::Throttle));
        assert_eq!(throttle.requests(), 2);
        let latency = FaultConfig::parse("*:latency-250ms").unwrap();
        assert_eq!(latency.fault(), Ok(Fault::Latency(Duration::from_millis(250))));
        assert_eq!(latency.requests(), 1);
        assert_eq!(FaultConfig::parse("GetRole:hang:0").unwrap().requests(), u32::MAX);
        assert!(
            FaultConfig::parse("GetRole")
                .unwrap_err()
                .contains("OPERATION:FAULT[:TIMES]")
        );
        assert!(
            FaultConfig::parse("GetRole:slow")
                .unwrap_err()
                .contains("\"slow\" is not a fault: throttle")
        );
        assert!(
            FaultConfig::parse("GetRole:throttle:many")
                .unwrap_err()
                .contains("not a number")
        );
    }

    #[test]
    fn rates_outside_zero_to_one_are_named() {
        let chaos = ChaosSettings {
            throttle: 1.5,
            latency: -0.1,
            ..ChaosSettings::default()
        };
        assert_eq!(chaos.bad_rates(), vec![("throttle", 1.5), ("latency", -0.1)]);
        assert!(ChaosSettings::default().bad_rates().is_empty());
    }
}
