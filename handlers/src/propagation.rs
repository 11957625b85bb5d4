//! IAM propagation: a role created moments ago (in the same stack operation, say) is not yet visible to EKS, which
//! then answers `InvalidParameterException: Role provided in the request does not exist`. Create and Update wait
//! for it, for about the same bounded time.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::eks::{EksError, EksErrorKind};
use crate::error::HandlerError;

/// How long a create or an update waits for EKS to see a new role: IAM propagation takes seconds, rarely more.
pub const ROLE_WAIT_LIMIT: Duration = Duration::from_secs(60);

/// Seconds CloudFormation waits before calling an update back while its new role propagates.
pub const ROLE_WAIT_DELAY_SECONDS: u32 = 10;
/// Callbacks an update waits through: with the delay, [`ROLE_WAIT_LIMIT`].
pub const ROLE_WAIT_MAX_CALLBACKS: u32 = ROLE_WAIT_LIMIT.as_secs() as u32 / ROLE_WAIT_DELAY_SECONDS;

/// EKS's answer while a new role has not reached it yet.
pub fn is_role_not_propagated(error: &EksError) -> bool {
    let message = error.message.to_ascii_lowercase();
    error.kind == EksErrorKind::InvalidRequest && message.contains("role") && message.contains("does not exist")
}

/// The callback context of an update waiting for its role.
#[derive(Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleWaitContext {
    /// How many times EKS has refused the update because the role did not exist yet.
    pub role_wait_attempts: u32,
}

impl RoleWaitContext {
    /// The context CloudFormation returned, checked: this provider writes 1 to [`ROLE_WAIT_MAX_CALLBACKS`] - 1.
    pub fn from_callback(context: Option<&serde_json::Value>) -> Result<Self, HandlerError> {
        let Some(context) = context else {
            return Ok(Self::default());
        };
        let context = Self::deserialize(context).map_err(|e| HandlerError::BadCallbackContext(e.to_string()))?;
        if !(1..ROLE_WAIT_MAX_CALLBACKS).contains(&context.role_wait_attempts) {
            return Err(HandlerError::BadCallbackContext(format!(
                "roleWaitAttempts {} is out of range (1 to {})",
                context.role_wait_attempts,
                ROLE_WAIT_MAX_CALLBACKS - 1
            )));
        }
        Ok(context)
    }

    /// The context of the next callback, or None once the wait is over.
    pub fn next(&self) -> Option<Self> {
        let attempts = self.role_wait_attempts + 1;
        (attempts < ROLE_WAIT_MAX_CALLBACKS).then_some(Self {
            role_wait_attempts: attempts,
        })
    }

    pub fn waited_seconds(&self) -> u64 {
        u64::from(self.role_wait_attempts) * u64::from(ROLE_WAIT_DELAY_SECONDS)
    }

    pub fn to_value(&self) -> serde_json::Value {
        serde_json::json!({ "roleWaitAttempts": self.role_wait_attempts })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn contexts_this_provider_did_not_write_are_invalid_requests() {
        for context in [
            json!({"roleWaitAttempts": 4294967295u64}),
            json!({"roleWaitAttempts": 0}),
            json!({"roleWaitAttempts": ROLE_WAIT_MAX_CALLBACKS}),
            json!({"roleWaitAttempts": -1}),
            json!({"roleWaitAttempts": 1, "other": true}),
            json!("text"),
        ] {
            let error = RoleWaitContext::from_callback(Some(&context)).unwrap_err();
            assert_eq!(error.code(), crate::HandlerErrorCode::InvalidRequest, "{context}");
        }
        let context = RoleWaitContext::from_callback(Some(&json!({"roleWaitAttempts": 1}))).unwrap();
        assert_eq!(context.next().unwrap().to_value(), json!({"roleWaitAttempts": 2}));
    }

    #[test]
    fn the_wait_is_bounded() {
        let mut context = RoleWaitContext::default();
        let mut callbacks = 0;
        while let Some(next) = context.next() {
            context = next;
            callbacks += 1;
        }
        assert_eq!(callbacks, ROLE_WAIT_MAX_CALLBACKS - 1);
        assert!(context.waited_seconds() < ROLE_WAIT_LIMIT.as_secs());
    }
}
