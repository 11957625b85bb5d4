//! A cluster's own fields as its row's JSON (its associations and tokens have rows of their own).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::ClusterConfig;
use crate::world::control_plane::ControlPlane;
use crate::world::eks::Cluster;

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct ClusterRecord {
    name: String,
    account_id: String,
    region: String,
    partition: String,
    arn: String,
    created_at: f64,
    version: String,
    endpoint: String,
    oidc_issuer: String,
    /// The service-account issuer key, so that tokens minted before a restart stay valid.
    signing_key_pem: Option<String>,
    tags: BTreeMap<String, String>,
    /// The list position the next association gets.
    next_seq: u64,
    /// Role, certificate authority, networking, logging and access: the same after a restart, so that a kubeconfig
    /// written before it stays valid. (Rows of earlier versions have none: the cluster keeps the new one it got.)
    #[serde(default)]
    control_plane: Option<ControlPlane>,
}

impl From<&Cluster> for ClusterRecord {
    fn from(cluster: &Cluster) -> Self {
        Self {
            name: cluster.name.clone(),
            account_id: cluster.account_id.clone(),
            region: cluster.region.clone(),
            partition: cluster.partition.clone(),
            arn: cluster.arn.clone(),
            created_at: cluster.created_at,
            version: cluster.version.clone(),
            endpoint: cluster.endpoint.clone(),
            oidc_issuer: cluster.oidc_issuer.clone(),
            signing_key_pem: cluster.signing_key.private_key_pem().ok(),
            tags: cluster.tags().clone(),
            next_seq: cluster.next_seq(),
            control_plane: Some(cluster.control_plane.clone()),
        }
    }
}

impl ClusterRecord {
    /// The cluster, without its associations and tokens yet.
    pub fn into_cluster(self) -> Cluster {
        let mut cluster = Cluster::new(&ClusterConfig {
            name: self.name,
            account_id: self.account_id,
            region: self.region,
            partition: self.partition,
            signing_key_pem: self.signing_key_pem,
            ..ClusterConfig::new("")
        });
        cluster.arn = self.arn;
        cluster.created_at = self.created_at;
        cluster.version = self.version;
        cluster.endpoint = self.endpoint;
        cluster.oidc_issuer = self.oidc_issuer;
        *cluster.tags_mut() = self.tags;
        if let Some(control_plane) = self.control_plane {
            cluster.control_plane = control_plane;
        }
        cluster.restore_next_seq(self.next_seq);
        cluster
    }
}
