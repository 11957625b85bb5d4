//! The two hops of AssumeRoleForPodIdentity: EKS (the service principal) assumes the association's role,
//! checked against its trust policy, and with a target role that session assumes the target in turn.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde_json::Value;

use super::error::{AuthError, AuthErrorKind};
use super::verify::VerifiedToken;
use crate::authz::{Ask, authorize};
use crate::clock::{epoch_seconds, format_iso8601, now_epoch_seconds};
use crate::config::POD_IDENTITY_PRINCIPAL;
use crate::context::{CallerIdentity, RequestContext};
use crate::ids::{new_uuid, role_account_and_name};
use crate::trust::{TrustContext, TrustPrincipal, trust_allows, trust_names_principal};
use crate::world::eks::Association;
use crate::world::eks_auth::PodIdentityGrant;
use crate::world::identities::IssuedCredentials;
use crate::world::state::State as World;
use crate::world::store::Store;

/// How long the credentials of a pod's role session last. *(unverified: EKS does not document it; the agent
/// refreshes well before)*
const CREDENTIALS_LIFETIME: Duration = Duration::from_secs(6 * 3600);
/// How long the target role's session lasts: EKS documents 59 minutes for target-role credentials (within STS's
/// one-hour limit for role chaining), and the agent caches them no longer.
const CHAINED_CREDENTIALS_LIFETIME: Duration = Duration::from_secs(59 * 60);
/// The session tags EKS Auth sets (all transitive), unless the association disables them.
pub use pia_core::pod_identity::SESSION_TAG_KEYS;
/// How EKS Auth's AccessDeniedException begins when it cannot assume the role.
const UNAUTHORIZED: &str = "Unauthorized Exception! EKS does not have permissions to assume the associated role.";

/// `eks-{cluster}-{pod}-{uuid}`, cut to STS's 64 characters.
fn session_name(cluster: &str, pod: &str) -> String {
    let mut name = format!("eks-{cluster}-{pod}-{}", new_uuid());
    name.retain(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    name.truncate(64);
    name
}

fn set(context: &mut TrustContext, key: &str, values: Vec<String>) {
    context.insert(key.to_ascii_lowercase(), values);
}

fn tag_context(context: &mut TrustContext, tags: &BTreeMap<String, String>) {
    for (key, value) in tags {
        set(context, &format!("aws:RequestTag/{key}"), vec![value.clone()]);
    }
    if !tags.is_empty() {
        set(context, "aws:TagKeys", tags.keys().cloned().collect());
        set(context, "sts:TransitiveTagKeys", tags.keys().cloned().collect());
    }
}

/// Why a trust policy refused: the first of the actions that it does not allow on its own.
fn refused_action<'a>(
    policy: &Value,
    principal: &TrustPrincipal<'_>,
    actions: &[&'a str],
    context: &TrustContext,
) -> Option<&'a str> {
    if trust_allows(policy, principal, actions, context) {
        return None;
    }
    Some(
        actions
            .iter()
            .copied()
            .find(|action| !trust_allows(policy, principal, &[action], context))
            .unwrap_or(actions[0]),
    )
}

/// The first hop, checked: whose session to issue, with which name and tags.
struct FirstHop {
    association: Association,
    role_arn: String,
    session_name: String,
    tags: BTreeMap<String, String>,
    actions: Vec<&'static str>,
}

