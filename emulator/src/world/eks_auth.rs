//! EKS Auth's data: the grants that AssumeRoleForPodIdentity handed out, kept for tests to inspect.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::SystemTime;

use serde::Serialize;

/// The grants kept (the oldest go first).
pub(crate) const MAX_GRANTS_KEPT: usize = 10_000;

/// What one successful AssumeRoleForPodIdentity handed out (never the secret or session token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodIdentityGrant {
    pub cluster: String,
    pub namespace: String,
    pub service_account: String,
    pub pod_name: String,
    pub pod_uid: String,
    pub association_id: String,
    pub association_arn: String,
    /// The association's role (the first hop).
    pub role_arn: String,
    /// The session of `role_arn` (with a target role, the pod never sees it).
    pub role_session_arn: String,
    pub target_role_arn: Option<String>,
    /// The role session the pod got (of the target role, if any).
    pub assumed_role_arn: String,
    pub assumed_role_id: String,
    pub access_key_id: String,
    /// Its session tags (empty with DisableSessionTags).
    pub session_tags: BTreeMap<String, String>,
    pub transitive_tag_keys: BTreeSet<String>,
    /// The association's inline session policy, recorded (not enforced).
    pub policy: Option<String>,
    pub expiration: SystemTime,
}

/// The last [`MAX_GRANTS_KEPT`] grants, oldest first.
#[derive(Debug, Default)]
pub(crate) struct Grants(VecDeque<PodIdentityGrant>);

impl Grants {
    pub fn record(&mut self, grant: PodIdentityGrant) {
        if self.0.len() >= MAX_GRANTS_KEPT {
            self.0.pop_front();
        }
        self.0.push_back(grant);
    }

    pub fn to_vec(&self) -> Vec<PodIdentityGrant> {
        self.0.iter().cloned().collect()
    }
}
