//! AccessDenied in IAM's words: `User: ARN is not authorized to perform: ACTION on resource: RESOURCE because …`.

use super::ask::Ask;

/// Why a request is denied, as IAM's messages name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reason {
    NoIdentityPolicyAllows,
    ExplicitDenyInIdentityPolicy,
    NoSessionPolicyAllows,
    ExplicitDenyInSessionPolicy,
}

/// A refused request; each service answers it in its own error shape (EKS: 403 `AccessDeniedException`;
/// IAM and STS: 403 `AccessDenied`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub(crate) struct Denied {
    pub message: String,
}

impl Denied {
    pub(super) fn new(caller_arn: &str, ask: &Ask, reason: Reason) -> Self {
        let action = &ask.action;
        let because = match reason {
            Reason::NoIdentityPolicyAllows => format!("because no identity-based policy allows the {action} action"),
            Reason::ExplicitDenyInIdentityPolicy => "with an explicit deny in an identity-based policy".to_owned(),
            Reason::NoSessionPolicyAllows => format!("because no session policy allows the {action} action"),
            Reason::ExplicitDenyInSessionPolicy => "with an explicit deny in a session policy".to_owned(),
        };
        Self {
            message: format!(
                "User: {caller_arn} is not authorized to perform: {action} on resource: {} {because}",
                ask.resource
            ),
        }
    }
}
