//! What the secrets tests share: every action as CloudFormation calls them (failing ones included) through any
//! transport, the secrets those requests carried, and a check that no output line holds one.

use std::process::Stdio;

use pia_emulator::{Emulator, Fault, IssuedCredentials};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};

use crate::{ROLE_2, desired, request, update_request};

/// Caller credentials as CloudFormation passes them: a session, with a token, of a role holding the schema's handler
/// permissions.
pub fn session(emulator: &Emulator) -> IssuedCredentials {
    crate::permissions::session_with(
        emulator,
        "cloudformation-handler",
        &crate::permissions::all_handler_permissions(),
    )
}

pub fn with_credentials(mut request: Value, session: &IssuedCredentials) -> Value {
    if request.get("requestData").is_some() {
        request["requestData"]["callerCredentials"] = json!({
            "accessKeyId": session.access_key_id,
            "secretAccessKey": session.secret_access_key,
            "sessionToken": session.session_token,
        });
    }
    request
}

/// Every action, the way CloudFormation calls them, plus failing ones: a bad request, a read after delete
/// (NotFound), a create meeting throttling (sent again, with a warning logged), a duplicate (AlreadyExists), a
/// bearer token reused for another create (EKS's refusal quotes the token).
/// `send` answers each request; returns the requests sent, for their bearer tokens.
pub async fn every_action(
    emulator: &Emulator,
    session: &IssuedCredentials,
    namespace: &str,
    mut send: impl AsyncFnMut(Value) -> Value,
) -> Vec<Value> {
    let mut sent = Vec::new();
    macro_rules! call {
        ($request:expr) => {{
            let request = with_credentials($request, session);
            sent.push(request.clone());
            send(request).await
        }};
        (raw $request:expr) => {{
            let request = $request;
            sent.push(request.clone());
            send(request).await
        }};
    }
    let mut properties = desired();
    properties["Namespace"] = json!(namespace);
    let created = call!(request("CREATE", properties.clone()));
    assert_eq!(created["status"], "SUCCESS", "{created}");
    let model = created["resourceModel"].clone();
    let read = call!(request("READ", json!({"AssociationArn": model["AssociationArn"]})));
    assert_eq!(read["status"], "SUCCESS", "{read}");
    let mut desired = model.clone();
    desired["RoleArn"] = json!(ROLE_2);
    desired["Tags"] = json!([{"Key": "team", "Value": "other"}]);
    let updated = call!(update_request(desired, model.clone()));
    assert_eq!(updated["status"], "SUCCESS", "{updated}");
    let listed = call!(request("LIST", json!({"ClusterName": "demo"})));
    assert_eq!(listed["status"], "SUCCESS", "{listed}");
    let duplicate = call!(request("CREATE", properties.clone()));
    assert_eq!(duplicate["errorCode"], "AlreadyExists", "{duplicate}");
    let deleted = call!(request("DELETE", model.clone()));
    assert_eq!(deleted["status"], "SUCCESS", "{deleted}");
    let gone = call!(request("READ", model.clone()));
    assert_eq!(gone["errorCode"], "NotFound", "{gone}");
    let mut bad = request("UPDATE", json!({"ClusterName": 5}));
    bad["requestData"]["previousResourceProperties"] = json!("nonsense");
    let bad = call!(bad);
    assert_eq!(bad["errorCode"], "InvalidRequest", "{bad}");
    // Credentials in the wrong shape: the error must not quote them.
    let mut malformed = request("READ", model.clone());
    malformed["requestData"]["callerCredentials"] = json!(format!(
        "{}:{}:{}",
        session.access_key_id, session.secret_access_key, session.session_token
    ));
    let malformed = call!(raw malformed);
    assert_eq!(malformed["errorCode"], "InvalidRequest", "{malformed}");
    let text = malformed.to_string();
    assert!(
        !text.contains(&session.secret_access_key) && !text.contains(&session.session_token),
        "{text}"
    );
    emulator.inject("CreatePodIdentityAssociation", Fault::Throttle, 4);
    let throttled_request = request("CREATE", properties);
    let throttled = call!(throttled_request.clone());
    assert_eq!(throttled["status"], "SUCCESS", "{throttled}");
    let mut other = crate::desired();
    other["Namespace"] = json!(format!("{namespace}-other"));
    let mut reused = request("CREATE", other);
    reused["bearerToken"] = throttled_request["bearerToken"].clone();
    let reused = call!(reused);
    assert_eq!(reused["errorCode"], "InvalidRequest", "{reused}");
    let token = throttled_request["bearerToken"].as_str().unwrap();
    assert!(
        !reused.to_string().contains(token),
        "the bearer token in the answer: {reused}"
    );
    sent
}

/// The secrets in requests: caller credentials and bearer tokens.
pub fn request_secrets(sent: &[Value]) -> Vec<(String, String)> {
    let mut secrets = Vec::new();
    for request in sent {
        if let Some(token) = request["bearerToken"].as_str() {
            secrets.push(("bearerToken".to_owned(), token.to_owned()));
        }
        for key in ["accessKeyId", "secretAccessKey", "sessionToken"] {
            if let Some(value) = request["requestData"]["callerCredentials"][key].as_str() {
                secrets.push((key.to_owned(), value.to_owned()));
            }
        }
    }
    secrets.sort();
    secrets.dedup();
    secrets
}

pub fn assert_no_secret(what: &str, logs: &str, secrets: &[(String, String)]) {
    assert!(!secrets.is_empty());
    for (name, value) in secrets {
        assert!(value.len() >= 8, "{name} too short to search for");
        let leaks: Vec<&str> = logs.lines().filter(|line| line.contains(value.as_str())).collect();
        assert!(
            leaks.is_empty(),
            "{what}: {name} leaked into the output:\n{}",
            leaks.join("\n")
        );
    }
}

/// Kills the child, then reads all it wrote to stdout and stderr.
pub async fn output_of(mut child: Child) -> String {
    let _ = child.start_kill();
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        stdout.read_to_string(&mut out).await.unwrap();
    }
    if let Some(mut stderr) = child.stderr.take() {
        stderr.read_to_string(&mut out).await.unwrap();
    }
    let _ = child.wait().await;
    out
}

pub fn verbose(command: &mut Command) -> &mut Command {
    command
        .env("RUST_LOG", "trace")
        .env("AWS_LAMBDA_LOG_LEVEL", "TRACE")
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
}
