//! IAM authorization of API requests, as IAM decides within an account: the caller's identity-based policies (the
//! user's, or the role's for a role session: inline and attached managed) must allow the action on the resource and
//! none may deny it; a role session's session policies (AssumeRole's `Policy` and `PolicyArns`) must allow it too.
//! The policy language is the project's own evaluator ([`pia_trust::evaluate()`]), so a request is refused
//! exactly as `pia trust` would explain it.
//!
//! Every service asks before it looks at the resource, so a caller without permission learns nothing about what
//! exists. Condition keys: the request's own (`aws:RequestTag/…`, `aws:TagKeys`, `iam:PassedToService`, …) and
//! the caller's (`aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:PrincipalTag/…`, `aws:userid`,
//! `aws:username`, `aws:RequestedRegion`).

mod ask;
mod caller;
mod denial;
mod document;

pub(crate) use ask::Ask;
pub(crate) use denial::Denied;
pub(crate) use document::permission_policy_problem;

use pia_trust::{Decision, PolicyDocument, RequestContext as PolicyRequest, evaluate};
use serde_json::Value;

use crate::context::RequestContext;
use crate::world::state::State;
use caller::CallerPolicies;
use denial::Reason;

/// Whether the caller of `context` may do `ask`; the error is AWS's AccessDenied message.
pub(crate) fn authorize(state: &State, context: &RequestContext, ask: &Ask) -> Result<(), Denied> {
    if !state.settings.authorize_requests {
        return Ok(());
    }
    let policies = CallerPolicies::resolve(state, context);
    let request = ask.policy_request(context, &policies);
    let denied = |reason| Err(Denied::new(&context.caller.arn, ask, reason));
    let identity = decide(&policies.identity, &request);
    if identity == Decision::ExplicitDeny {
        return denied(Reason::ExplicitDenyInIdentityPolicy);
    }
    let session = policies.session.as_ref().map(|session| decide(session, &request));
    if session == Some(Decision::ExplicitDeny) {
        return denied(Reason::ExplicitDenyInSessionPolicy);
    }
    if identity != Decision::Allow {
        return denied(Reason::NoIdentityPolicyAllows);
    }
    if session.is_some_and(|decision| decision != Decision::Allow) {
        return denied(Reason::NoSessionPolicyAllows);
    }
    Ok(())
}

/// The decision of a set of policies taken together: any explicit deny wins, then any allow.
fn decide(documents: &[Value], request: &PolicyRequest) -> Decision {
    let mut decision = Decision::ImplicitDeny;
    for document in documents {
        // IAM refuses documents that do not parse when they are stored; one that slips in grants nothing.
        let Ok(document) = PolicyDocument::from_value(document) else {
            continue;
        };
        match evaluate(&document, request).decision {
            Decision::ExplicitDeny => return Decision::ExplicitDeny,
            Decision::Allow => decision = Decision::Allow,
            Decision::ImplicitDeny => {}
        }
    }
    decision
}
