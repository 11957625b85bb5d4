//! The world, read and changed in process: roles, clusters, access keys, sessions, associations and the
//! behaviour switches. New roles, clusters and sessions are saved to the state database, as changes
//! through the API are (user keys are not: the configuration is their source of truth).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::Emulator;
use crate::clock::now_epoch_seconds;
use crate::config::{ClusterConfig, UserConfig};
use crate::context::CallerIdentity;
use crate::ids::{new_association_id, new_uuid, stable_role_id};
use crate::world::eks::{Association, Cluster};
use crate::world::iam::Role;
use crate::world::identities::{IssuedCredentials, SessionRequest};
use crate::world::state::user_of;

impl Emulator {
    /// Adds a role to the emulated IAM, or replaces the trust policy of the role with this ARN. The
    /// same registry serves IAM's API, so this is a shortcut for CreateRole.
    pub fn put_role(&self, arn: &str, trust_policy: serde_json::Value) {
        self.store().state().roles.put(arn, trust_policy);
    }

    /// Sets an inline permission policy of a role (IAM's PutRolePolicy); nothing happens for an unknown role.
    pub fn put_role_policy(&self, role_arn: &str, policy_name: &str, document: &serde_json::Value) {
        if let Some(role) = self.store().state().roles.get_mut(role_arn) {
            role.inline_policies
                .insert(policy_name.to_owned(), document.to_string());
        }
    }

    /// Removes a role from the emulated IAM; associations that use it are left as they are.
    pub fn delete_role(&self, arn: &str) {
        self.store().state().roles.delete(arn);
    }

    /// A copy of a role of the emulated IAM.
    pub fn role(&self, arn: &str) -> Option<Role> {
        self.store().state().roles.get(arn).cloned()
    }

    /// Adds a cluster (replacing one of the same name, with its associations).
    pub fn add_cluster(&self, cluster: ClusterConfig) {
        self.store().state().put_cluster(Cluster::new(&cluster));
    }

    /// Makes a new long-term access key for an IAM user: (access key id `AKIA…`, secret). Requests
    /// signed with it act as `arn:aws:iam::ACCOUNT:user/USER_NAME`. It lasts as long as this emulator
    /// (keys that outlive a restart belong in the configuration).
    pub fn issue_access_key(&self, account_id: &str, user_name: &str) -> (String, String) {
        self.store().state().identities.new_user_key(account_id, user_name)
    }

    /// Adds an IAM user with its permission policies, or replaces the user of that name in its account (as the
    /// configuration's `users` do).
    pub fn put_user(&self, user: &UserConfig) {
        self.store().state().users.insert(user_of(user));
    }

    /// Temporary credentials for a session of a role, as STS would issue them (without checking the
    /// role's trust policy): for tests that need session credentials, such as the caller credentials
    /// CloudFormation passes to a handler. Tags are transitive.
    pub fn issue_session_credentials(
        &self,
        role_arn: &str,
        session_name: &str,
        session_tags: BTreeMap<String, String>,
        duration: Duration,
    ) -> IssuedCredentials {
        self.store()
            .issue_role_session(role_arn, session_name, session_tags, duration, None)
    }

    /// The session tags of a set of credentials (empty for a user's key); `None` for an unknown key.
    /// (STS GetCallerIdentity does not return tags.)
    pub fn session_tags(&self, access_key_id: &str) -> Option<BTreeMap<String, String>> {
        let state = self.store().state();
        Some(state.identities.get(access_key_id)?.identity().session_tags)
    }

    /// Who an access key belongs to, as GetCallerIdentity would say; `None` for an unknown key.
    pub fn caller_identity(&self, access_key_id: &str) -> Option<CallerIdentity> {
        let state = self.store().state();
        Some(state.identities.get(access_key_id)?.identity())
    }

    /// Turns SigV4 verification on or off (on by default).
    pub fn set_verify_signatures(&self, verify: bool) {
        self.store().state().settings.verify_signatures = verify;
    }

    pub fn set_check_roles(&self, check_roles: bool) {
        self.store().state().settings.check_roles = check_roles;
    }

    pub fn set_allow_system_tags(&self, allow: bool) {
        self.store().state().settings.allow_system_tags = allow;
    }

    pub fn set_max_associations_per_cluster(&self, max: usize) {
        self.store().state().settings.max_associations_per_cluster = max;
    }

    /// Sets `association_propagation_seconds` for the creates and updates from now on (clamped to 0–86400).
    pub fn set_association_propagation_seconds(&self, seconds: f64) {
        self.store().state().settings.association_propagation_seconds = if seconds.is_nan() {
            0.0
        } else {
            seconds.clamp(0.0, 86_400.0)
        };
    }

    /// Adds `count` associations to a cluster directly (service accounts `{prefix}-{n}` in namespace
    /// `namespace`), as a world with a long history would hold; for scale tests and benchmarks. Returns how many
    /// the cluster holds afterwards, or `None` for an unknown cluster.
    pub fn seed_associations(
        &self,
        cluster: &str,
        namespace: &str,
        prefix: &str,
        count: usize,
        role_arn: &str,
    ) -> Option<usize> {
        let mut state = self.store().state();
        let cluster = state.clusters.get_mut(cluster)?;
        for n in 0..count {
            let id = new_association_id();
            let now = now_epoch_seconds();
            cluster.insert(Association {
                cluster_name: cluster.name.clone(),
                namespace: namespace.to_owned(),
                service_account: format!("{prefix}-{n}"),
                role_arn: role_arn.to_owned(),
                association_arn: cluster.association_arn(&id),
                association_id: id,
                tags: BTreeMap::new(),
                created_at: now,
                modified_at: now,
                owner_arn: None,
                disable_session_tags: false,
                target_role_arn: None,
                external_id: new_uuid(),
                policy: None,
                seq: 0,
            });
        }
        Some(cluster.len())
    }

    /// Issues `count` sessions of `role_arn` directly, saved in one transaction, as a world with a long
    /// history of EKS Auth calls would hold; for benchmarks. Returns how many sessions are known
    /// afterwards.
    pub fn seed_sessions(&self, role_arn: &str, count: usize) -> usize {
        let mut state = self.store().state();
        for n in 0..count {
            state.identities.issue_session(SessionRequest {
                role_arn,
                role_id: &stable_role_id(role_arn),
                session_name: &format!("seed-{n}"),
                session_tags: BTreeMap::new(),
                transitive_tag_keys: BTreeSet::new(),
                duration: Duration::from_secs(3600),
                session_policy: None,
                session_policy_arns: Vec::new(),
            });
        }
        state.identities.session_count()
    }

    /// Associations in a cluster (0 for an unknown cluster).
    pub fn association_count(&self, cluster: &str) -> usize {
        self.store().state().clusters.get(cluster).map_or(0, Cluster::len)
    }

    /// A copy of a cluster's associations, in creation order.
    pub fn associations(&self, cluster: &str) -> Vec<Association> {
        let state = self.store().state();
        state
            .clusters
            .get(cluster)
            .map(|c| c.associations().cloned().collect())
            .unwrap_or_default()
    }
}
