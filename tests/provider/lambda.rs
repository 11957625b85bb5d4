//! The real `bootstrap` binary, run as Lambda runs it: a Runtime API on loopback feeds it HandlerRequests.

use std::process::Stdio;

use pia_emulator::lambda_runtime_api::{InvocationOutcome, LambdaRuntimeApi};
use pia_emulator::{Emulator, EmulatorConfig};
use pia_testkit::secrets::{assert_no_secret, every_action, output_of, request_secrets, session, verbose};
use pia_testkit::*;
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;
use tokio::process::Command;

async fn invoke(runtime: &LambdaRuntimeApi, credentials: &Value, request: &Value) -> Value {
    let mut request = request.clone();
    if request.get("requestData").is_some() {
        request["requestData"]["callerCredentials"] = credentials.clone();
    }
    match runtime.invoke(request.to_string()).await.expect("the function answers") {
        InvocationOutcome::Response(body) => serde_json::from_slice(&body).expect("a JSON ProgressEvent"),
        InvocationOutcome::Error(body) => {
            panic!("a Lambda error reached the caller: {}", String::from_utf8_lossy(&body))
        }
    }
}

#[tokio::test]
async fn bootstrap_serves_handler_requests_and_logs_no_secret() {
    let world = World::start().await;
    let runtime = LambdaRuntimeApi::start().await.unwrap();
    let mut bootstrap = tokio::process::Command::new(env!("CARGO_BIN_EXE_bootstrap"))
        .env_clear()
        .envs(runtime.function_environment())
        .env("AWS_LAMBDA_LOG_LEVEL", "DEBUG")
        .env("RUST_LOG", "trace")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL_EKS", world.emulator.endpoint())
        // The function's own role, as Lambda hands it over: it must never stand in for the caller's.
        .env("AWS_ACCESS_KEY_ID", pia_emulator::DEFAULT_ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", pia_emulator::DEFAULT_SECRET_ACCESS_KEY)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("bootstrap starts");

    // CloudFormation passes temporary credentials of the caller: a session with a token.
    let session = pia_testkit::secrets::session(&world.emulator);
    let credentials = json!({
        "accessKeyId": session.access_key_id,
        "secretAccessKey": session.secret_access_key,
        "sessionToken": session.session_token,
    });
    let created = invoke(&runtime, &credentials, &request("CREATE", desired())).await;
    assert_eq!(created["status"], "SUCCESS", "{created}");
    let model = created["resourceModel"].clone();
    let read = invoke(
        &runtime,
        &credentials,
        &request("READ", json!({"AssociationArn": model["AssociationArn"]})),
    )
    .await;
    assert_eq!(read["resourceModel"], model);
    let anonymous = invoke(
        &runtime,
        &Value::Null,
        &request("READ", json!({"AssociationArn": model["AssociationArn"]})),
    )
    .await;
    assert_eq!(
        anonymous["errorCode"], "InvalidCredentials",
        "not the function's role: {anonymous}"
    );
    let garbage = invoke(&runtime, &credentials, &json!({"what": "ever"})).await;
    assert_eq!(garbage["errorCode"], "InvalidRequest", "{garbage}");
    let deleted = invoke(&runtime, &credentials, &request("DELETE", model)).await;
    assert_eq!(deleted, json!({"status": "SUCCESS"}));
    assert!(runtime.init_errors().is_empty());

    bootstrap.start_kill().unwrap();
    let mut logs = String::new();
    bootstrap
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .await
        .unwrap();
    bootstrap
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .await
        .unwrap();
    assert!(
        logs.contains("\"action\":\"CREATE\""),
        "structured logs expected: {logs}"
    );
    for secret in ["accessKeyId", "secretAccessKey", "sessionToken"] {
        let value = credentials[secret].as_str().unwrap();
        assert!(
            !logs.contains(value),
            "{secret} leaked into the logs: {}",
            logs.lines()
                .filter(|l| l.contains(value))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

#[tokio::test]
async fn bootstrap_outside_lambda_says_what_is_missing_instead_of_panicking() {
    let runtime = LambdaRuntimeApi::start().await.unwrap();
    let environment: Vec<_> = runtime
        .function_environment()
        .into_iter()
        .filter(|(name, _)| *name != "AWS_LAMBDA_FUNCTION_NAME")
        .collect();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_bootstrap"))
        .env_clear()
        .envs(environment)
        .output()
        .await
        .expect("bootstrap runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("AWS_LAMBDA_FUNCTION_NAME is not set"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[tokio::test]
async fn the_lambda_bootstrap_logs_no_secret_at_trace() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let runtime = LambdaRuntimeApi::start().await.unwrap();
    let bootstrap = verbose(
        Command::new(env!("CARGO_BIN_EXE_bootstrap"))
            .env_clear()
            .envs(runtime.function_environment())
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ENDPOINT_URL_EKS", emulator.endpoint()),
    )
    .spawn()
    .expect("bootstrap starts");
    let session = session(&emulator);
    let sent = every_action(&emulator, &session, "via-lambda", async |request: Value| match runtime
        .invoke(request.to_string())
        .await
        .expect("an answer")
    {
        InvocationOutcome::Response(body) => serde_json::from_slice(&body).unwrap(),
        InvocationOutcome::Error(body) => panic!("a Lambda error: {}", String::from_utf8_lossy(&body)),
    })
    .await;
    let logs = output_of(bootstrap).await;
    assert!(logs.contains("\"action\":\"UPDATE\""), "trace logs expected: {logs}");
    assert!(
        logs.contains("create failed transiently"),
        "the warning is logged: {logs}"
    );
    assert_no_secret("bootstrap", &logs, &request_secrets(&sent));
}
