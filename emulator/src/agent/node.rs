//! The node's identity: what a node's instance profile gives the real agent, temporary credentials of a session of
//! the nodes' IAM role (the emulator's `node_role_arn`), issued by the emulator's store. The SDK's identity cache
//! holds them and asks for new ones [`RENEW_BEFORE_EXPIRY`] before they expire.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, future};

use crate::world::store::Store;

/// How long a node session lasts (instance profile credentials last hours; an hour keeps renewals visible).
const SESSION_LIFETIME: Duration = Duration::from_secs(3600);
/// The SDK's identity cache renews the node's credentials this long before they expire.
pub(crate) const RENEW_BEFORE_EXPIRY: Duration = Duration::from_secs(300);

pub(crate) struct NodeRoleCredentials {
    store: Arc<Store>,
    role_arn: String,
    /// The node's instance id, the session name EC2 gives an instance profile's sessions.
    instance_id: String,
}

impl std::fmt::Debug for NodeRoleCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeRoleCredentials")
            .field("role_arn", &self.role_arn)
            .field("instance_id", &self.instance_id)
            .finish_non_exhaustive()
    }
}

impl NodeRoleCredentials {
    pub(crate) fn new(store: Arc<Store>) -> Self {
        let role_arn = store.state().node_role_arn.clone();
        let instance_id = format!("i-{}", &uuid::Uuid::new_v4().simple().to_string()[..17]);
        Self {
            store,
            role_arn,
            instance_id,
        }
    }

    pub(crate) fn role_arn(&self) -> &str {
        &self.role_arn
    }
}

impl ProvideCredentials for NodeRoleCredentials {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        let issued = self.store.issue_role_session(
            &self.role_arn,
            &self.instance_id,
            BTreeMap::new(),
            SESSION_LIFETIME,
            None,
        );
        tracing::debug!(role = %self.role_arn, "node role session issued for the agent");
        future::ProvideCredentials::ready(Ok(Credentials::new(
            issued.access_key_id,
            issued.secret_access_key,
            Some(issued.session_token),
            Some(issued.expiration),
            "pia-agent-node-role",
        )))
    }
}
