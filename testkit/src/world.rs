//! The emulated AWS on loopback and the provider talking to it with aws-sdk-eks, as a handler test needs them.

use std::sync::Arc;
use std::time::Duration;

use pia_emulator::{Emulator, EmulatorConfig};
use pia_handlers::Pacing;
use pia_provider::{Provider, eks_client};
use serde_json::Value;

use crate::clients;

pub struct World {
    pub emulator: Emulator,
    pub provider: Arc<Provider>,
}

impl World {
    pub async fn start() -> Self {
        Self::with_config(EmulatorConfig::default()).await
    }

    pub async fn with_config(config: EmulatorConfig) -> Self {
        Self::with_pacing(config, Pacing::default()).await
    }

    /// A world whose provider spaces create attempts as given; the provider serves the emulator's
    /// `AWS::EKS::PodIdentityAssociation` (stacks, Cloud Control) too.
    pub async fn with_pacing(config: EmulatorConfig, pacing: Pacing) -> Self {
        let emulator = Emulator::start(config).await.expect("emulator starts");
        let provider = Provider::with_pacing(eks_client::base_config_for(Some(emulator.endpoint())).await, pacing);
        crate::provider_type::register_provider(&emulator, provider.clone())
            .expect("the bundled schema has a typeName");
        Self { emulator, provider }
    }

    /// The configuration of an SDK client of the emulated services, as the default IAM user `admin`.
    pub fn sdk_config(&self) -> aws_config::SdkConfig {
        clients::admin_config(&self.emulator.endpoint())
    }

    /// Creates a pod identity role through the emulated IAM, as a stack's AWS::IAM::Role does.
    pub async fn create_role(&self, name: &str) -> String {
        let iam = aws_sdk_iam::Client::new(&self.sdk_config());
        let role = iam
            .create_role()
            .role_name(name)
            .assume_role_policy_document(pia_emulator::pod_identity_trust_policy().to_string())
            .send()
            .await
            .expect("CreateRole");
        role.role.expect("a role").arn
    }

    /// Sends a request as JSON bytes, returns the ProgressEvent as it goes on the wire.
    pub async fn invoke(&self, request: &Value) -> Value {
        let event = self.provider.invoke(request.to_string().as_bytes()).await;
        serde_json::to_value(event).expect("a ProgressEvent is JSON")
    }

    /// Invokes and returns the event together with the EKS calls it made.
    pub async fn invoke_counting(&self, request: &Value) -> (Value, Vec<(String, u64)>) {
        self.emulator.reset_calls();
        let event = self.invoke(request).await;
        let made = self
            .emulator
            .calls_snapshot()
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .collect();
        (event, made)
    }

    /// Creates an association through the handler; its model.
    pub async fn create(&self, properties: Value) -> Value {
        let event = self.invoke(&crate::request("CREATE", properties)).await;
        assert_eq!(event["status"], "SUCCESS", "{event}");
        event["resourceModel"].clone()
    }
}

/// Create attempts a few milliseconds apart, within a short window: an emulator recovers at once.
pub fn fast_pacing() -> Pacing {
    Pacing {
        role_poll_interval: Duration::from_millis(100),
        transient_pause: Duration::from_millis(1),
        window: Duration::from_secs(10),
        ..Pacing::default()
    }
}
