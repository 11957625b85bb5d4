//! Emulator configuration: which clusters exist, which IAM roles are known, and the behaviour switches.
//!
//! Every field has a default, so a JSON config file only needs to name what it changes.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The account that [`EmulatorConfig::default`] uses.
pub const DEFAULT_ACCOUNT_ID: &str = "111122223333";
/// The region that [`EmulatorConfig::default`] uses.
pub const DEFAULT_REGION: &str = "us-east-1";
/// The partition that clusters get when none is given.
pub const DEFAULT_PARTITION: &str = "aws";
/// The name of the cluster that [`EmulatorConfig::default`] seeds.
pub const DEFAULT_CLUSTER: &str = "demo";
/// EKS's per-cluster quota of Pod Identity associations.
pub const DEFAULT_MAX_ASSOCIATIONS_PER_CLUSTER: usize = 5000;
/// The service principal that a pod identity role must trust.
pub const POD_IDENTITY_PRINCIPAL: &str = "pods.eks.amazonaws.com";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmulatorConfig {
    /// Port to bind on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Clusters that exist from the start.
    pub clusters: Vec<ClusterConfig>,
    /// Check role ARNs against the role registry and their trust policies.
    pub check_roles: bool,
    /// Quota of associations per cluster (EKS: 5,000).
    pub max_associations_per_cluster: usize,
    /// Roles known to the emulated IAM from the start.
    pub roles: Vec<RoleConfig>,
    /// Accept tag keys and values that begin with `aws:` (EKS rejects them).
    pub allow_system_tags: bool,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            port: 0,
            clusters: vec![ClusterConfig::new(DEFAULT_CLUSTER)],
            check_roles: true,
            max_associations_per_cluster: DEFAULT_MAX_ASSOCIATIONS_PER_CLUSTER,
            roles: vec![
                RoleConfig::pod_identity(format!(
                    "arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/demo-pod-role"
                )),
                RoleConfig::pod_identity(format!(
                    "arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/demo-pod-role-2"
                )),
            ],
            allow_system_tags: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    pub name: String,
    #[serde(default = "default_account_id")]
    pub account_id: String,
    #[serde(default = "default_region")]
    pub region: String,
    #[serde(default = "default_partition")]
    pub partition: String,
}

impl ClusterConfig {
    /// A cluster in the default account, region and partition.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            account_id: default_account_id(),
            region: default_region(),
            partition: default_partition(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleConfig {
    pub arn: String,
    #[serde(default = "pod_identity_trust_policy")]
    pub trust_policy: Value,
}

impl RoleConfig {
    /// A role with the standard pod identity trust policy.
    pub fn pod_identity(arn: impl Into<String>) -> Self {
        Self {
            arn: arn.into(),
            trust_policy: pod_identity_trust_policy(),
        }
    }
}

/// The trust policy that EKS documents for Pod Identity roles: the service principal
/// `pods.eks.amazonaws.com` may call `sts:AssumeRole` and `sts:TagSession`.
pub fn pod_identity_trust_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AllowEksAuthToAssumeRoleForPodIdentity",
            "Effect": "Allow",
            "Principal": { "Service": POD_IDENTITY_PRINCIPAL },
            "Action": ["sts:AssumeRole", "sts:TagSession"]
        }]
    })
}

fn default_account_id() -> String {
    DEFAULT_ACCOUNT_ID.to_owned()
}

fn default_region() -> String {
    DEFAULT_REGION.to_owned()
}

fn default_partition() -> String {
    DEFAULT_PARTITION.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_json_gives_the_defaults() {
        let config: EmulatorConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(config, EmulatorConfig::default());
        assert_eq!(config.clusters[0].name, "demo");
        assert_eq!(config.roles.len(), 2);
        assert!(config.check_roles);
    }

    #[test]
    fn partial_cluster_and_role_entries_are_filled_in() {
        let config: EmulatorConfig = serde_json::from_value(json!({
            "port": 4566,
            "clusters": [{"name": "prod", "region": "eu-west-1"}],
            "roles": [{"arn": "arn:aws:iam::111122223333:role/x"}],
            "check_roles": false,
        }))
        .unwrap();
        assert_eq!(config.port, 4566);
        assert_eq!(
            config.clusters,
            vec![ClusterConfig {
                region: "eu-west-1".into(),
                ..ClusterConfig::new("prod")
            }]
        );
        assert_eq!(config.roles[0].trust_policy, pod_identity_trust_policy());
        assert!(!config.check_roles);
        assert_eq!(config.max_associations_per_cluster, 5000);
    }
}
