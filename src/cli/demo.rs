//! The main job: a full create → read → update → list → delete of an association through the handlers, as
//! CloudFormation would drive them, against the built-in emulated EKS; each step printed readably.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use pia_emulator::{Emulator, EmulatorConfig};
use pia_handlers::ProgressEvent;
use serde_json::{json, Value};

use super::CliError;
use crate::eks_client;
use crate::provider::Provider;

const ROLE: &str = "arn:aws:iam::111122223333:role/demo-pod-role";
const NEW_ROLE: &str = "arn:aws:iam::111122223333:role/demo-pod-role-2";

pub async fn run() -> Result<ExitCode, CliError> {
    let emulator = Emulator::start(EmulatorConfig::default()).await.map_err(|e| CliError::Start(e.to_string()))?;
    let provider = Provider::new(eks_client::base_config_for(Some(emulator.endpoint())).await);
    println!("Emulated EKS on {} (cluster \"demo\", account 111122223333)\n", emulator.endpoint());

    let desired = json!({
        "ClusterName": "demo",
        "Namespace": "payments",
        "ServiceAccount": "api",
        "RoleArn": ROLE,
        "Tags": [{"Key": "team", "Value": "payments"}],
    });
    let demo = Demo { emulator: &emulator, provider };

    let created = demo.step("CREATE", request("CREATE", &desired, None), "SUCCESS").await?;
    let model = created.resource_model.map(|m| serde_json::to_value(m).unwrap_or_default()).unwrap_or_default();
    demo.step("READ", request("READ", &json!({"AssociationArn": model["AssociationArn"]}), None), "SUCCESS").await?;

    let mut updated = model.clone();
    updated["RoleArn"] = json!(NEW_ROLE);
    updated["Tags"] = json!([{"Key": "team", "Value": "payments"}, {"Key": "cost-center", "Value": "42"}]);
    demo.step("UPDATE (new role, one tag added)", request("UPDATE", &updated, Some(&model)), "SUCCESS").await?;

    let mut retagged = updated.clone();
    retagged["Tags"] = json!([{"Key": "team", "Value": "checkout"}]);
    demo.step("UPDATE (tags only)", request("UPDATE", &retagged, Some(&updated)), "SUCCESS").await?;

    demo.step("LIST", request("LIST", &json!({"ClusterName": "demo"}), None), "SUCCESS").await?;
    demo.step("DELETE", request("DELETE", &retagged, None), "SUCCESS").await?;
    demo.step("READ after delete", request("READ", &retagged, None), "FAILED").await?;
    demo.step("DELETE again", request("DELETE", &retagged, None), "FAILED").await?;

    println!("All steps behaved as CloudFormation expects.");
    emulator.shutdown();
    Ok(ExitCode::SUCCESS)
}

struct Demo<'a> {
    emulator: &'a Emulator,
    provider: Arc<Provider>,
}

impl Demo<'_> {
    /// Invokes the handler with a wire request, prints what happened and the EKS calls it took.
    async fn step(&self, title: &str, request: Value, expected: &str) -> Result<ProgressEvent, CliError> {
        self.emulator.reset_calls();
        let started = Instant::now();
        let event = self.provider.invoke(request.to_string().as_bytes()).await;
        let elapsed = started.elapsed();
        let calls: Vec<String> = self
            .emulator
            .calls_snapshot()
            .into_iter()
            .map(|(operation, count)| if count == 1 { operation } else { format!("{operation} ×{count}") })
            .collect();
        let status = event.status.as_str();
        let outcome = match &event.error_code {
            Some(code) => format!("{status} {}", code.as_str()),
            None => status.to_owned(),
        };
        println!("▶ {title:<34} {outcome:<20} {:>6.1} ms   EKS: {}", elapsed.as_secs_f64() * 1e3, calls.join(", "));
        if let Some(model) = &event.resource_model {
            print_model(&serde_json::to_value(model).unwrap_or_default());
        }
        for model in event.resource_models.iter().flatten() {
            println!("    - {}", model.association_arn.as_deref().unwrap_or("?"));
        }
        if let Some(message) = &event.message {
            println!("    {message}");
        }
        println!();
        if status != expected {
            return Err(CliError::Demo(format!("{title}: expected {expected}, got {outcome}")));
        }
        Ok(event)
    }
}

fn print_model(model: &Value) {
    for (key, value) in model.as_object().into_iter().flatten() {
        let shown = match value {
            Value::String(text) => text.clone(),
            Value::Array(tags) => tags
                .iter()
                .map(|tag| format!("{}={}", tag["Key"].as_str().unwrap_or(""), tag["Value"].as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(", "),
            other => other.to_string(),
        };
        println!("    {key:<20} {shown}");
    }
}

/// A HandlerRequest as CloudFormation sends it.
fn request(action: &str, properties: &Value, previous: Option<&Value>) -> Value {
    json!({
        "action": action,
        "awsAccountId": "111122223333",
        "bearerToken": format!("demo-{action}-token"),
        "region": "us-east-1",
        "resourceType": "AWS::EKS::PodIdentityAssociation",
        "requestData": {
            "callerCredentials": {"accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
            "resourceProperties": properties,
            "previousResourceProperties": previous,
            "stackTags": {"stack": "pod-identity-demo"},
            "previousStackTags": {"stack": "pod-identity-demo"},
            "logicalResourceId": "ApiPodIdentity"
        }
    })
}
