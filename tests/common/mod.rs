//! A world for handler tests: the emulated EKS on loopback and the provider talking to it with aws-sdk-eks.
#![allow(dead_code)]

use std::sync::Arc;

use pia_emulator::{Emulator, EmulatorConfig};
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
        let emulator = Emulator::start(config).await.expect("emulator starts");
        let provider = Provider::new(eks_client::base_config_for(Some(emulator.endpoint())).await);
        Self { emulator, provider }
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
