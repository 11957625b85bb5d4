//! `pia trust create-role` against the emulator's IAM and STS (SigV4 and IAM authorization on the wire): an
//! existing trust policy is merged into, never lost; `--dry-run` writes nothing; `--replace` overwrites; every
//! input is checked before the first write; a run that fails half-way undoes what it made.

use std::collections::BTreeMap;

use pia_emulator::config::UserConfig;
use pia_emulator::{DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCOUNT_ID, DEFAULT_SECRET_ACCESS_KEY, Emulator, EmulatorConfig};
use serde_json::{Value, json};
use tokio::process::Command;

const CLUSTER: &str = "arn:aws:eks:us-east-1:111122223333:cluster/demo";
const OTHER_CLUSTER: &str = "arn:aws:eks:us-east-1:111122223333:cluster/other";
const READ_ONLY: &str = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess";
const FULL_ACCESS: &str = "arn:aws:iam::aws:policy/AmazonS3FullAccess";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

async fn create_role(emulator: &Emulator, keys: (&str, &str), args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_pia"))
        .args(["trust", "create-role", "--endpoint-url"])
        .arg(emulator.endpoint())
        .args(args)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env("AWS_ACCESS_KEY_ID", keys.0)
        .env("AWS_SECRET_ACCESS_KEY", keys.1)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .await
        .expect("the pia binary runs");
    let run = Run {
        code: output.status.code().expect("pia exited normally"),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(
        !run.stdout.contains(keys.1) && !run.stderr.contains(keys.1),
        "no credential is printed"
    );
    run
}

const ADMIN: (&str, &str) = (DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY);

fn role_arn(name: &str) -> String {
    format!("arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/{name}")
}

/// A role that EC2 instances and the pods of another cluster use.
fn shared_trust_policy() -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": ["sts:AssumeRole", "sts:TagSession"],
         "Condition": {"ArnEquals": {"aws:SourceArn": OTHER_CLUSTER}}}
    ]})
}

fn stored_policy(emulator: &Emulator, name: &str) -> Value {
    emulator.role(&role_arn(name)).expect("the role exists").trust_policy
}

/// Whether a line of the diff starts with `marker` (its indentation and `+`, `-` or nothing) and holds `text`.
fn has_line(output: &str, marker: &str, text: &str) -> bool {
    output
        .lines()
        .any(|line| line.starts_with(marker) && line.trim_start_matches([' ', '+', '-']) == text)
}

fn writes(emulator: &Emulator) -> u64 {
    [
        "CreateRole",
        "UpdateAssumeRolePolicy",
        "AttachRolePolicy",
        "DetachRolePolicy",
        "DeleteRole",
    ]
    .iter()
    .map(|operation| emulator.calls(operation))
    .sum()
}

