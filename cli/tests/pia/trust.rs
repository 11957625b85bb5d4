//! `pia trust ...` as users run it: the built binary, its output and its exit codes (0 pods will get
//! credentials, 1 they will not, 2 bad input), policies from files and from standard input, and role
//! creation against moto's IAM server.

use crate::moto;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const CLUSTER: &str = "arn:aws:eks:us-east-1:111122223333:cluster/demo";

const SEED_POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "sts:AssumeRole",
        "sts:TagSession"
      ],
      "Principal": {
        "Service": "pods.eks.amazonaws.com"
      },
      "Condition": {
        "StringEquals": {
          "aws:SourceAccount": "111122223333"
        },
        "ArnEquals": {
          "aws:SourceArn": "arn:aws:eks:us-east-1:111122223333:cluster/demo"
        }
      }
    }
  ]
}
"#;

const WITHOUT_TAG_SESSION: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
  "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": "sts:AssumeRole",
  "Condition": {"StringEquals": {"aws:SourceAccount": "111122223333"}}}]}"#;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn pia(args: &[&str], stdin: Option<&str>) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pia"));
    command
        .args(args)
        // Nothing here may reach real AWS or an instance metadata service.
        .env_remove("AWS_PROFILE")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the pia binary runs");
    if let Some(text) = stdin {
        // A pia that refuses its arguments exits without reading stdin: the write then meets a closed pipe.
        if let Err(error) = child.stdin.take().unwrap().write_all(text.as_bytes()) {
            assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe, "{error}");
        }
    }
    let Output { status, stdout, stderr } = child.wait_with_output().unwrap();
    Run {
        code: status.code().expect("pia exited normally"),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

fn file(name: &str, text: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("trust-cli-{}-{name}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn generate_prints_the_seed_policy_for_a_cluster() {
    let run = pia(&["trust", "generate", "--cluster-arn", CLUSTER], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, SEED_POLICY);
    let account_only = pia(&["trust", "generate", "--account", "111122223333"], None);
    assert_eq!(account_only.code, 0);
    assert!(account_only.stdout.contains("\"aws:SourceAccount\": \"111122223333\""));
    assert!(!account_only.stdout.contains("aws:SourceArn"));
    let bare = pia(&["trust", "generate"], None);
    assert_eq!(bare.code, 0);
    assert!(!bare.stdout.contains("Condition"));
}

#[test]
fn generate_refuses_bad_values_with_exit_code_2() {
    let run = pia(&["trust", "generate", "--account", "12345"], None);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("\"12345\" is not an AWS account id"),
        "{}",
        run.stderr
    );
    let mismatch = pia(
        &[
            "trust",
            "generate",
            "--account",
            "444455556666",
            "--cluster-arn",
            CLUSTER,
        ],
        None,
    );
    assert_eq!(mismatch.code, 2);
    assert!(
        mismatch.stderr.contains("differs from the cluster's account"),
        "{}",
        mismatch.stderr
    );
}

#[test]
fn target_prints_the_target_role_policy() {
    let run = pia(
        &[
            "trust",
            "target",
            "--source-role-arn",
            "arn:aws:iam::111122223333:role/app",
            "--external-id",
            "ext-1",
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let value: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        value,
        serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Principal": {"AWS": "arn:aws:iam::111122223333:role/app"},
            "Condition": {"StringEquals": {"sts:ExternalId": "ext-1"}}}]})
    );
    let bad = pia(
        &["trust", "target", "--source-role-arn", "app", "--external-id", "x"],
        None,
    );
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("is not an ARN"), "{}", bad.stderr);
}

