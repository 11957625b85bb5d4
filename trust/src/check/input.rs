//! What a check is told about the association.

use thiserror::Error;

use crate::arn::{ClusterArn, RoleArn};
use crate::policy::PolicyDocument;

/// The association the trust policy is checked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckInput {
    pub cluster_arn: ClusterArn,
    /// The association's `DisableSessionTags`.
    pub disable_session_tags: bool,
    /// The association's namespace and service account, the values of two session tags. Without them,
    /// conditions on those tags are checked against placeholders and the report says so.
    pub namespace: Option<String>,
    pub service_account: Option<String>,
    /// The association's `RoleArn`, the role whose trust policy is checked. Needed for a target role check
    /// (it is the principal the target role must trust); also checked to be in the cluster's account.
    pub role_arn: Option<RoleArn>,
    pub target: Option<TargetRoleInput>,
}

impl CheckInput {
    /// An association of `cluster_arn` with session tags on and nothing else known.
    pub fn new(cluster_arn: ClusterArn) -> Self {
        Self {
            cluster_arn,
            disable_session_tags: false,
            namespace: None,
            service_account: None,
            role_arn: None,
            target: None,
        }
    }
}

/// The association's `TargetRoleArn`, for cross-account role chaining.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetRoleInput {
    pub target_role_arn: RoleArn,
    /// The target role's trust policy; without it, the report only says what it must contain.
    pub trust_policy: Option<PolicyDocument>,
    /// The association's `ExternalId` (EKS generates it). Without it, the value the policy's
    /// `sts:ExternalId` condition asks for is assumed, and the report says so.
    pub external_id: Option<String>,
}

/// Why a check could not be made.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CheckError {
    #[error(
        "checking the target role's trust policy needs the association's RoleArn, the principal that policy must trust"
    )]
    MissingRoleArn,
}
