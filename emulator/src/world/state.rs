//! The emulated world as one value: every service's data, and the behaviour switches. Everything here
//! is used under the one lock of [`super::store::Store`].

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::cloudformation::Registry;
use super::eks::Cluster;
use super::eks_auth::Grants;
use super::iam::RoleRegistry;
use super::iam_policies::{InlinePolicies, PolicyRegistry};
use super::iam_users::{User, UserRegistry};
use super::identities::Identities;
use super::journal::{Journal, Row};
use super::stacks::Stacks;
use crate::config::{EmulatorConfig, UserConfig, WORKER_NODE_POLICY};

/// Behaviour switches, from [`EmulatorConfig`], changeable at run time.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Settings {
    pub check_roles: bool,
    pub max_associations_per_cluster: usize,
    pub allow_system_tags: bool,
    /// Verify the SigV4 signature of every API request.
    pub verify_signatures: bool,
    /// Authorize every API request with the caller's policies.
    pub authorize_requests: bool,
    /// Seconds before a role created through IAM becomes visible to EKS.
    pub role_propagation_seconds: f64,
    /// The Systems Manager parameters stacks read.
    pub ssm_parameters: BTreeMap<String, String>,
    /// Callback delays are divided by this.
    pub callback_time_compression: f64,
    /// Seconds before an association's create or update is effective for EKS Auth.
    pub association_propagation_seconds: f64,
}

#[derive(Debug)]
pub(crate) struct State {
    pub clusters: BTreeMap<String, Cluster>,
    pub roles: RoleRegistry,
    pub users: UserRegistry,
    /// Customer managed policies.
    pub policies: PolicyRegistry,
    /// CloudFormation's stacks.
    pub stacks: Stacks,
    pub settings: Settings,
    pub identities: Identities,
    /// What EKS Auth handed out.
    pub pod_identity_grants: Grants,
    /// Types registered through the emulated CloudFormation registry.
    pub cloudformation: Registry,
    /// The role whose sessions the Pod Identity Agent calls EKS Auth with.
    pub node_role_arn: String,
    /// Rows changed by replacing whole clusters (each part of the world journals its own rows).
    journal: Journal,
}

impl State {
    pub fn new(config: &EmulatorConfig) -> Self {
        let mut roles = RoleRegistry::default();
        seed_node_role(&mut roles, &config.node_role_arn);
        for role in &config.roles {
            roles.put(&role.arn, role.trust_policy.clone());
            if let Some(seeded) = roles.get_mut(&role.arn) {
                seeded.attached_policies = role.managed_policy_arns.clone();
                seeded.inline_policies = inline_documents(&role.inline_policies);
            }
        }
        let mut users = UserRegistry::default();
        for user in &config.users {
            users.insert(user_of(user));
        }
        let mut identities = Identities::default();
        for key in &config.access_keys {
            identities.add_user_key(
                &key.access_key_id,
                &key.secret_access_key,
                &key.account_id,
                &key.user_name,
            );
        }
        let mut state = Self {
            identities,
            pod_identity_grants: Grants::default(),
            cloudformation: Registry::default(),
            clusters: BTreeMap::new(),
            journal: Journal::default(),
            roles,
            users,
            policies: PolicyRegistry::default(),
            stacks: Stacks::default(),
            node_role_arn: config.node_role_arn.clone(),
            settings: Settings {
                check_roles: config.check_roles,
                max_associations_per_cluster: config.max_associations_per_cluster,
                allow_system_tags: config.allow_system_tags,
                verify_signatures: config.verify_signatures,
                authorize_requests: config.authorize_requests,
                role_propagation_seconds: config.role_propagation_seconds,
                ssm_parameters: config.ssm_parameters.clone(),
                callback_time_compression: config.callback_time_compression,
                association_propagation_seconds: config.association_propagation_seconds,
            },
        };
        for cluster in &config.clusters {
            state.put_cluster(Cluster::new(cluster));
        }
        state
    }

    /// Adds a cluster, replacing one of the same name with its associations.
    pub fn put_cluster(&mut self, cluster: Cluster) {
        self.journal.record(Row::Cluster(cluster.name.clone()));
        if let Some(replaced) = self.clusters.insert(cluster.name.clone(), cluster) {
            for row in replaced.rows() {
                self.journal.record(row);
            }
        }
    }

    /// Removes a cluster with its associations and tokens.
    pub fn remove_cluster(&mut self, name: &str) -> Option<Cluster> {
        let removed = self.clusters.remove(name)?;
        for row in removed.rows() {
            self.journal.record(row);
        }
        Some(removed)
    }

    /// Every row changed since the last call, in an order that writes a cluster before its
    /// associations.
    pub fn take_changes(&mut self) -> BTreeSet<Row> {
        let mut rows = self.journal.take();
        for cluster in self.clusters.values_mut() {
            rows.append(&mut cluster.take_changes());
        }
        rows.append(&mut self.roles.take_changes());
        rows.append(&mut self.policies.take_changes());
        rows.append(&mut self.stacks.take_changes());
        rows.append(&mut self.identities.take_changes());
        rows
    }
}

/// The user a configuration entry describes, with its policies.
pub(crate) fn user_of(config: &UserConfig) -> User {
    User {
        attached_policies: config.managed_policy_arns.clone(),
        inline_policies: inline_documents(&config.inline_policies),
        ..User::new(&config.account_id, &config.user_name)
    }
}

/// Inline policies of the configuration (documents as JSON values, or strings holding them) as IAM keeps them.
fn inline_documents(policies: &BTreeMap<String, serde_json::Value>) -> InlinePolicies {
    policies
        .iter()
        .map(|(name, document)| {
            let text = match document {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            (name.clone(), text)
        })
        .collect()
}

/// The nodes' role, as an instance profile's: trusted by EC2, with the policy EKS nodes have (it allows
/// `eks-auth:AssumeRoleForPodIdentity`); a role of the config with the same ARN replaces it.
fn seed_node_role(roles: &mut RoleRegistry, arn: &str) {
    roles.put(
        arn,
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }],
        }),
    );
    if let Some(role) = roles.get_mut(arn) {
        role.attached_policies = vec![WORKER_NODE_POLICY.to_owned()];
    }
}
