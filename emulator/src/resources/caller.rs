//! The scope an orchestrating request (a stack operation, a Cloud Control request) acts in: its caller, and
//! credentials that act as that caller for handlers, as CloudFormation hands handlers the caller's temporary
//! credentials.

use std::collections::BTreeMap;
use std::time::Duration;

use super::Scope;
use crate::config::DEFAULT_REGION;
use crate::context::RequestContext;
use crate::world::identities::{Key, SessionRequest};
use crate::world::store::Store;

/// How long the credentials handed to handlers last (CloudFormation's are an hour long too).
const HANDLER_CREDENTIALS_LIFETIME: Duration = Duration::from_secs(3600);
/// Credentials handed to handlers are reused for the same caller while they last this much longer (an operation's
/// handlers then have time to finish), so that polling clients do not grow the sessions without bound.
const REUSE_WHILE_LEFT: Duration = Duration::from_secs(30 * 60);

impl Scope {
    /// The caller of `context`, with credentials for handlers: a session of the caller's role with the same tags and
    /// session policies, or a session of the caller's user, issued once and reused while it lasts.
    pub fn for_caller(store: &Store, context: &RequestContext, stack: Option<(&str, &str)>) -> Scope {
        let mut scope = Self::acting_as(store, context, stack);
        scope.time_compression = store.state().settings.callback_time_compression;
        scope
    }

    fn acting_as(store: &Store, context: &RequestContext, stack: Option<(&str, &str)>) -> Scope {
        let region = context.region.clone().unwrap_or_else(|| DEFAULT_REGION.to_owned());
        let credentials = {
            let mut state = store.state();
            let caller_key = context.access_key_id.clone().unwrap_or_default();
            if let Some(reused) = state.identities.handler_session(&caller_key, REUSE_WHILE_LEFT) {
                return Self::new(context, reused, region, stack);
            }
            let session = context
                .access_key_id
                .as_deref()
                .and_then(|akid| match state.identities.get(akid) {
                    Some(Key::Session(session)) if !session.user_session => Some(session.clone()),
                    _ => None,
                });
            let issued = match session {
                Some(session) => state.identities.issue_session(SessionRequest {
                    role_arn: &session.role_arn,
                    role_id: session.assumed_role_id.split(':').next().unwrap_or_default(),
                    session_name: &session.session_name,
                    session_tags: session.session_tags.clone(),
                    transitive_tag_keys: session.transitive_tag_keys.clone(),
                    duration: HANDLER_CREDENTIALS_LIFETIME,
                    session_policy: session.session_policy.clone(),
                    session_policy_arns: session.session_policy_arns.clone(),
                }),
                None => state
                    .identities
                    .issue_user_session(&context.caller, HANDLER_CREDENTIALS_LIFETIME),
            };
            state.identities.remember_handler_session(&caller_key, &issued);
            issued
        };
        Self::new(context, credentials, region, stack)
    }

    fn new(
        context: &RequestContext,
        credentials: crate::world::identities::IssuedCredentials,
        region: String,
        stack: Option<(&str, &str)>,
    ) -> Scope {
        Scope {
            context: context.clone(),
            credentials,
            account_id: context.caller.account_id.clone(),
            partition: pia_core::partition_of_region(&region),
            region,
            stack_id: stack.map(|(id, _)| id.to_owned()),
            stack_name: stack.map(|(_, name)| name.to_owned()),
            stack_tags: BTreeMap::new(),
            system_tags: BTreeMap::new(),
            time_compression: 1.0,
        }
    }
}
