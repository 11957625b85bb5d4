//! The main job: a full create → read → update → list → delete of an association through the handlers, as
//! CloudFormation would drive them, against the built-in emulated EKS; between the steps, pods of the service
//! account get credentials the way EKS Pod Identity gives them (webhook, projected token, agent, EKS Auth), seen
//! by a real AWS SDK in a separate process. Each step printed readably.
//!
//! Last, the same as CloudFormation makes it: the example template deployed as a stack, a pod getting the stack's
//! role, the stack deleted.
//!
//! The world runs with small propagation delays, as AWS has them: a role made through IAM is seen by EKS a few
//! seconds later (the create's handler waits for it), and an association's create or update reaches EKS Auth a few
//! seconds after the EKS call returned (pods started at once still get the old answer).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pia_emulator::agent::{Agent, AgentConfig};
use pia_emulator::tokens::TokenRequest;
use pia_emulator::webhook;
use pia_emulator::{Emulator, EmulatorConfig};
use pia_handlers::ProgressEvent;
use serde_json::{Value, json};

use crate::CliError;
use pia_provider::Provider;
use pia_provider::eks_client;
use pia_testkit::ROLE_2 as NEW_ROLE;
use pia_testkit::provider_type::register_provider;

mod stack;

/// How long a role made through IAM takes to be seen by EKS in the demo (IAM propagation; seconds on AWS).
const ROLE_PROPAGATION_SECONDS: f64 = 3.0;
/// How long an association's create or update takes to reach EKS Auth in the demo ("several seconds", EKS says).
const ASSOCIATION_PROPAGATION_SECONDS: f64 = 2.0;

pub async fn run() -> Result<ExitCode, CliError> {
    let emulator = Emulator::start(EmulatorConfig {
        role_propagation_seconds: ROLE_PROPAGATION_SECONDS,
        association_propagation_seconds: ASSOCIATION_PROPAGATION_SECONDS,
        ..EmulatorConfig::default()
    })
    .await
    .map_err(|e| CliError::Start(e.to_string()))?;
    let provider = Provider::new(eks_client::base_config_for(Some(emulator.endpoint())).await);
    register_provider(&emulator, provider.clone())
        .ok_or_else(|| CliError::Start("the bundled resource schema has no typeName".into()))?;
    println!(
        "Emulated EKS on {} (cluster \"demo\", account 111122223333)",
        emulator.endpoint()
    );
    println!(
        "Delays as on AWS: EKS sees a role created through IAM {ROLE_PROPAGATION_SECONDS} s later (IAM propagation), \
         and EKS Auth an association's create or update {ASSOCIATION_PROPAGATION_SECONDS} s later (eventual consistency).\n"
    );

    let role = create_role(&emulator, "payments-api").await?;
    let desired = json!({
        "ClusterName": "demo",
        "Namespace": "payments",
        "ServiceAccount": "api",
        "RoleArn": role,
        "Tags": [{"Key": "team", "Value": "payments"}],
    });
    let agent = emulator
        .start_agent(AgentConfig::default())
        .await
        .map_err(|e| CliError::Start(e.to_string()))?;
    let demo = Demo {
        emulator: &emulator,
        provider,
        agent,
    };

    let created = demo
        .step("CREATE", request("CREATE", &desired, None), "SUCCESS")
        .await?;
    let refused = emulator
        .call_log()
        .iter()
        .filter(|call| *call == "CreatePodIdentityAssociation")
        .count()
        .saturating_sub(1);
    if refused > 0 {
        println!(
            "    (EKS did not see the new role yet and refused it {refused}×: the handler polled until IAM propagation made it visible)\n"
        );
    }
    let model = created
        .resource_model
        .map(|m| serde_json::to_value(m).unwrap_or_default())
        .unwrap_or_default();
    demo.step(
        "READ",
        request("READ", &json!({"AssociationArn": model["AssociationArn"]}), None),
        "SUCCESS",
    )
    .await?;
    demo.pod(
        "api-7d9f4",
        Expect::Propagating {
            before: None,
            after: &role,
        },
    )
    .await?;
    demo.wait_for_propagation().await;
    demo.pod("api-3f6c1", Expect::Role(&role)).await?;

    let mut updated = model.clone();
    updated["RoleArn"] = json!(NEW_ROLE);
    updated["Tags"] = json!([{"Key": "team", "Value": "payments"}, {"Key": "cost-center", "Value": "42"}]);
    demo.step(
        "UPDATE (new role, one tag added)",
        request("UPDATE", &updated, Some(&model)),
        "SUCCESS",
    )
    .await?;
    demo.pod(
        "api-5c8b2",
        Expect::Propagating {
            before: Some(&role),
            after: NEW_ROLE,
        },
    )
    .await?;
    demo.wait_for_propagation().await;
    demo.pod("api-8d2e6", Expect::Role(NEW_ROLE)).await?;

    let mut retagged = updated.clone();
    retagged["Tags"] = json!([{"Key": "team", "Value": "checkout"}]);
    demo.step(
        "UPDATE (tags only)",
        request("UPDATE", &retagged, Some(&updated)),
        "SUCCESS",
    )
    .await?;

    demo.step(
        "LIST",
        request("LIST", &json!({"ClusterName": "demo"}), None),
        "SUCCESS",
    )
    .await?;
    demo.step("DELETE", request("DELETE", &retagged, None), "SUCCESS")
        .await?;
    demo.step("READ after delete", request("READ", &retagged, None), "FAILED")
        .await?;
    demo.step("DELETE again", request("DELETE", &retagged, None), "FAILED")
        .await?;
    demo.pod("api-9e1a7", Expect::Nothing).await?;

    demo.stack().await?;

    println!("All steps behaved as CloudFormation expects.");
    emulator.shutdown();
    Ok(ExitCode::SUCCESS)
}

