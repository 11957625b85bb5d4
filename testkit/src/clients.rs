//! SDK clients of the emulated services, signed with the keys the emulator knows.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;

/// The configuration of an SDK client of every emulated service at `endpoint`, as the emulator's user `admin`.
pub fn admin_config(endpoint: &str) -> SdkConfig {
    config(
        endpoint,
        Credentials::new(
            pia_emulator::DEFAULT_ACCESS_KEY_ID,
            pia_emulator::DEFAULT_SECRET_ACCESS_KEY,
            None,
            None,
            "emulator-admin",
        ),
    )
}

/// The configuration of an SDK client at `endpoint` signing with `credentials`, in the emulator's default region.
pub fn config(endpoint: &str, credentials: Credentials) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(pia_emulator::config::DEFAULT_REGION))
        .endpoint_url(endpoint)
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .build()
}

/// An EKS client of the emulator at `endpoint`, as `admin`.
pub fn eks(endpoint: &str) -> aws_sdk_eks::Client {
    aws_sdk_eks::Client::new(&admin_config(endpoint))
}

/// An IAM client of the emulator at `endpoint`, as `admin`.
pub fn iam(endpoint: &str) -> aws_sdk_iam::Client {
    aws_sdk_iam::Client::new(&admin_config(endpoint))
}
