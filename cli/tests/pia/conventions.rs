//! What every `pia` subcommand does alike: a closed pipe ends it quietly, usage errors exit 2, completions exist for
//! the usual shells.

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

fn pia(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pia")).args(args).output().unwrap()
}

#[test]
fn a_closed_pipe_ends_the_command_quietly() {
    for args in [
        &["completions", "bash"][..],
        &[
            "trust",
            "generate",
            "--cluster-arn",
            "arn:aws:eks:us-east-1:111122223333:cluster/demo",
        ],
    ] {
        // The reader is gone before the command prints: as `pia … | head -0`.
        let mut child = Command::new(env!("CARGO_BIN_EXE_pia"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(
            output.status.signal() == Some(13) || output.status.success(),
            "{args:?}: ended by SIGPIPE as `cat` is, not {:?}",
            output.status
        );
    }
}

#[test]
fn usage_errors_exit_2_in_every_subcommand() {
    for args in [
        &["no-such-command"][..],
        &["stack", "deploy"],
        &["trust", "check"],
        &["emulator", "--fault", "ListClusters:slow"],
        &["invoke", "/no/such/request.json"],
        &["check-bootstrap", "/no/such/bootstrap"],
    ] {
        let output = pia(args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn completions_for_the_usual_shells() {
    for (shell, marker) in [("bash", "_pia()"), ("zsh", "#compdef pia"), ("fish", "complete -c pia")] {
        let output = pia(&["completions", shell]);
        assert!(output.status.success());
        let script = String::from_utf8_lossy(&output.stdout);
        assert!(script.contains(marker) && script.contains("stack"), "{shell}: {script}");
    }
}

/// `--output json` prints one JSON document where a command prints a result: whoami and register here (stack,
/// trust, package and check-bootstrap in their own tests).
#[tokio::test]
async fn json_output_of_whoami_and_register() {
    let world = pia_testkit::World::start().await;
    let run = |args: &[&str]| {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_pia"))
            .args(args)
            .env_clear()
            .env("AWS_ENDPOINT_URL", world.emulator.endpoint())
            .env("AWS_ACCESS_KEY_ID", pia_emulator::DEFAULT_ACCESS_KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", pia_emulator::DEFAULT_SECRET_ACCESS_KEY)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .output()
    };
    let whoami = run(&["whoami", "--output", "json"]).await.unwrap();
    assert!(whoami.status.success(), "{}", String::from_utf8_lossy(&whoami.stderr));
    let identity: serde_json::Value = serde_json::from_slice(&whoami.stdout).unwrap();
    assert_eq!(identity["Account"], "111122223333");
    assert_eq!(identity["Arn"], "arn:aws:iam::111122223333:user/admin");

    let registered = run(&[
        "register",
        "--type-name",
        "Acme::EKS::PodIdentityAssociation",
        "--package-url",
        "s3://packages/acme-eks-podidentityassociation.zip",
        "--poll-seconds",
        "1",
        "--output",
        "json",
    ])
    .await
    .unwrap();
    assert!(
        registered.status.success(),
        "{}",
        String::from_utf8_lossy(&registered.stderr)
    );
    let registered: serde_json::Value = serde_json::from_slice(&registered.stdout).unwrap();
    assert!(
        registered["TypeVersionArn"]
            .as_str()
            .unwrap()
            .contains(":type/resource/Acme-EKS-PodIdentityAssociation/"),
        "{registered}"
    );
    assert_eq!(registered["IsDefaultVersion"], true);
}
