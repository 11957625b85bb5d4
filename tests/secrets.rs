//! Secrets never reach a log: every action (and failing ones) through the real `bootstrap` on a Lambda Runtime API,
//! through `pia serve` and through `pia invoke`, all at the most verbose levels (`RUST_LOG=trace`,
//! `AWS_LAMBDA_LOG_LEVEL=TRACE`), and `pia emulator` with its Pod Identity Agent handing out credentials. Whatever
//! each process prints (stdout and stderr) must hold no access key id, secret access key, session token, bearer token
//! or service-account token that passed through it.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::*;
use pia_emulator::lambda_runtime_api::{InvocationOutcome, LambdaRuntimeApi};
use pia_emulator::{Emulator, EmulatorConfig, Fault, IssuedCredentials};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

/// Caller credentials as CloudFormation passes them: a role session with a token.
fn session(emulator: &Emulator) -> IssuedCredentials {
    emulator.issue_session_credentials(
        "arn:aws:iam::111122223333:role/cloudformation-handler",
        "cfn",
        Default::default(),
        Duration::from_secs(900),
    )
}

fn with_credentials(mut request: Value, session: &IssuedCredentials) -> Value {
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
async fn every_action(
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
    let mut other = common::desired();
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
fn request_secrets(sent: &[Value]) -> Vec<(String, String)> {
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

fn assert_no_secret(what: &str, logs: &str, secrets: &[(String, String)]) {
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
async fn output_of(mut child: Child) -> String {
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

fn verbose(command: &mut Command) -> &mut Command {
    command
        .env("RUST_LOG", "trace")
        .env("AWS_LAMBDA_LOG_LEVEL", "TRACE")
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
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

/// One HTTP/1.1 POST with `Connection: close`; the response body.
async fn post(address: &str, path: &str, body: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    body.to_owned()
}

#[tokio::test]
async fn pia_serve_and_pia_invoke_log_no_secret_at_trace() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let session = session(&emulator);

    // pia serve: the local Lambda Invoke API.
    let mut serve = verbose(
        Command::new(env!("CARGO_BIN_EXE_pia"))
            .args(["serve", "--port", "0", "--endpoint-url"])
            .arg(emulator.endpoint())
            .env("AWS_REGION", "us-east-1"),
    )
    .spawn()
    .expect("pia serve starts");
    let mut first = String::new();
    BufReader::new(serve.stdout.as_mut().unwrap())
        .read_line(&mut first)
        .await
        .unwrap();
    let address = first
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("first line: {first:?}"))
        .to_owned();
    let sent = every_action(&emulator, &session, "via-serve", async |request: Value| {
        let body = post(
            &address,
            "/2015-03-31/functions/TypeFunction/invocations",
            &request.to_string(),
        )
        .await;
        serde_json::from_str(&body).unwrap()
    })
    .await;
    let logs = output_of(serve).await;
    assert!(logs.contains("CREATE"), "trace logs expected: {logs}");
    assert_no_secret("pia serve", &logs, &request_secrets(&sent));

    // pia invoke: one request per process, from stdin.
    let endpoint = emulator.endpoint();
    let sent = every_action(&emulator, &session, "via-invoke", async |request: Value| {
        let mut invoke = verbose(Command::new(env!("CARGO_BIN_EXE_pia")).args(["invoke", "--endpoint-url", &endpoint]))
            .spawn()
            .expect("pia invoke starts");
        let mut stdin = invoke.stdin.take().unwrap();
        stdin.write_all(request.to_string().as_bytes()).await.unwrap();
        drop(stdin);
        let output = invoke.wait_with_output().await.unwrap();
        let stdout = String::from_utf8(output.stdout).unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_no_secret(
            "pia invoke",
            &format!("{stdout}\n{stderr}"),
            &request_secrets(std::slice::from_ref(&request)),
        );
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
    })
    .await;
    assert!(!sent.is_empty());
}

#[tokio::test]
async fn pia_emulator_and_its_agent_log_no_token_and_no_issued_credential() {
    let token_file = std::env::temp_dir().join(format!("pia-secrets-token-{}", std::process::id()));
    let mut emulator = verbose(
        Command::new(env!("CARGO_BIN_EXE_pia"))
            .args([
                "emulator",
                "--port",
                "0",
                "--agent-port",
                "0",
                "--pod",
                "shop/cart/cart-0",
                "--token-file",
            ])
            .arg(&token_file),
    )
    .spawn()
    .expect("pia emulator starts");
    let mut stdout = BufReader::new(emulator.stdout.take().unwrap());
    let (mut endpoint, mut agent) = (String::new(), String::new());
    let mut printed = String::new();
    while agent.is_empty() || endpoint.is_empty() {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).await.unwrap() > 0,
            "output ended early: {printed}"
        );
        printed.push_str(&line);
        if let Some(rest) = line.strip_prefix("EKS association API on ") {
            endpoint = rest.trim().to_owned();
        }
        if let Some(rest) = line.strip_prefix("Pod Identity Agent on ") {
            agent = rest.split_whitespace().next().unwrap().to_owned();
        }
    }
    let token = std::fs::read_to_string(&token_file).expect("the token file");

    // The pod's service account gets an association (through the real EKS API of that process).
    let eks = aws_sdk_eks::Client::from_conf(
        aws_sdk_eks::Config::builder()
            .behavior_version_latest()
            .region(aws_sdk_eks::config::Region::new("us-east-1"))
            .endpoint_url(&endpoint)
            .credentials_provider(aws_sdk_eks::config::Credentials::new(
                pia_emulator::DEFAULT_ACCESS_KEY_ID,
                pia_emulator::DEFAULT_SECRET_ACCESS_KEY,
                None,
                None,
                "test",
            ))
            .build(),
    );
    // With a client request token, replayed once (idempotent) and reused for other parameters (refused).
    let request_token = format!("client-request-token-{}", std::process::id());
    for _ in 0..2 {
        eks.create_pod_identity_association()
            .cluster_name("demo")
            .namespace("shop")
            .service_account("cart")
            .role_arn(ROLE)
            .client_request_token(&request_token)
            .send()
            .await
            .expect("association created");
    }
    let reused = eks
        .create_pod_identity_association()
        .cluster_name("demo")
        .namespace("shop")
        .service_account("other")
        .role_arn(ROLE)
        .client_request_token(&request_token)
        .send()
        .await;
    assert!(reused.is_err(), "a token reused for other parameters is refused");

    // The pod asks for credentials (twice: the second from the agent's cache), and two bad requests are refused.
    let address = agent
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let mut issued = Vec::new();
    for _ in 0..2 {
        let (status, body) = get(&address, "/v1/credentials", Some(token.trim())).await;
        assert_eq!(status, 200, "{body}");
        let credentials: Value = serde_json::from_str(&body).unwrap();
        for key in ["AccessKeyId", "SecretAccessKey", "Token"] {
            issued.push((key.to_owned(), credentials[key].as_str().unwrap().to_owned()));
        }
    }
    let (status, _) = get(&address, "/v1/credentials", Some("not.a.token")).await;
    assert_eq!(status, 400);
    let mut forged = token.trim().to_owned();
    forged.push('x');
    let (status, _) = get(&address, "/v1/credentials", Some(&forged)).await;
    assert!((400..500).contains(&status), "{status}");

    let logs = format!("{printed}{}", output_of(emulator).await);
    assert!(logs.contains("AssumeRoleForPodIdentity"), "trace logs expected: {logs}");
    let mut secrets = issued;
    secrets.push(("service-account token".into(), token.trim().to_owned()));
    secrets.push(("client request token".into(), request_token));
    // The token's signature alone, in case a log cut the token into parts.
    secrets.push((
        "token signature".into(),
        token.trim().rsplit('.').next().unwrap().to_owned(),
    ));
    secrets.push((
        "node secret".into(),
        pia_emulator::config::NODE_SECRET_ACCESS_KEY.to_owned(),
    ));
    assert_no_secret("pia emulator", &logs, &secrets);
    let _ = std::fs::remove_file(&token_file);
}

/// One HTTP/1.1 GET with `Connection: close`: (status, body).
async fn get(address: &str, path: &str, authorization: Option<&str>) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    if let Some(token) = authorization {
        request.push_str(&format!("Authorization: {token}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status");
    (status, body.to_owned())
}
