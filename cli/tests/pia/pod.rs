//! `pia pod exec`: pods of the running emulator on demand, each with the webhook's variables, its own minted token
//! and nothing of the host's credentials; and `pia whoami` saying why a pod has no credentials.

use std::process::Output;

use crate::running_emulator::RunningEmulator;

const ROLE: &str = "arn:aws:iam::111122223333:role/demo-pod-role";

async fn associate(emulator: &RunningEmulator, namespace: &str, service_account: &str) {
    emulator
        .eks()
        .create_pod_identity_association()
        .cluster_name("demo")
        .namespace(namespace)
        .service_account(service_account)
        .role_arn(ROLE)
        .send()
        .await
        .expect("association created");
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn pod_exec(emulator: &RunningEmulator, pod: &str, command: &[&str]) -> Output {
    let mut pia = emulator.pia();
    // Host credentials that must not reach the pod.
    let home = std::env::temp_dir().join(format!("pia-pod-host-home-{}", std::process::id()));
    std::fs::create_dir_all(home.join(".aws")).unwrap();
    std::fs::write(
        home.join(".aws/credentials"),
        "[default]\naws_access_key_id = AKIAHOSTLEAK\naws_secret_access_key = x\n",
    )
    .unwrap();
    pia.env("HOME", &home).args(["pod", "exec", pod, "--"]).args(command);
    pia.output().unwrap()
}

#[tokio::test]
async fn pods_on_demand_run_as_their_role_with_nothing_of_the_host() {
    let emulator = RunningEmulator::start(&[]);
    associate(&emulator, "payments", "api").await;
    let pia = env!("CARGO_BIN_EXE_pia");

    // Any number of pods, each its own session.
    let mut sessions = Vec::new();
    for pod in ["payments/api", "payments/api", "payments/api/api-0"] {
        let output = pod_exec(&emulator, pod, &[pia, "whoami"]);
        assert!(output.status.success(), "{}", text(&output.stderr));
        let arn = text(&output.stdout).trim().to_owned();
        assert!(
            arn.starts_with("arn:aws:sts::111122223333:assumed-role/demo-pod-role/eks-demo-api-"),
            "{arn}"
        );
        sessions.push(arn);
    }
    assert!(sessions[2].contains("/eks-demo-api-0-"), "{sessions:?}");
    assert_ne!(sessions[0], sessions[1]);

    // The environment is the pod's only: the webhook's variables, region, endpoints, no keys, no profile, no IMDS.
    let output = pod_exec(
        &emulator,
        "payments/api",
        &[
            "sh",
            "-c",
            "env; stat -c '%a %n' \"$HOME\" \"$AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE\"; exit 7",
        ],
    );
    assert_eq!(output.status.code(), Some(7), "the command's exit code");
    let printed = text(&output.stdout);
    for expected in [
        format!(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI={}/v1/credentials",
            emulator.get("PIA_AGENT_URL")
        ),
        "AWS_REGION=us-east-1".to_owned(),
        "AWS_DEFAULT_REGION=us-east-1".to_owned(),
        format!("AWS_ENDPOINT_URL_STS={}", emulator.get("AWS_ENDPOINT_URL")),
        "AWS_EC2_METADATA_DISABLED=true".to_owned(),
        "AWS_CONFIG_FILE=/dev/null".to_owned(),
        "AWS_SHARED_CREDENTIALS_FILE=/dev/null".to_owned(),
    ] {
        assert!(printed.lines().any(|line| line == expected), "{expected} in {printed}");
    }
    for absent in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "PIA_AGENT_URL",
        "AWS_PROFILE",
    ] {
        assert!(!printed.contains(&format!("{absent}=")), "{absent} leaked: {printed}");
    }
    let home = printed
        .lines()
        .find_map(|line| line.strip_prefix("HOME="))
        .expect("HOME")
        .to_owned();
    assert!(printed.contains(&format!("700 {home}\n")), "{printed}");
    assert!(
        printed.contains("600 ") && printed.contains("/eks-pod-identity-token"),
        "{printed}"
    );
    assert!(!std::path::Path::new(&home).exists(), "the pod's directory is removed");
    // The token never shows in what `pia` itself prints.
    assert!(!text(&output.stderr).contains("eyJ"), "{}", text(&output.stderr));
}

#[tokio::test]
async fn a_pod_without_an_association_is_left_as_is_and_whoami_says_why() {
    let emulator = RunningEmulator::start(&[]);
    let output = pod_exec(&emulator, "payments/nobody", &[env!("CARGO_BIN_EXE_pia"), "whoami"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("webhook: no association for payments/nobody"),
        "{stderr}"
    );
    assert!(
        stderr.contains("error: no credentials: neither AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"),
        "{stderr}"
    );
    assert!(!stderr.contains("DispatchFailure"), "no SDK dump: {stderr}");
}

#[tokio::test]
async fn whoami_shows_the_agents_message_and_names_a_missing_token_file() {
    // A token minted at start for a service account that has no association: the agent answers EKS Auth's refusal.
    let token_dir = std::env::temp_dir().join(format!("pia-whoami-{}", std::process::id()));
    let token_file = token_dir.join("token");
    let emulator = RunningEmulator::start(&[
        "--pod",
        "shop/cart/cart-0",
        "--token-file",
        token_file.to_str().unwrap(),
    ]);
    let pod_variables = |command: &mut std::process::Command| {
        for name in [
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        ] {
            command.env(name, emulator.get(&format!("PIA_POD_{name}")));
        }
        command
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY");
    };
    let mut whoami = emulator.pia();
    pod_variables(&mut whoami);
    let output = whoami.arg("whoami").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "the Pod Identity Agent at {}/v1/credentials answered 404: ",
            emulator.get("PIA_AGENT_URL")
        )) && stderr.contains("ResourceNotFoundException"),
        "{stderr}"
    );
    let token = std::fs::read_to_string(&token_file).unwrap();
    assert!(!stderr.contains(token.trim()), "the token is never shown");

    let mut whoami = emulator.pia();
    pod_variables(&mut whoami);
    let output = whoami
        .env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/nonexistent/token")
        .arg("whoami")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr)
            .contains("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE names /nonexistent/token, which cannot be read"),
        "{}",
        text(&output.stderr)
    );
    drop(emulator);
    let _ = std::fs::remove_dir_all(&token_dir);
}