#[test]
fn check_a_good_policy_from_a_file_exits_0() {
    let path = file("good.json", SEED_POLICY);
    let run = pia(
        &[
            "trust",
            "check",
            "--file",
            path.to_str().unwrap(),
            "--cluster-arn",
            CLUSTER,
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.starts_with("Pods will get credentials"), "{}", run.stdout);
    assert!(run.stdout.contains("role sts:TagSession: Allow"), "{}", run.stdout);
}

#[test]
fn check_a_policy_without_tag_session_exits_1_and_says_what_to_change() {
    let path = file("no-tag.json", WITHOUT_TAG_SESSION);
    let run = pia(
        &["trust", "check", path.to_str().unwrap(), "--cluster-arn", CLUSTER],
        None,
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("Pods will NOT get credentials"), "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "The policy does not allow sts:TagSession, but EKS tags every session unless DisableSessionTags is true."
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("fix: Add \"sts:TagSession\" to the Action list of statement 1 (the statement that trusts pods.eks.amazonaws.com), or set DisableSessionTags: true"),
        "{}",
        run.stdout
    );
    // The same policy works for an association with DisableSessionTags.
    let disabled = pia(
        &[
            "trust",
            "check",
            path.to_str().unwrap(),
            "--cluster-arn",
            CLUSTER,
            "--disable-session-tags",
        ],
        None,
    );
    assert_eq!(disabled.code, 0, "{}", disabled.stdout);
}

#[test]
fn check_reads_standard_input() {
    let dash = pia(
        &["trust", "check", "-", "--cluster-arn", CLUSTER],
        Some(WITHOUT_TAG_SESSION),
    );
    assert_eq!(dash.code, 1, "{}{}", dash.stdout, dash.stderr);
    assert!(dash.stdout.contains("sts:TagSession"));
    let file_dash = pia(
        &["trust", "check", "--file", "-", "--cluster-arn", CLUSTER],
        Some(SEED_POLICY),
    );
    assert_eq!(file_dash.code, 0, "{}{}", file_dash.stdout, file_dash.stderr);
}

#[test]
fn check_json_output() {
    let run = pia(
        &["trust", "check", "-", "--cluster-arn", CLUSTER, "--output", "json"],
        Some(WITHOUT_TAG_SESSION),
    );
    assert_eq!(run.code, 1);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["will_work"], serde_json::json!(false));
    assert_eq!(report["findings"][0]["kind"], serde_json::json!("missing-tag-session"));
    assert_eq!(report["findings"][0]["severity"], serde_json::json!("error"));
}

#[test]
fn check_a_mismatched_cluster_names_both_values() {
    let run = pia(
        &[
            "trust",
            "check",
            "-",
            "--cluster-arn",
            "arn:aws:eks:eu-west-1:111122223333:cluster/prod",
        ],
        Some(SEED_POLICY),
    );
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("cluster/demo"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("Set aws:SourceArn to \"arn:aws:eks:eu-west-1:111122223333:cluster/prod\""),
        "{}",
        run.stdout
    );
}

#[test]
fn check_bad_input_exits_2() {
    let cases: Vec<(Vec<&str>, Option<&str>, &str)> = vec![
        (
            vec!["-", "--cluster-arn", CLUSTER],
            Some("{not json"),
            "standard input: the policy is not valid JSON",
        ),
        (
            vec!["-", "--cluster-arn", CLUSTER],
            Some(r#"{"Statement": [{"Effect": "Allow", "Principal": "pods", "Action": "sts:AssumeRole"}]}"#),
            "Statement[0].Principal",
        ),
        (
            vec!["/nonexistent/policy.json", "--cluster-arn", CLUSTER],
            None,
            "cannot read /nonexistent/policy.json",
        ),
        (
            vec!["-", "--cluster-arn", "demo"],
            Some(SEED_POLICY),
            "\"demo\" is not an ARN",
        ),
        (
            vec!["--cluster-arn", CLUSTER],
            None,
            "required arguments were not provided",
        ),
        (
            vec!["-", "--file", "x", "--cluster-arn", CLUSTER],
            Some(SEED_POLICY),
            "cannot be used with",
        ),
        (
            vec![
                "-",
                "--cluster-arn",
                CLUSTER,
                "--target-role-arn",
                "arn:aws:iam::444455556666:role/data",
                "--target-policy-file",
                "/nonexistent",
            ],
            Some(SEED_POLICY),
            "cannot read /nonexistent",
        ),
        (
            vec!["-", "--cluster-arn", CLUSTER, "--target-role-arn", "data"],
            Some(SEED_POLICY),
            "--target-role-arn: \"data\" is not an ARN",
        ),
    ];
    for (args, stdin, expected) in cases {
        let mut full = vec!["trust", "check"];
        full.extend(&args);
        let run = pia(&full, stdin);
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(expected), "{args:?}: {}", run.stderr);
    }
}

