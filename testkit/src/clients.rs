//! SDK clients of the emulated services, from the emulator's own client configuration.

use aws_config::SdkConfig;

/// The configuration of an SDK client of every emulated service at `endpoint`, as the emulator's user `admin`,
/// with the SDK's standard retries (the provider's clients retry; so do these).
pub fn admin_config(endpoint: &str) -> SdkConfig {
    pia_emulator::clients::sdk_config(endpoint, pia_emulator::clients::admin_credentials())
        .into_builder()
        .retry_config(aws_config::retry::RetryConfig::standard())
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