pub(super) fn assume(
    store: &Store,
    cluster_name: &str,
    token: &VerifiedToken,
) -> Result<(PodIdentityGrant, IssuedCredentials), AuthError> {
    let hop = check_first_hop(&store.state(), cluster_name, token)?;
    let target_role_arn = hop.association.target_role_arn.clone().filter(|arn| !arn.is_empty());
    // The association's policy is the session policy of the credentials the pod gets (the target role's, if any).
    let policy = hop.association.policy.clone().filter(|p| !p.is_empty());
    let first_policy = if target_role_arn.is_none() {
        policy.clone()
    } else {
        None
    };
    let first = store.issue_role_session(
        &hop.role_arn,
        &hop.session_name,
        hop.tags.clone(),
        CREDENTIALS_LIFETIME,
        first_policy,
    );
    let credentials = match &target_role_arn {
        None => first.clone(),
        Some(target_arn) => {
            check_second_hop(&store.state(), &hop, &first, target_arn)?;
            store.issue_role_session(
                target_arn,
                &hop.session_name,
                hop.tags.clone(),
                CHAINED_CREDENTIALS_LIFETIME,
                policy,
            )
        }
    };
    let transitive = hop.tags.keys().cloned().collect();
    let grant = PodIdentityGrant {
        cluster: cluster_name.to_owned(),
        namespace: token.namespace.clone(),
        service_account: token.service_account.clone(),
        pod_name: token.pod_name.clone(),
        pod_uid: token.pod_uid.clone(),
        association_id: hop.association.association_id.clone(),
        association_arn: hop.association.association_arn.clone(),
        role_arn: hop.role_arn,
        role_session_arn: first.assumed_role_arn.clone(),
        target_role_arn,
        assumed_role_arn: credentials.assumed_role_arn.clone(),
        assumed_role_id: credentials.assumed_role_id.clone(),
        access_key_id: credentials.access_key_id.clone(),
        session_tags: hop.tags,
        transitive_tag_keys: transitive,
        policy: hop.association.policy.clone().filter(|p| !p.is_empty()),
        expiration: credentials.expiration,
    };
    Ok((grant, credentials))
}

/// The association, and the role's trust policy for the service principal.
fn check_first_hop(state: &World, cluster_name: &str, token: &VerifiedToken) -> Result<FirstHop, AuthError> {
    let cluster = state.clusters.get(cluster_name).ok_or_else(|| {
        AuthError::new(
            AuthErrorKind::ResourceNotFound,
            format!("No cluster found for name: {cluster_name}."),
        )
    })?;
    // A create or update still propagating is not seen yet (EKS's associations are eventually consistent).
    let association: Association = cluster
        .association_for_eks_auth(&token.namespace, &token.service_account, now_epoch_seconds())
        .cloned()
        .ok_or_else(|| {
            AuthError::new(
                AuthErrorKind::ResourceNotFound,
                format!(
                    "No Pod Identity Association found for service account {} in namespace {} of cluster {cluster_name}.",
                    token.service_account, token.namespace
                ),
            )
        })?;
    let cluster_arn = cluster.arn.clone();
    let cluster_account = cluster.account_id.clone();

    let Some(role) = state.roles.get(&association.role_arn) else {
        return Err(AuthError::access_denied(format!(
            "{UNAUTHORIZED} The role {} does not exist.",
            association.role_arn
        )));
    };
    let (role_arn, role_policy) = (role.arn.clone(), &role.trust_policy);

    let tags: BTreeMap<String, String> = if association.disable_session_tags {
        BTreeMap::new()
    } else {
        SESSION_TAG_KEYS
            .iter()
            .zip([
                cluster_arn.as_str(),
                cluster_name,
                token.namespace.as_str(),
                token.service_account.as_str(),
                token.pod_name.as_str(),
                token.pod_uid.as_str(),
            ])
            .map(|(k, v)| ((*k).to_owned(), v.to_owned()))
            .collect()
    };
    let mut actions = vec!["sts:AssumeRole"];
    if !tags.is_empty() {
        actions.push("sts:TagSession");
    }
    let name = session_name(cluster_name, &token.pod_name);

    // First hop: EKS (the service principal) assumes the association's role.
    let mut context = TrustContext::new();
    set(&mut context, "aws:SourceAccount", vec![cluster_account.clone()]);
    set(&mut context, "aws:SourceArn", vec![cluster_arn.clone()]);
    set(
        &mut context,
        "aws:PrincipalServiceName",
        vec![POD_IDENTITY_PRINCIPAL.to_owned()],
    );
    set(&mut context, "aws:PrincipalIsAWSService", vec!["true".to_owned()]);
    set(&mut context, "aws:SecureTransport", vec!["true".to_owned()]);
    set(&mut context, "aws:CurrentTime", vec![format_iso8601(SystemTime::now())]);
    set(
        &mut context,
        "aws:EpochTime",
        vec![epoch_seconds(SystemTime::now()).to_string()],
    );
    set(&mut context, "sts:RoleSessionName", vec![name.clone()]);
    tag_context(&mut context, &tags);
    let service = TrustPrincipal::Service(POD_IDENTITY_PRINCIPAL);
    if let Some(action) = refused_action(role_policy, &service, &actions, &context) {
        let hint = if action == "sts:TagSession" {
            " EKS Pod Identity tags every session unless the association disables session tags: allow sts:TagSession too."
        } else {
            ""
        };
        return Err(AuthError::access_denied(format!(
            "{UNAUTHORIZED} The trust policy of role {role_arn} does not allow {POD_IDENTITY_PRINCIPAL} to perform {action} \
             for this request (aws:SourceAccount {cluster_account}, aws:SourceArn {cluster_arn}).{hint}"
        )));
    }
    Ok(FirstHop {
        association,
        role_arn,
        session_name: name,
        tags,
        actions,
    })
}