/// Creates a pod identity role through the emulated IAM, as a stack's AWS::IAM::Role would, and says when EKS will
/// see it.
async fn create_role(emulator: &Emulator, name: &str) -> Result<String, CliError> {
    let created = pia_testkit::clients::iam(&emulator.endpoint())
        .create_role()
        .role_name(name)
        .assume_role_policy_document(pia_emulator::pod_identity_trust_policy().to_string())
        .send()
        .await
        .map_err(|e| CliError::Demo(format!("IAM CreateRole {name}: {e}")))?;
    let arn = created
        .role
        .map(|role| role.arn)
        .ok_or_else(|| CliError::Demo(format!("IAM CreateRole {name}: no role in the answer")))?;
    println!("▶ IAM CreateRole {name}");
    println!("    {arn}");
    println!(
        "    EKS sees it in {ROLE_PROPAGATION_SECONDS} s: until then it answers \"Role provided in the request does not exist\"\n"
    );
    Ok(arn)
}

/// What a pod of payments/api should get from EKS Pod Identity.
enum Expect<'r> {
    /// A session of this role.
    Role(&'r str),
    /// No credentials.
    Nothing,
    /// Started right after a create or update: what EKS Auth gave before (`None`: nothing) while the change has not
    /// reached it, `after` once it has (a slow machine may start the pod that late).
    Propagating { before: Option<&'r str>, after: &'r str },
}

struct Demo<'a> {
    emulator: &'a Emulator,
    provider: Arc<Provider>,
    agent: Agent,
}

