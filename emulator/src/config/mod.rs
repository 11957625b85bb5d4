//! Emulator configuration: which clusters exist, which IAM roles and access keys are known, and the
//! behaviour switches.
//!
//! Every field has a default, so a JSON config file only needs to name what it changes.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub use crate::connection_limits::ConnectionLimits;
pub use check::ConfigProblem;
pub use faults::{ChaosSettings, FaultConfig};

mod check;
mod faults;

/// The JSON Schema of the configuration file, generated from these types: every key, its type, its default and
/// its documentation (the doc comments below).
pub fn json_schema() -> Value {
    serde_json::to_value(schemars::schema_for!(EmulatorConfig)).unwrap_or(Value::Null)
}

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
pub use pia_core::pod_identity::PRINCIPAL as POD_IDENTITY_PRINCIPAL;
/// The access key of the default config's IAM user `admin` in [`DEFAULT_ACCOUNT_ID`] (AWS's documentation
/// example key). Sign requests with it and [`DEFAULT_SECRET_ACCESS_KEY`], without a session token.
pub const DEFAULT_ACCESS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
/// The secret of [`DEFAULT_ACCESS_KEY_ID`].
pub const DEFAULT_SECRET_ACCESS_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
/// The user name of [`DEFAULT_ACCESS_KEY_ID`].
pub const DEFAULT_USER_NAME: &str = "admin";
/// The access key of the default config's IAM user `eks-pod-identity-agent`, for callers of EKS Auth other than
/// the agent (which signs with sessions of [`DEFAULT_NODE_ROLE_ARN`]).
pub const NODE_ACCESS_KEY_ID: &str = "AKIAEMULATORNODE0001";
/// The secret of [`NODE_ACCESS_KEY_ID`].
pub const NODE_SECRET_ACCESS_KEY: &str = "EmulatorNodeSecretKey/000000000000000001";
/// The user name of [`NODE_ACCESS_KEY_ID`].
pub const NODE_USER_NAME: &str = "eks-pod-identity-agent";
/// The role of the nodes that the Pod Identity Agent runs on (the instance profile's role); the agent calls
/// EKS Auth with sessions of it.
pub const DEFAULT_NODE_ROLE_ARN: &str = "arn:aws:iam::111122223333:role/eks-pod-identity-node";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
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
    /// Long-term access keys of IAM users. Replaces the default keys when given.
    pub access_keys: Vec<AccessKeyConfig>,
    /// IAM users and their permission policies. A key's user that is not listed here has no policies, so it may do
    /// nothing that needs a permission. Replaces the default users when given.
    pub users: Vec<UserConfig>,
    /// Authorize every EKS, EKS Auth, IAM and STS request with the caller's identity-based and session policies, as
    /// IAM does.
    pub authorize_requests: bool,
    /// Check the SigV4 signature of every EKS, EKS Auth, IAM and STS request, as AWS does.
    pub verify_signatures: bool,
    /// Seconds before a role created through IAM's CreateRole becomes visible to EKS, as IAM propagation takes on
    /// AWS (until then EKS answers "Role provided in the request does not exist"). Roles of this configuration are
    /// visible from the start.
    pub role_propagation_seconds: f64,
    /// Seconds before a created or updated association is effective for EKS Auth (EKS documents a few seconds of
    /// eventual consistency): until then EKS Auth answers as for a service account without an association (a new
    /// one) or uses the association as it was (an update). Deletes are effective at once.
    pub association_propagation_seconds: f64,
    /// The Systems Manager parameters stacks read for `AWS::SSM::Parameter::Value<…>` parameters: name → value. The
    /// default holds what CDK's bootstrap stack sets (`/cdk-bootstrap/hnb659fds/version`), so that CDK's synthesized
    /// templates pass their bootstrap version rule.
    pub ssm_parameters: BTreeMap<String, String>,
    /// Stacks and Cloud Control wait a handler's callback delay divided by this before calling it again (1: as
    /// CloudFormation waits; 10: ten times faster). At least 1.
    pub callback_time_compression: f64,
    /// The SQLite database that keeps the world across runs (clusters, associations, client request tokens,
    /// roles, issued sessions): created if missing, loaded at start (its clusters and roles win over
    /// configured ones of the same name), written row by row in one transaction per change. User keys always
    /// come from `access_keys`, never from it.
    pub state_file: Option<std::path::PathBuf>,
    /// The nodes' IAM role, seeded trusting `ec2.amazonaws.com`: the Pod Identity Agent signs its EKS Auth calls
    /// with temporary credentials of sessions of it, as an instance profile gives a node.
    pub node_role_arn: String,
    /// Timeouts and the connection cap of every listener (the APIs, the agent and its probes).
    pub connection_limits: ConnectionLimits,
    /// Faults for the first requests of an operation, from the start (what `pia emulator --fault` adds to).
    pub faults: Vec<FaultConfig>,
    /// Seeded random faults for the requests no scripted fault hits; none by default.
    pub chaos: Option<ChaosSettings>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            port: 0,
            clusters: vec![ClusterConfig::new(DEFAULT_CLUSTER)],
            check_roles: true,
            max_associations_per_cluster: DEFAULT_MAX_ASSOCIATIONS_PER_CLUSTER,
            roles: vec![
                RoleConfig::pod_identity(format!("arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/demo-pod-role")),
                RoleConfig::pod_identity(format!("arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/demo-pod-role-2")),
            ],
            allow_system_tags: false,
            access_keys: vec![
                AccessKeyConfig::new(DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY, DEFAULT_USER_NAME),
                AccessKeyConfig::new(NODE_ACCESS_KEY_ID, NODE_SECRET_ACCESS_KEY, NODE_USER_NAME),
            ],
            users: vec![
                UserConfig::with_policy(DEFAULT_USER_NAME, ADMINISTRATOR_ACCESS),
                UserConfig::with_policy(NODE_USER_NAME, WORKER_NODE_POLICY),
            ],
            authorize_requests: true,
            verify_signatures: true,
            role_propagation_seconds: 0.0,
            association_propagation_seconds: 0.0,
            callback_time_compression: 1.0,
            ssm_parameters: BTreeMap::from([(CDK_BOOTSTRAP_VERSION_PARAMETER.to_owned(), "21".to_owned())]),
            state_file: None,
            node_role_arn: DEFAULT_NODE_ROLE_ARN.to_owned(),
            connection_limits: ConnectionLimits::default(),
            faults: Vec::new(),
            chaos: None,
        }
    }
}

