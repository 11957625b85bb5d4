//! Secrets never reach a log of the `pia` command: every action (and failing ones) through `pia serve` and through
//! `pia invoke` at the most verbose levels (`RUST_LOG=trace`), and `pia emulator` with its Pod Identity Agent handing
//! out credentials. Whatever each process prints must hold no access key id, secret access key, session token, bearer
//! token, client request token or service-account token that passed through it.

use std::process::Stdio;

use pia_emulator::{Emulator, EmulatorConfig};
use pia_testkit::secrets::{assert_no_secret, every_action, output_of, request_secrets, session, verbose};
use pia_testkit::*;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

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
        let response = http::post_json(
            &address,
            "/2015-03-31/functions/TypeFunction/invocations",
            &request.to_string(),
        )
        .await
        .unwrap();
        assert_eq!(response.status, 200, "{}", response.body);
        serde_json::from_str(&response.body).unwrap()
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
    let token_directory = std::env::temp_dir().join(format!("pia-secrets-{}", std::process::id()));
    let token_file = token_directory.join("serviceaccount").join("token");
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
    // The token is a credential: owner-only, in directories of the owner's alone.
    let mode = |path: &std::path::Path| {
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(path).unwrap().permissions()) & 0o777
    };
    assert_eq!(mode(&token_file), 0o600);
    assert_eq!(mode(token_file.parent().unwrap()), 0o700);
    assert_eq!(mode(&token_directory), 0o700);

    // The pod's service account gets an association (through the real EKS API of that process).
    let eks = clients::eks(&endpoint);
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
        let http::Response { status, body } = http::get(&address, "/v1/credentials", Some(token.trim()))
            .await
            .unwrap();
        assert_eq!(status, 200, "{body}");
        let credentials: Value = serde_json::from_str(&body).unwrap();
        for key in ["AccessKeyId", "SecretAccessKey", "Token"] {
            issued.push((key.to_owned(), credentials[key].as_str().unwrap().to_owned()));
        }
    }
    let status = http::get(&address, "/v1/credentials", Some("not.a.token"))
        .await
        .unwrap()
        .status;
    assert_eq!(status, 400);
    let mut forged = token.trim().to_owned();
    forged.push('x');
    let status = http::get(&address, "/v1/credentials", Some(&forged))
        .await
        .unwrap()
        .status;
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
    let _ = std::fs::remove_dir_all(&token_directory);
}

/// `pia invoke` answers as Lambda does: without callerCredentials, InvalidCredentials, even with credentials in its
/// environment that EKS would accept.
#[tokio::test]
async fn pia_invoke_never_calls_eks_as_itself() {
    let world = World::start().await;
    let mut read = request(
        "READ",
        json!({"AssociationArn": "arn:aws:eks:us-east-1:111122223333:podidentityassociation/demo/a-0123456789abcdefg"}),
    );
    read["requestData"].as_object_mut().unwrap().remove("callerCredentials");
    let mut invoke = tokio::process::Command::new(env!("CARGO_BIN_EXE_pia"))
        .args(["invoke", "--endpoint-url", &world.emulator.endpoint()])
        .env("AWS_ACCESS_KEY_ID", pia_emulator::DEFAULT_ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", pia_emulator::DEFAULT_SECRET_ACCESS_KEY)
        .env("AWS_REGION", "us-east-1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("pia invoke starts");
    use tokio::io::AsyncWriteExt;
    let mut stdin = invoke.stdin.take().unwrap();
    stdin.write_all(read.to_string().as_bytes()).await.unwrap();
    drop(stdin);
    let output = invoke.wait_with_output().await.unwrap();
    let event: Value = serde_json::from_slice(&output.stdout).expect("a ProgressEvent");
    assert_eq!(event["errorCode"], "InvalidCredentials", "{event}");
    assert_eq!(output.status.code(), Some(1), "FAILED exits 1");
    assert!(
        world.emulator.calls_snapshot().values().all(|n| *n == 0),
        "EKS was called"
    );
}

/// The SDK's credential chain logs the credentials it loads from a profile (access key id included) at info: `pia`
/// prints no such line at its default level, at `-v`, or at `RUST_LOG=trace`; and `pia whoami` names the profile that
/// yielded no credentials.
#[tokio::test]
async fn credentials_loaded_from_a_profile_are_never_logged() {
    // STS is unreachable (a port nothing listens on): the role is never assumed, and whoami says why.
    let unreachable = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let directory = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("profiles-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    std::fs::write(
        directory.join("config"),
        format!(
            "[profile base]\nregion = us-east-1\n[profile chained]\nrole_arn = {ROLE}\nsource_profile = base\nregion = us-east-1\n"
        ),
    )
    .unwrap();
    std::fs::write(
        directory.join("credentials"),
        format!(
            "[base]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            pia_emulator::DEFAULT_ACCESS_KEY_ID,
            pia_emulator::DEFAULT_SECRET_ACCESS_KEY
        ),
    )
    .unwrap();
    let secrets = [
        (
            "access key id".to_owned(),
            pia_emulator::DEFAULT_ACCESS_KEY_ID.to_owned(),
        ),
        (
            "secret access key".to_owned(),
            pia_emulator::DEFAULT_SECRET_ACCESS_KEY.to_owned(),
        ),
    ];
    for (level, verbosity) in [("default", None), ("-v", Some("-v")), ("RUST_LOG=trace", Some("-vvv"))] {
        let mut whoami = Command::new(env!("CARGO_BIN_EXE_pia"));
        whoami
            .args(verbosity)
            .arg("whoami")
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_SESSION_TOKEN")
            .env("AWS_CONFIG_FILE", directory.join("config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", directory.join("credentials"))
            .env("AWS_PROFILE", "chained")
            .env("AWS_ENDPOINT_URL", &unreachable);
        if level == "RUST_LOG=trace" {
            whoami.env("RUST_LOG", "trace");
        } else {
            whoami.env_remove("RUST_LOG");
        }
        let output = whoami.output().await.expect("pia whoami runs");
        let printed = format!(
            "{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert_no_secret(&format!("pia whoami ({level})"), &printed, &secrets);
        // The reason is the innermost error, not the SDK's outer words or its debug dump of every layer.
        let error = printed
            .lines()
            .find(|line| line.starts_with("error: "))
            .unwrap_or_default();
        assert!(
            error.starts_with("error: no credentials from profile \"chained\": ")
                && error.contains("Connection refused"),
            "the profile's failure is not named ({level}):\n{printed}"
        );
        assert!(
            !error.contains("dispatch failure") && !error.contains("ConnectorError"),
            "the reason is not the innermost error ({level}): {error}"
        );
        if level == "default" {
            assert!(
                !printed.contains(" INFO "),
                "an info line at the default level (warn):\n{printed}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&directory);
}
