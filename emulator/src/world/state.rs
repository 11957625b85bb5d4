//! The emulated world as one value: every service's data, and the behaviour switches. Everything here
//! is used under the one lock of [`super::store::Store`].

use std::collections::{BTreeMap, BTreeSet};

use super::cloudformation::Registry;
use super::eks::Cluster;
use super::eks_auth::Grants;
use super::iam::RoleRegistry;
use super::identities::Identities;
use super::journal::{Journal, Row};
use crate::config::EmulatorConfig;

/// Behaviour switches, from [`EmulatorConfig`], changeable at run time.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Settings {
    pub check_roles: bool,
    pub max_associations_per_cluster: usize,
    pub allow_system_tags: bool,
    /// Verify the SigV4 signature of every API request.
    pub verify_signatures: bool,
    /// Seconds before a role created through IAM becomes visible to EKS.
    pub role_propagation_seconds: f64,
}

#[derive(Debug)]
pub(crate) struct State {
    pub clusters: BTreeMap<String, Cluster>,
    pub roles: RoleRegistry,
    pub settings: Settings,
    pub identities: Identities,
    /// What EKS Auth handed out.
    pub pod_identity_grants: Grants,
    /// Types registered through the emulated CloudFormation registry.
    pub cloudformation: Registry,
    /// Rows changed by replacing whole clusters (each part of the world journals its own rows).
    journal: Journal,
}

impl State {
    pub fn new(config: &EmulatorConfig) -> Self {
        let mut roles = RoleRegistry::default();
        for role in &config.roles {
            roles.put(&role.arn, role.trust_policy.clone());
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
            settings: Settings {
                check_roles: config.check_roles,
                max_associations_per_cluster: config.max_associations_per_cluster,
                allow_system_tags: config.allow_system_tags,
                verify_signatures: config.verify_signatures,
                role_propagation_seconds: config.role_propagation_seconds,
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

    /// Every row changed since the last call, in an order that writes a cluster before its
    /// associations.
    pub fn take_changes(&mut self) -> BTreeSet<Row> {
        let mut rows = self.journal.take();
        for cluster in self.clusters.values_mut() {
            rows.append(&mut cluster.take_changes());
        }
        rows.append(&mut self.roles.take_changes());
        rows.append(&mut self.identities.take_changes());
        rows
    }
}