/// The parameter CDK's bootstrap stack sets (default qualifier) and its synthesized templates check.
pub const CDK_BOOTSTRAP_VERSION_PARAMETER: &str = "/cdk-bootstrap/hnb659fds/version";

/// The AWS managed policy that allows everything.
pub const ADMINISTRATOR_ACCESS: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
/// The AWS managed policy of EKS nodes (it allows `eks-auth:AssumeRoleForPodIdentity`).
pub const WORKER_NODE_POLICY: &str = "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy";

/// An IAM user and its permission policies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// The user's name (`arn:aws:iam::ACCOUNT:user/NAME`).
    pub user_name: String,
    /// The user's account.
    #[serde(default = "default_account_id")]
    pub account_id: String,
    /// Managed policies attached to the user: AWS managed (`arn:aws:iam::aws:policy/…`) or the account's own.
    #[serde(default)]
    pub managed_policy_arns: Vec<String>,
    /// Inline policies: name → policy document.
    #[serde(default)]
    pub inline_policies: BTreeMap<String, Value>,
}

impl UserConfig {
    /// A user of the default account with one managed policy.
    pub fn with_policy(user_name: impl Into<String>, policy_arn: impl Into<String>) -> Self {
        Self {
            user_name: user_name.into(),
            account_id: default_account_id(),
            managed_policy_arns: vec![policy_arn.into()],
            inline_policies: BTreeMap::new(),
        }
    }
}

/// A long-term access key of an IAM user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessKeyConfig {
    /// The key id requests are signed with (`AWS_ACCESS_KEY_ID`).
    pub access_key_id: String,
    /// Its secret (`AWS_SECRET_ACCESS_KEY`).
    pub secret_access_key: String,
    /// The account of the key's user.
    #[serde(default = "default_account_id")]
    pub account_id: String,
    /// The user the key belongs to (its policies are in `users`).
    #[serde(default = "default_user_name")]
    pub user_name: String,
}