#[test]
fn check_a_target_role() {
    let target = file(
        "target.json",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/app"},
            "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": "ext-1"}}}]}"#,
    );
    let target = target.to_str().unwrap();
    let base = [
        "trust",
        "check",
        "-",
        "--cluster-arn",
        CLUSTER,
        "--target-role-arn",
        "arn:aws:iam::444455556666:role/data",
        "--target-policy-file",
        target,
    ];
    let without_role = pia(&base, Some(SEED_POLICY));
    assert_eq!(without_role.code, 2);
    assert!(
        without_role.stderr.contains("pass --role-arn"),
        "{}",
        without_role.stderr
    );
    let mut with_role = base.to_vec();
    with_role.extend([
        "--role-arn",
        "arn:aws:iam::111122223333:role/app",
        "--external-id",
        "ext-1",
    ]);
    let run = pia(&with_role, Some(SEED_POLICY));
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("[target role] The target role's policy does not allow sts:TagSession"),
        "{}",
        run.stdout
    );
    with_role.push("--disable-session-tags");
    let run = pia(&with_role, Some(SEED_POLICY));
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[test]
fn create_role_against_moto_then_check_it_by_name() {
    let moto = moto::MotoServer::start();
    let iam = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_pia"));
        command
            .args(args)
            .args(["--endpoint-url", &moto.endpoint])
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .env("AWS_ACCESS_KEY_ID", "AKIAMOTO")
            .env("AWS_SECRET_ACCESS_KEY", "moto")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdin(Stdio::null());
        let output = command.output().unwrap();
        (
            output.status.code().unwrap(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let cluster = "arn:aws:eks:us-east-1:123456789012:cluster/demo";
    let create = [
        "trust",
        "create-role",
        "--name",
        "pods-app",
        "--path",
        "/eks/",
        "--cluster-arn",
        cluster,
        "--permission-policy-arn",
        "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
    ];
    let (code, stdout, stderr) = iam(&create);
    assert_eq!(code, 0, "{stdout}{stderr}\n{}", moto.log_text());
    assert!(
        stdout.contains("role arn:aws:iam::123456789012:role/eks/pods-app: created"),
        "{stdout}"
    );
    assert!(
        stdout.contains("attached arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"),
        "{stdout}"
    );

    let (code, stdout, _) = iam(&create);
    assert_eq!(code, 0);
    assert!(stdout.contains("pods-app: unchanged"), "{stdout}");
    assert!(
        stdout.contains("already attached arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"),
        "{stdout}"
    );

    let (code, stdout, stderr) = iam(&["trust", "check", "--role-name", "pods-app", "--cluster-arn", cluster]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.starts_with("Pods will get credentials"), "{stdout}");
    let (code, stdout, _) = iam(&[
        "trust",
        "check",
        "--role-name",
        "pods-app",
        "--cluster-arn",
        "arn:aws:eks:us-east-1:123456789012:cluster/other",
    ]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("does not admit this cluster"), "{stdout}");

    let (code, _, stderr) = iam(&["trust", "check", "--role-name", "missing", "--cluster-arn", cluster]);
    assert_eq!(
        code, 2,
        "a policy that cannot be read is not a policy that does not work"
    );
    assert!(stderr.contains("the role missing does not exist"), "{stderr}");
    let (code, _, stderr) = iam(&[
        "trust",
        "create-role",
        "--name",
        "x",
        "--path",
        "eks",
        "--cluster-arn",
        cluster,
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("an IAM path starts and ends with /"), "{stderr}");
}