#[tokio::test]
async fn an_existing_trust_policy_is_merged_into_with_a_diff_and_dry_run_writes_nothing() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    emulator.put_role(&role_arn("shared"), shared_trust_policy());
    let args = [
        "--name",
        "shared",
        "--cluster-arn",
        CLUSTER,
        "--permission-policy-arn",
        READ_ONLY,
    ];

    let mut dry = args.to_vec();
    dry.push("--dry-run");
    let run = create_role(&emulator, ADMIN, &dry).await;
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("role arn:aws:iam::111122223333:role/shared: trust policy would be merged: the pod identity statement added, every other statement kept"),
        "{}",
        run.stdout
    );
    assert!(
        has_line(&run.stdout, "      ", r#""Service": "ec2.amazonaws.com""#),
        "kept: {}",
        run.stdout
    );
    assert!(
        has_line(&run.stdout, "    + ", &format!(r#""aws:SourceArn": "{CLUSTER}""#)),
        "added: {}",
        run.stdout
    );
    assert!(!run.stdout.contains("    - "), "nothing is removed: {}", run.stdout);
    assert!(
        run.stdout.contains(&format!("would attach {READ_ONLY}")),
        "{}",
        run.stdout
    );
    assert!(run.stdout.ends_with("dry run: nothing was written\n"), "{}", run.stdout);
    assert_eq!(writes(&emulator), 0);
    assert_eq!(stored_policy(&emulator, "shared"), shared_trust_policy());

    let run = create_role(&emulator, ADMIN, &args).await;
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("role arn:aws:iam::111122223333:role/shared: trust policy merged"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!("  attached {READ_ONLY}")),
        "{}",
        run.stdout
    );
    let statements = stored_policy(&emulator, "shared")["Statement"].clone();
    assert_eq!(
        statements[0],
        shared_trust_policy()["Statement"][0],
        "EC2 keeps the role"
    );
    assert_eq!(
        statements[1],
        shared_trust_policy()["Statement"][1],
        "the other cluster keeps it"
    );
    assert_eq!(statements[2]["Condition"]["ArnEquals"]["aws:SourceArn"], json!(CLUSTER));

    emulator.reset_calls();
    let again = create_role(&emulator, ADMIN, &args).await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stdout.contains("shared: unchanged"), "{}", again.stdout);
    assert!(
        again.stdout.contains(&format!("already attached {READ_ONLY}")),
        "{}",
        again.stdout
    );
    assert_eq!(writes(&emulator), 0, "a second run writes nothing");

    let mut replace = args.to_vec();
    replace.push("--replace");
    let replaced = create_role(&emulator, ADMIN, &replace).await;
    assert_eq!(replaced.code, 0, "{}", replaced.stderr);
    assert!(
        replaced
            .stdout
            .contains("trust policy replaced by the pod identity policy"),
        "{}",
        replaced.stdout
    );
    assert!(
        has_line(&replaced.stdout, "    - ", r#""Service": "ec2.amazonaws.com""#),
        "{}",
        replaced.stdout
    );
    let statements = stored_policy(&emulator, "shared")["Statement"].clone();
    assert_eq!(statements.as_array().map(Vec::len), Some(1));

    let json_run = create_role(
        &emulator,
        ADMIN,
        &["--name", "fresh", "--cluster-arn", CLUSTER, "--output", "json"],
    )
    .await;
    assert_eq!(json_run.code, 0, "{}", json_run.stderr);
    let outcome: Value = serde_json::from_str(&json_run.stdout).unwrap();
    assert_eq!(outcome["role"], json!("created"));
    assert_eq!(outcome["dry_run"], json!(false));
    assert_eq!(outcome["trust_policy_diff"][0], json!({"change": "added", "line": "{"}));
}

#[tokio::test]
async fn every_input_is_checked_before_the_first_write() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &[
                "--cluster-arn",
                CLUSTER,
                "--permission-policy-arn",
                "arn:aws:iam::aws:policy/NoSuchPolicy",
            ],
            "the managed policy arn:aws:iam::aws:policy/NoSuchPolicy does not exist",
        ),
        (
            &[
                "--cluster-arn",
                CLUSTER,
                "--permission-policy-arn",
                "AmazonS3ReadOnlyAccess",
            ],
            "expected arn:PARTITION:iam::ACCOUNT:policy/NAME",
        ),
        (
            &["--cluster-arn", "arn:aws:eks:us-east-1:444455556666:cluster/theirs"],
            "the credentials are of account 111122223333, but the cluster is in account 444455556666",
        ),
        (&["--cluster-arn", "demo"], "--cluster-arn: \"demo\" is not an ARN"),
        (
            &["--cluster-arn", CLUSTER, "--path", "eks"],
            "an IAM path starts and ends with /",
        ),
    ];
    for (args, expected) in cases {
        let mut full = vec!["--name", "never-made", "--permission-policy-arn", READ_ONLY];
        full.extend(args);
        let run = create_role(&emulator, ADMIN, &full).await;
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(expected), "{args:?}: {}", run.stderr);
    }
    assert_eq!(writes(&emulator), 0);
    assert!(emulator.role(&role_arn("never-made")).is_none());
}

#[tokio::test]
async fn a_run_that_fails_half_way_undoes_what_it_made() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    // A user who may do everything but attach AmazonS3FullAccess.
    let user = UserConfig {
        user_name: "role-maker".to_owned(),
        account_id: DEFAULT_ACCOUNT_ID.to_owned(),
        managed_policy_arns: vec![],
        inline_policies: BTreeMap::from([(
            "all-but-full-access".to_owned(),
            json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "*", "Resource": "*"},
                {"Effect": "Deny", "Action": "iam:AttachRolePolicy", "Resource": "*",
                 "Condition": {"ArnEquals": {"iam:PolicyARN": FULL_ACCESS}}}
            ]}),
        )]),
    };
    emulator.put_user(&user);
    let (key, secret) = emulator.issue_access_key(DEFAULT_ACCOUNT_ID, "role-maker");
    let args = [
        "--name",
        "half",
        "--cluster-arn",
        CLUSTER,
        "--permission-policy-arn",
        READ_ONLY,
        "--permission-policy-arn",
        FULL_ACCESS,
    ];

    let run = create_role(&emulator, (&key, &secret), &args).await;
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("IAM AttachRolePolicy failed: AccessDenied"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("undone: detached {READ_ONLY}, deleted the role half")),
        "{}",
        run.stderr
    );
    assert!(emulator.role(&role_arn("half")).is_none(), "no half-made role is left");
    assert_eq!(emulator.calls("CreateRole"), 1);
    assert_eq!(emulator.calls("DeleteRole"), 1);

    // An existing role gets its trust policy back.
    emulator.put_role(&role_arn("half"), shared_trust_policy());
    let run = create_role(&emulator, (&key, &secret), &args).await;
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("restored the previous trust policy"),
        "{}",
        run.stderr
    );
    assert_eq!(stored_policy(&emulator, "half"), shared_trust_policy());
}