impl AccessKeyConfig {
    /// A key of a user in the default account.
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        user_name: impl Into<String>,
    ) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            account_id: default_account_id(),
            user_name: user_name.into(),
        }
    }
}

/// An EKS cluster that exists from the start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    /// The cluster's name, unique in the configuration.
    pub name: String,
    /// The account the cluster is in.
    #[serde(default = "default_account_id")]
    pub account_id: String,
    /// The cluster's region.
    #[serde(default = "default_region")]
    pub region: String,
    /// The region's partition (`aws`, `aws-cn`, `aws-us-gov`).
    #[serde(default = "default_partition")]
    pub partition: String,
    /// The cluster's OIDC issuer URL (the `iss` of its service-account tokens); `None`:
    /// `https://oidc.eks.{region}.amazonaws.com/id/{32 hex}`, new at every start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_issuer: Option<String>,
    /// The cluster's service-account signing key, RSA (2048 bits or more), PEM (PKCS#1 or PKCS#8);
    /// `None`: a new key, generated when the cluster first signs or verifies a token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_key_pem: Option<String>,
}

impl ClusterConfig {
    /// A cluster in the default account, region and partition.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            account_id: default_account_id(),
            region: default_region(),
            partition: default_partition(),
            oidc_issuer: None,
            signing_key_pem: None,
        }
    }
}

/// An IAM role known from the start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleConfig {
    /// The role's ARN (`arn:aws:iam::ACCOUNT:role/NAME`).
    pub arn: String,
    /// The role's trust policy; default: the pod identity trust policy (`pods.eks.amazonaws.com` may
    /// `sts:AssumeRole` and `sts:TagSession`).
    #[serde(default = "pod_identity_trust_policy")]
    pub trust_policy: Value,
    /// Managed policies attached to the role.
    #[serde(default)]
    pub managed_policy_arns: Vec<String>,
    /// Inline permission policies: name → policy document.
    #[serde(default)]
    pub inline_policies: BTreeMap<String, Value>,
}

impl RoleConfig {
    /// A role with the standard pod identity trust policy.
    pub fn pod_identity(arn: impl Into<String>) -> Self {
        Self {
            arn: arn.into(),
            trust_policy: pod_identity_trust_policy(),
            managed_policy_arns: Vec::new(),
            inline_policies: BTreeMap::new(),
        }
    }
}

/// The trust policy that EKS documents for Pod Identity roles: the service principal
/// `pods.eks.amazonaws.com` may call `sts:AssumeRole` and `sts:TagSession`. Written by the trust tooling's
/// generator, so that the emulator's default roles are exactly what `pia trust generate` prints.
pub fn pod_identity_trust_policy() -> Value {
    pia_trust::pod_identity_trust_policy(None, None)
        .map(|policy| policy.to_value())
        // Without an account or a cluster there is nothing to validate, so the generator cannot refuse.
        .unwrap_or_else(|_| json!({}))
}

fn default_account_id() -> String {
    DEFAULT_ACCOUNT_ID.to_owned()
}

fn default_user_name() -> String {
    DEFAULT_USER_NAME.to_owned()
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
        assert!(config.verify_signatures);
        assert_eq!(config.access_keys[0].access_key_id, DEFAULT_ACCESS_KEY_ID);
        assert_eq!(config.state_file, None);
    }

    #[test]
    fn access_keys_default_to_the_default_account_and_user() {
        let config: EmulatorConfig = serde_json::from_value(json!({
            "access_keys": [{"access_key_id": "AKIAOTHER", "secret_access_key": "s"}],
            "verify_signatures": false,
            "state_file": "/tmp/x.json",
        }))
        .unwrap();
        assert_eq!(
            config.access_keys,
            vec![AccessKeyConfig::new("AKIAOTHER", "s", "admin")]
        );
        assert!(!config.verify_signatures);
        assert_eq!(config.state_file.as_deref(), Some(std::path::Path::new("/tmp/x.json")));
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
