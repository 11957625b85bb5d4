//! Whose policies decide a request: the signing key's user, or the role of a role session with the session's own
//! policies.

use std::collections::BTreeMap;

use pia_trust::RequestPrincipal;
use serde_json::Value;

use crate::context::RequestContext;
use crate::trust::{TrustPrincipal, request_principal};
use crate::world::iam_policies::InlinePolicies;
use crate::world::identities::{Key, Session};
use crate::world::state::State;

/// The caller as IAM evaluates it.
pub(super) struct CallerPolicies {
    pub principal: RequestPrincipal,
    /// The identity-based policies: the user's or the role's, inline and attached.
    pub identity: Vec<Value>,
    /// A role session's session policies, if it was given any (they then bound what the role allows).
    pub session: Option<Vec<Value>>,
    /// `aws:PrincipalArn`: the user's ARN, or the role's for a role session.
    principal_arn: String,
    kind: CallerKind,
    /// `aws:PrincipalTag/…`: the role's tags overridden by the session's, or none for a user.
    principal_tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum CallerKind {
    User { name: String },
    RoleSession,
}

impl CallerPolicies {
    pub fn resolve(state: &State, context: &RequestContext) -> Self {
        let caller = &context.caller;
        let key = context
            .access_key_id
            .as_deref()
            .and_then(|akid| state.identities.get(akid));
        match key {
            Some(Key::Session(session)) if !session.user_session => Self::role_session(state, context, session),
            // A user's key, a user's session (GetSessionToken), or the default user when signatures are not checked.
            _ => {
                let name = caller.arn.rsplit('/').next().unwrap_or_default().to_owned();
                let identity = state
                    .users
                    .get(&caller.account_id, &name)
                    .map(|user| documents(state, &user.inline_policies, &user.attached_policies))
                    .unwrap_or_default();
                let principal = principal(TrustPrincipal::Aws {
                    arn: &caller.arn,
                    account_id: &caller.account_id,
                    role_arn: None,
                });
                Self {
                    principal,
                    identity,
                    session: None,
                    principal_arn: caller.arn.clone(),
                    kind: CallerKind::User { name },
                    principal_tags: BTreeMap::new(),
                }
            }
        }
    }

    fn role_session(state: &State, context: &RequestContext, session: &Session) -> Self {
        let role = state.roles.get(&session.role_arn);
        // A session of a role that no longer exists keeps no permissions.
        let identity = role
            .map(|role| documents(state, &role.inline_policies, &role.attached_policies))
            .unwrap_or_default();
        let mut principal_tags: BTreeMap<String, String> =
            role.map(|role| role.tags.iter().cloned().collect()).unwrap_or_default();
        principal_tags.extend(session.session_tags.clone());
        let session_policies =
            (session.session_policy.is_some() || !session.session_policy_arns.is_empty()).then(|| {
                let inline = session
                    .session_policy
                    .as_deref()
                    .map(|text| serde_json::from_str(text).unwrap_or(Value::Null));
                inline
                    .into_iter()
                    .chain(
                        session
                            .session_policy_arns
                            .iter()
                            .map(|arn| state.policies.document(arn).unwrap_or(Value::Null)),
                    )
                    .collect()
            });
        let principal = principal(TrustPrincipal::Aws {
            arn: &context.caller.arn,
            account_id: &context.caller.account_id,
            role_arn: Some(&session.role_arn),
        });
        Self {
            principal,
            identity,
            session: session_policies,
            principal_arn: session.role_arn.clone(),
            kind: CallerKind::RoleSession,
            principal_tags,
        }
    }

    /// The global condition keys of the caller.
    pub fn condition_keys(&self, context: &RequestContext) -> Vec<(String, Vec<String>)> {
        let caller = &context.caller;
        let mut keys = vec![
            ("aws:PrincipalArn".to_owned(), vec![self.principal_arn.clone()]),
            ("aws:PrincipalAccount".to_owned(), vec![caller.account_id.clone()]),
            ("aws:userid".to_owned(), vec![caller.user_id.clone()]),
        ];
        match &self.kind {
            CallerKind::User { name } => {
                keys.push(("aws:username".to_owned(), vec![name.clone()]));
                keys.push(("aws:PrincipalType".to_owned(), vec!["User".to_owned()]));
            }
            CallerKind::RoleSession => keys.push(("aws:PrincipalType".to_owned(), vec!["AssumedRole".to_owned()])),
        }
        if let Some(region) = &context.region {
            keys.push(("aws:RequestedRegion".to_owned(), vec![region.clone()]));
        }
        for (key, value) in &self.principal_tags {
            keys.push((format!("aws:PrincipalTag/{key}"), vec![value.clone()]));
        }
        keys
    }
}

fn principal(caller: TrustPrincipal<'_>) -> RequestPrincipal {
    // Caller ARNs come from the emulator's own key records; one that does not parse matches no Principal element.
    request_principal(&caller).unwrap_or_else(|| RequestPrincipal::Service(String::new()))
}

/// Inline and attached managed policy documents; a managed policy without a document here grants nothing.
fn documents(state: &State, inline: &InlinePolicies, attached: &[String]) -> Vec<Value> {
    inline
        .values()
        .map(|text| serde_json::from_str(text).unwrap_or(Value::Null))
        .chain(attached.iter().filter_map(|arn| state.policies.document(arn)))
        .collect()
}
