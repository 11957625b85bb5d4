//! What every listener of the emulator (the AWS APIs, the agent, the agent's probes) allows a connection, so that
//! slow or idle clients cannot hold the server's connections (and file descriptors) for ever.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The limits of one listener. The defaults hold against 200 slow clients on a port while other clients are
/// served: they are under the cap, and each is closed once its head has taken `header_read_timeout_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectionLimits {
    /// Seconds from the first byte of a request to the end of its headers; a slower head closes the connection.
    pub header_read_timeout_seconds: f64,
    /// Seconds a connection may wait, with no request in flight, for the first byte of its next request (its first
    /// one, or the next on a keep-alive connection); then it is closed.
    pub idle_timeout_seconds: f64,
    /// Open connections of one listener at most; further ones wait in the kernel's backlog until one closes.
    pub max_connections: usize,
}

pub const DEFAULT_HEADER_READ_TIMEOUT_SECONDS: f64 = 10.0;
pub const DEFAULT_IDLE_TIMEOUT_SECONDS: f64 = 60.0;
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;
/// The longest timeout accepted, a day.
const MAX_TIMEOUT_SECONDS: f64 = 86_400.0;

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout_seconds: DEFAULT_HEADER_READ_TIMEOUT_SECONDS,
            idle_timeout_seconds: DEFAULT_IDLE_TIMEOUT_SECONDS,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

impl ConnectionLimits {
    /// Why these limits cannot be used, if they cannot.
    pub fn validate(&self) -> Result<(), String> {
        for (name, seconds) in [
            ("header_read_timeout_seconds", self.header_read_timeout_seconds),
            ("idle_timeout_seconds", self.idle_timeout_seconds),
        ] {
            if !(seconds > 0.0 && seconds <= MAX_TIMEOUT_SECONDS) {
                return Err(format!(
                    "connection_limits.{name} {seconds} is not more than 0 and at most {MAX_TIMEOUT_SECONDS}"
                ));
            }
        }
        if self.max_connections == 0 {
            return Err("connection_limits.max_connections must be at least 1".to_owned());
        }
        Ok(())
    }

    pub(crate) fn header_read_timeout(&self) -> Duration {
        seconds(self.header_read_timeout_seconds)
    }

    pub(crate) fn idle_timeout(&self) -> Duration {
        seconds(self.idle_timeout_seconds)
    }
}

/// Validated limits are finite and positive; anything else falls back to the longest timeout.
fn seconds(value: f64) -> Duration {
    Duration::try_from_secs_f64(value).unwrap_or(Duration::from_secs_f64(MAX_TIMEOUT_SECONDS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_bad_values_are_refused() {
        assert_eq!(ConnectionLimits::default().validate(), Ok(()));
        let zero = ConnectionLimits {
            max_connections: 0,
            ..ConnectionLimits::default()
        };
        assert!(zero.validate().is_err());
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e9] {
            let limits = ConnectionLimits {
                idle_timeout_seconds: bad,
                ..ConnectionLimits::default()
            };
            assert!(limits.validate().is_err(), "{bad}");
        }
        let partial: ConnectionLimits = serde_json::from_str(r#"{"max_connections": 8}"#).unwrap();
        assert_eq!(partial.max_connections, 8);
        assert_eq!(partial.header_read_timeout(), Duration::from_secs(10));
    }
}
