//! A world for handler tests: the emulated EKS on loopback and the provider talking to it with aws-sdk-eks.
#![allow(dead_code)]

use std::sync::Arc;

use pia_emulator::{Emulator, EmulatorConfig};
use pia_handlers::Pacing;
use pia_provider::{Provider, eks_client};
use serde_json::{Value, json};

pub const ROLE: &str = "arn:aws:iam::111122223333:role/demo-pod-role";
pub const ROLE_2: &str = "arn:aws:iam::111122223333:role/demo-pod-role-2";
pub const TARGET_ROLE: &str = "arn:aws:iam::444455556666:role/cross-account-target";

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

    /// A world whose provider spaces create attempts as given.
    pub async fn with_pacing(config: EmulatorConfig, pacing: Pacing) -> Self {
        let emulator = Emulator::start(config).await.expect("emulator starts");
        let provider = Provider::with_pacing(eks_client::base_config_for(Some(emulator.endpoint())).await, pacing);
        Self { emulator, provider }
    }

    /// An SDK client of one of the emulated services, as the default IAM user `admin`.
    pub fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(self.emulator.endpoint())
            .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new(
                    pia_emulator::DEFAULT_ACCESS_KEY_ID,
                    pia_emulator::DEFAULT_SECRET_ACCESS_KEY,
                    None,
                    None,
                    "test",
                ),
            ))
            .build()
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
        role.role.unwrap().arn
    }

    /// Sends a request as JSON bytes, returns the ProgressEvent as it goes on the wire.
    pub async fn invoke(&self, request: &Value) -> Value {
        let event = self.provider.invoke(request.to_string().as_bytes()).await;
        serde_json::to_value(event).unwrap()
    }

    /// Invokes and returns the event together with the EKS calls it made.
    pub async fn invoke_counting(&self, request: &Value) -> (Value, Vec<(String, u64)>) {
        self.emulator.reset_calls();
        let event = self.invoke(request).await;
        (
            event,
            self.emulator
                .calls_snapshot()
                .into_iter()
                .filter(|(_, n)| *n > 0)
                .collect(),
        )
    }

    pub async fn create(&self, properties: Value) -> Value {
        let event = self.invoke(&request("CREATE", properties)).await;
        assert_eq!(event["status"], "SUCCESS", "{event}");
        event["resourceModel"].clone()
    }
}

pub fn desired() -> Value {
    json!({
        "ClusterName": "demo",
        "Namespace": "payments",
        "ServiceAccount": "api",
        "RoleArn": ROLE,
        "Tags": [{"Key": "team", "Value": "payments"}],
    })
}

/// A HandlerRequest as CloudFormation sends it, with a fresh bearer token.
pub fn request(action: &str, properties: Value) -> Value {
    json!({
        "action": action,
        "awsAccountId": "111122223333",
        "bearerToken": uuid_like(),
        "region": "us-east-1",
        "resourceType": "AWS::EKS::PodIdentityAssociation",
        "resourceTypeVersion": "00000001",
        "requestData": {
            "callerCredentials": {"accessKeyId": pia_emulator::DEFAULT_ACCESS_KEY_ID, "secretAccessKey": pia_emulator::DEFAULT_SECRET_ACCESS_KEY},
            "resourceProperties": properties,
            "logicalResourceId": "Association",
        },
        "stackId": "arn:aws:cloudformation:us-east-1:111122223333:stack/demo/1",
    })
}

/// Create attempts a few milliseconds apart, within a short window: an emulator recovers at once.
pub fn fast_pacing() -> Pacing {
    Pacing {
        role_poll_interval: std::time::Duration::from_millis(100),
        transient_pause: std::time::Duration::from_millis(1),
        window: std::time::Duration::from_secs(10),
        ..Pacing::default()
    }
}

/// CloudFormation's callback after IN_PROGRESS: same request (same bearer token), returned model and context.
pub fn callback(request: &Value, event: &Value) -> Value {
    let mut again = request.clone();
    again["callbackContext"] = event["callbackContext"].clone();
    again["requestData"]["resourceProperties"] = event["resourceModel"].clone();
    again
}

pub fn update_request(desired: Value, previous: Value) -> Value {
    let mut request = request("UPDATE", desired);
    request["requestData"]["previousResourceProperties"] = previous;
    request
}

pub fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!(
        "0000000-token-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

pub fn calls(pairs: &[(&str, u64)]) -> Vec<(String, u64)> {
    pairs.iter().map(|(op, n)| (op.to_string(), *n)).collect()
}

/// Tags of a model as a sorted list of (key, value).
pub fn tag_pairs(model: &Value) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = model["Tags"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|tag| {
            (
                tag["Key"].as_str().unwrap().to_owned(),
                tag["Value"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    pairs.sort();
    pairs
}