/// The target role's trust policy for the first role's session.
fn check_second_hop(
    state: &World,
    hop: &FirstHop,
    first: &IssuedCredentials,
    target_arn: &str,
) -> Result<(), AuthError> {
    let Some(target) = state.roles.get(target_arn) else {
        return Err(AuthError::access_denied(format!(
            "{UNAUTHORIZED} The target role {target_arn} does not exist."
        )));
    };
    let role_arn = hop.role_arn.as_str();
    let external_id = hop.association.external_id.as_str();
    let (role_account, _) = role_account_and_name(role_arn);
    let mut context = TrustContext::new();
    set(&mut context, "aws:PrincipalArn", vec![role_arn.to_owned()]);
    set(&mut context, "aws:PrincipalAccount", vec![role_account.to_owned()]);
    set(&mut context, "aws:userid", vec![first.assumed_role_id.clone()]);
    set(&mut context, "aws:SecureTransport", vec!["true".to_owned()]);
    set(&mut context, "aws:CurrentTime", vec![format_iso8601(SystemTime::now())]);
    set(
        &mut context,
        "aws:EpochTime",
        vec![epoch_seconds(SystemTime::now()).to_string()],
    );
    set(&mut context, "sts:ExternalId", vec![external_id.to_owned()]);
    set(&mut context, "sts:RoleSessionName", vec![hop.session_name.clone()]);
    for (key, value) in &hop.tags {
        set(&mut context, &format!("aws:PrincipalTag/{key}"), vec![value.clone()]);
    }
    tag_context(&mut context, &hop.tags);
    let caller = TrustPrincipal::Aws {
        arn: &first.assumed_role_arn,
        account_id: role_account,
        role_arn: Some(role_arn),
    };
    if let Some(action) = refused_action(&target.trust_policy, &caller, &hop.actions, &context) {
        return Err(AuthError::access_denied(format!(
            "{UNAUTHORIZED} The trust policy of target role {target_arn} does not allow {role_arn} to perform \
             {action} for this request (sts:ExternalId {external_id})."
        )));
    }
    // The role's session assumes the target as any caller does: unless the target's trust policy names the role
    // within its own account, the role's own policies must allow it (always so across accounts).
    let (target_account, _) = role_account_and_name(target_arn);
    if target_account == role_account && trust_names_principal(&target.trust_policy, &caller, &hop.actions, &context) {
        return Ok(());
    }
    let session = RequestContext {
        request_id: String::new(),
        caller: CallerIdentity {
            arn: first.assumed_role_arn.clone(),
            account_id: role_account.to_owned(),
            user_id: first.assumed_role_id.clone(),
            session_tags: hop.tags.clone(),
        },
        access_key_id: Some(first.access_key_id.clone()),
        region: None,
    };
    for action in &hop.actions {
        authorize(
            state,
            &session,
            &Ask::new(*action, target_arn).with_request_tags(&hop.tags),
        )
        .map_err(|denied| AuthError::access_denied(format!("{UNAUTHORIZED} {}", denied.message)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names_fit_sts() {
        let name = session_name("demo", "web-7d9f");
        assert!(name.starts_with("eks-demo-web-7d9f-"), "{name}");
        assert_eq!(name.len(), "eks-demo-web-7d9f-".len() + 36);
        let long = session_name(&"c".repeat(100), &"p".repeat(253));
        assert_eq!(long.len(), 64);
    }
}
