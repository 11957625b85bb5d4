//! What a request asks: an action on a resource, with the request's condition keys.

use pia_trust::RequestContext as PolicyRequest;

use super::caller::CallerPolicies;
use crate::context::RequestContext;

/// An action on a resource (`*` for actions that name none), with the condition keys the request carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ask {
    /// Such as `eks:CreatePodIdentityAssociation`.
    pub action: String,
    pub resource: String,
    keys: Vec<(String, Vec<String>)>,
}

impl Ask {
    pub fn new(action: impl Into<String>, resource: impl Into<String>) -> Self {
        Self {
            action: action.into(),
            resource: resource.into(),
            keys: Vec::new(),
        }
    }

    /// Adds a condition key with its values.
    pub fn with(mut self, key: impl Into<String>, values: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.keys
            .push((key.into(), values.into_iter().map(Into::into).collect()));
        self
    }

    /// Adds the tag keys of a request that sets tags: `aws:RequestTag/KEY` for each and `aws:TagKeys`.
    pub fn with_request_tags<'a>(mut self, tags: impl IntoIterator<Item = (&'a String, &'a String)>) -> Self {
        let mut keys = Vec::new();
        for (key, value) in tags {
            self = self.with(format!("aws:RequestTag/{key}"), [value.clone()]);
            keys.push(key.clone());
        }
        if keys.is_empty() {
            self
        } else {
            self.with("aws:TagKeys", keys)
        }
    }

    /// Adds `aws:ResourceTag/KEY` for each tag the resource has.
    pub fn with_resource_tags<'a>(mut self, tags: impl IntoIterator<Item = (&'a String, &'a String)>) -> Self {
        for (key, value) in tags {
            self = self.with(format!("aws:ResourceTag/{key}"), [value.clone()]);
        }
        self
    }

    /// The request as the policy evaluator sees it: the action, the resource, and the request's and the caller's
    /// condition keys.
    pub(super) fn policy_request(&self, context: &RequestContext, caller: &CallerPolicies) -> PolicyRequest {
        let caller_keys = caller.condition_keys(context);
        caller_keys.iter().chain(&self.keys).fold(
            PolicyRequest::new(caller.principal.clone(), self.action.clone()).with_resource(self.resource.clone()),
            |request, (key, values)| request.with_values(key, values.iter().cloned()),
        )
    }
}
