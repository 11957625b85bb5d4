//! How an AWS SDK client reaches this emulator: every emulated service at the one endpoint, signed with a key the
//! emulator knows. Tests, the demo and the benchmark build their clients from this one configuration.

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_runtime_api::client::behavior_version::BehaviorVersion;
use aws_smithy_types::retry::RetryConfig;
use aws_types::SdkConfig;
use aws_types::region::Region;

use crate::config::{
    DEFAULT_ACCESS_KEY_ID, DEFAULT_REGION, DEFAULT_SECRET_ACCESS_KEY, NODE_ACCESS_KEY_ID, NODE_SECRET_ACCESS_KEY,
};

/// The configuration of an SDK client of any emulated service at `endpoint`, signing with `credentials` in the
/// default region, one attempt per call (a test sees each answer the emulator gives, retries its own).
pub fn sdk_config(endpoint: &str, credentials: Credentials) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(DEFAULT_REGION))
        .endpoint_url(endpoint)
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .retry_config(RetryConfig::disabled())
        .build()
}

/// The long-term key of the default configuration's user `admin`.
pub fn admin_credentials() -> Credentials {
    Credentials::new(
        DEFAULT_ACCESS_KEY_ID,
        DEFAULT_SECRET_ACCESS_KEY,
        None,
        None,
        "emulator-admin",
    )
}

/// The default config's key for calling EKS Auth directly, as a node would (the agent itself signs with
/// sessions of the node role, [`crate::config::DEFAULT_NODE_ROLE_ARN`]).
pub fn node_credentials() -> Credentials {
    Credentials::new(NODE_ACCESS_KEY_ID, NODE_SECRET_ACCESS_KEY, None, None, "emulator-node")
}