impl Demo<'_> {
    /// Invokes the handler with a wire request, prints what happened and the EKS calls it took.
    async fn step(&self, title: &str, request: Value, expected: &str) -> Result<ProgressEvent, CliError> {
        self.emulator.reset_calls();
        let started = Instant::now();
        let event = self.provider.invoke(request.to_string().as_bytes()).await;
        let elapsed = started.elapsed();
        let calls = self.emulator.call_log();
        let status = event.status.as_str();
        let outcome = match &event.error_code {
            Some(code) => format!("{status} {}", code.as_str()),
            None => status.to_owned(),
        };
        println!(
            "▶ {title:<34} {outcome:<20} {:>6.1} ms   EKS: {}",
            elapsed.as_secs_f64() * 1e3,
            calls.join(", ")
        );
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

impl Demo<'_> {
    async fn wait_for_propagation(&self) {
        println!("… waiting {ASSOCIATION_PROPAGATION_SECONDS} s for the change to reach EKS Auth\n");
        tokio::time::sleep(Duration::from_secs_f64(ASSOCIATION_PROPAGATION_SECONDS)).await;
    }

    /// A pod of payments/api starts: the webhook mutates it, the kubelet projects its token, and an AWS SDK in a
    /// separate process (`pia whoami`) fetches credentials from the agent and asks STS who it is.
    async fn pod(&self, name: &str, expected: Expect<'_>) -> Result<(), CliError> {
        let pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "payments"},
            "spec": {"serviceAccountName": "api", "containers": [{"name": "app", "image": "public.ecr.aws/aws-cli/aws-cli"}]}
        });
        let patch = self
            .emulator
            .mutate_pod("demo", None, &pod)
            .map_err(|e| CliError::Demo(e.to_string()))?;
        println!("▶ POD {name} starts (payments/api)");
        if patch.is_empty() {
            println!("    webhook: no association for payments/api, pod left as is");
        } else {
            let mutated = webhook::apply_patch(&pod, &patch).map_err(|e| CliError::Demo(e.to_string()))?;
            for variable in mutated
                .pointer("/spec/containers/0/env")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                println!(
                    "    webhook: {}={}",
                    variable["name"].as_str().unwrap_or(""),
                    variable["value"].as_str().unwrap_or("")
                );
            }
        }

        let directory = std::env::temp_dir().join(format!("pia-demo-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&directory).map_err(|source| CliError::Read {
            what: directory.display().to_string(),
            source,
        })?;
        let token_file = directory.join(webhook::TOKEN_PATH);
        self.emulator
            .write_token_file(&TokenRequest::new("demo", "payments", "api", name), &token_file)
            .map_err(|e| CliError::Demo(e.to_string()))?;
        let executable = std::env::current_exe().map_err(|source| CliError::Read {
            what: "this executable".into(),
            source,
        })?;
        // The pod's environment: the webhook's two variables (the agent listens on loopback here, not on
        // 169.254.170.23) and nothing else that could supply credentials.
        let started = Instant::now();
        let output = tokio::process::Command::new(executable)
            .arg("whoami")
            .env_clear()
            .env(webhook::ENV_FULL_URI, self.agent.credentials_uri())
            .env(webhook::ENV_TOKEN_FILE, &token_file)
            .env("AWS_ENDPOINT_URL_STS", self.emulator.endpoint())
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", directory.join("none"))
            .env("AWS_SHARED_CREDENTIALS_FILE", directory.join("none"))
            .output()
            .await
            .map_err(|source| CliError::Read {
                what: "the pod process".into(),
                source,
            })?;
        let _ = std::fs::remove_dir_all(&directory);
        let elapsed = started.elapsed();
        let identity = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        let problem = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        let got = output.status.success().then_some(identity.as_str());
        let is_session_of = |role: &str| {
            let role_name = role.rsplit('/').next().unwrap_or(role);
            got.is_some_and(|identity| identity.contains(&format!("assumed-role/{role_name}/")))
        };
        let note = match expected {
            Expect::Role(role) if is_session_of(role) => "",
            Expect::Nothing if got.is_none() => "",
            Expect::Propagating { after, .. } if is_session_of(after) => "(the change had already reached EKS Auth)",
            Expect::Propagating { before: None, .. } if got.is_none() => {
                "(EKS Auth does not see the new association yet: no pod identity)"
            }
            Expect::Propagating {
                before: Some(before), ..
            } if is_session_of(before) => {
                "(EKS Auth still uses the association as it was: the update has not reached it)"
            }
            _ => {
                return Err(CliError::Demo(format!(
                    "pod {name}: unexpected outcome: {identity} {}",
                    last_line(&problem)
                )));
            }
        };
        match got {
            Some(identity) => {
                println!(
                    "    SDK in the pod: {identity}   ({:.1} ms, process start included)",
                    elapsed.as_secs_f64() * 1e3
                );
                if let Some(grant) = self.emulator.pod_identity_grants().last() {
                    let tags: Vec<String> = grant.session_tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    println!("    session tags: {}", tags.join(", "));
                }
            }
            None => println!("    SDK in the pod: no credentials ({})", credential_error(&problem)),
        }
        if !note.is_empty() {
            println!("    {note}");
        }
        println!();
        Ok(())
    }
}

fn last_line(text: &str) -> &str {
    text.lines().last().unwrap_or(text)
}

/// The SDK's reason, without the nested debug rendering of the error chain.
fn credential_error(text: &str) -> &str {
    let line = last_line(text);
    let reason = line.split("loading credentials: ").nth(1).unwrap_or(line);
    reason.split(" (").next().unwrap_or(reason)
}

fn print_model(model: &Value) {
    for (key, value) in model.as_object().into_iter().flatten() {
        let shown = match value {
            Value::String(text) => text.clone(),
            Value::Array(tags) => tags
                .iter()
                .map(|tag| {
                    format!(
                        "{}={}",
                        tag["Key"].as_str().unwrap_or(""),
                        tag["Value"].as_str().unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join(", "),
            other => other.to_string(),
        };
        println!("    {key:<20} {shown}");
    }
}

/// A HandlerRequest as CloudFormation sends it for the demo's stack: its stack tags, the previous model on an update.
fn request(action: &str, properties: &Value, previous: Option<&Value>) -> Value {
    let mut request = pia_testkit::request(action, properties.clone());
    request["requestData"]["stackTags"] = json!({"stack": "pod-identity-demo"});
    request["requestData"]["logicalResourceId"] = json!("ApiPodIdentity");
    if let Some(previous) = previous {
        request["requestData"]["previousResourceProperties"] = previous.clone();
        request["requestData"]["previousStackTags"] = json!({"stack": "pod-identity-demo"});
    }
    request
}
