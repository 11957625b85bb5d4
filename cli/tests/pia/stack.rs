//! `pia stack`: the binary deploys, updates, checks and deletes stacks on the emulator (its CloudFormation API over
//! HTTP, the provider's handlers behind it), showing the events as they come, exiting 0, 1 or 2 as documented.

use std::path::PathBuf;
use std::process::Output;

use pia_emulator::agent::AgentConfig;
use pia_emulator::tokens::TokenRequest;
use pia_emulator::{DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY, webhook};
use pia_testkit::World;
use serde_json::Value;

const EXAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../examples/cloudformation/pod-identity.yaml"
);
const ROLE_PARAMETER_TEMPLATE: &str = "
Parameters:
  RoleArn: {Type: String}
  ServiceAccount: {Type: String, Default: runner}
Resources:
  Association:
    Type: AWS::EKS::PodIdentityAssociation
    Properties: {ClusterName: demo, Namespace: jobs, ServiceAccount: !Ref ServiceAccount, RoleArn: !Ref RoleArn}
Outputs:
  AssociationArn: {Value: !Ref Association}
";
const ROLE: &str = "arn:aws:iam::111122223333:role/demo-pod-role";
const ROLE_2: &str = "arn:aws:iam::111122223333:role/demo-pod-role-2";

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pia-stack-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `pia ARGS…` with the emulator's endpoint and key, and nothing from this machine's AWS configuration.
async fn pia(world: &World, args: &[impl AsRef<std::ffi::OsStr>]) -> Output {
    let nowhere = "/dev/null";
    tokio::process::Command::new(env!("CARGO_BIN_EXE_pia"))
        .args(args)
        .env_clear()
        .env("AWS_ENDPOINT_URL", world.emulator.endpoint())
        .env("AWS_ACCESS_KEY_ID", DEFAULT_ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", DEFAULT_SECRET_ACCESS_KEY)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", nowhere)
        .env("AWS_SHARED_CREDENTIALS_FILE", nowhere)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .await
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The line of stdout that has all of `parts`, its index.
fn line_with(text: &str, parts: &[&str]) -> usize {
    text.lines()
        .position(|line| parts.iter().all(|part| line.contains(part)))
        .unwrap_or_else(|| panic!("no line with {parts:?} in:\n{text}"))
}

/// What an AWS SDK in a pod of `namespace/service_account` is: `pia whoami` with only the webhook's variables.
async fn pod_identity(world: &World, namespace: &str, service_account: &str) -> String {
    let agent = world.emulator.start_agent(AgentConfig::default()).await.unwrap();
    let dir = scratch(&format!("pod-{namespace}-{service_account}"));
    let token_file = dir.join("token");
    world
        .emulator
        .write_token_file(
            &TokenRequest::new("demo", namespace, service_account, "pod-0"),
            &token_file,
        )
        .unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_pia"))
        .arg("whoami")
        .env_clear()
        .env(webhook::ENV_FULL_URI, agent.credentials_uri())
        .env(webhook::ENV_TOKEN_FILE, &token_file)
        .env("AWS_ENDPOINT_URL_STS", world.emulator.endpoint())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", dir.join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("none"))
        .output()
        .await
        .unwrap();
    agent.shutdown();
    assert!(output.status.success(), "whoami: {}", stderr(&output));
    stdout(&output).trim().to_owned()
}

#[tokio::test]
async fn deploy_shows_the_events_in_order_the_pod_gets_the_role_and_delete_removes_everything() {
    let world = World::start().await;
    let deploy = [
        "stack",
        "deploy",
        EXAMPLE,
        "--stack-name",
        "payments",
        "--parameter",
        "ClusterName=demo",
        "--parameter",
        "Namespace=payments",
        "--parameter",
        "ServiceAccount=api",
        "--capabilities",
        "CAPABILITY_IAM",
    ];
    let created = pia(&world, &deploy).await;
    let text = stdout(&created);
    assert!(created.status.success(), "{text}\n{}", stderr(&created));
    assert!(text.contains("Creating stack payments:"), "{text}");
    assert!(!text.contains('\x1b'), "no colour off a terminal: {text}");
    // CloudFormation's order: the stack starts, the role before the association that uses it, the stack ends.
    let stack_started = line_with(&text, &["CREATE_IN_PROGRESS", "AWS::CloudFormation::Stack", "payments"]);
    let role_done = line_with(&text, &["CREATE_COMPLETE", "AWS::IAM::Role", "PodRole"]);
    let association_started = line_with(&text, &["CREATE_IN_PROGRESS", "AWS::EKS::PodIdentityAssociation"]);
    let stack_done = line_with(&text, &["CREATE_COMPLETE", "AWS::CloudFormation::Stack", "payments"]);
    assert!(stack_started < role_done && role_done < association_started && association_started < stack_done);
    assert!(text.contains("Stack payments CREATE_COMPLETE in "), "{text}");
    let role_line = &text.lines().nth(line_with(&text, &["  RoleArn  "])).unwrap();
    let role_name = role_line.rsplit('/').next().unwrap().to_owned();
    assert!(role_name.starts_with("payments-PodRole-"), "{role_line}");

    let identity = pod_identity(&world, "payments", "api").await;
    assert!(
        identity.starts_with(&format!("arn:aws:sts::111122223333:assumed-role/{role_name}/")),
        "{identity}"
    );

    // The same template again, its parameters kept: nothing to do, and that is no failure.
    let with_capability = pia(&world, &[&deploy[..5], &["--capabilities", "CAPABILITY_IAM"]].concat()).await;
    assert!(
        stdout(&with_capability).contains("No changes to deploy: stack payments (CREATE_COMPLETE) is up to date"),
        "{}",
        stdout(&with_capability)
    );

    let deleted = pia(&world, &["stack", "delete", "payments"]).await;
    let deleted_text = stdout(&deleted);
    assert!(deleted.status.success(), "{deleted_text}\n{}", stderr(&deleted));
    assert!(
        line_with(&deleted_text, &["DELETE_COMPLETE", "AWS::EKS::PodIdentityAssociation"])
            < line_with(&deleted_text, &["DELETE_COMPLETE", "AWS::IAM::Role"]),
        "the association goes before the role it uses: {deleted_text}"
    );
    assert!(deleted_text.contains("Stack payments deleted in "), "{deleted_text}");
    assert!(world.emulator.associations("demo").is_empty());
    assert!(
        world
            .emulator
            .role(&format!("arn:aws:iam::111122223333:role/{role_name}"))
            .is_none()
    );

    // Deleting what is not there succeeds, as DeleteStack does.
    let gone = pia(&world, &["stack", "delete", "payments"]).await;
    assert!(gone.status.success());
    assert!(stdout(&gone).contains("Stack payments does not exist: nothing to delete"));
}

#[tokio::test]
async fn a_failing_resource_rolls_back_exits_1_and_says_which_and_why() {
    let world = World::start().await;
    let failed = pia(
        &world,
        &[
            "stack",
            "deploy",
            EXAMPLE,
            "--stack-name",
            "broken",
            "--parameter",
            "ClusterName=no-such-cluster",
            "--parameter",
            "ServiceAccount=api",
            "--capabilities",
            "CAPABILITY_IAM",
        ],
    )
    .await;
    let text = stdout(&failed);
    assert_eq!(failed.status.code(), Some(1), "{text}");
    line_with(
        &text,
        &[
            "CREATE_FAILED",
            "Association",
            "No cluster found for name: no-such-cluster",
        ],
    );
    line_with(&text, &["DELETE_COMPLETE", "AWS::IAM::Role", "PodRole"]);
    let error = stderr(&failed);
    assert!(
        error.contains("error: stack broken is ROLLBACK_COMPLETE: Association CREATE_FAILED: "),
        "{error}"
    );
    // A rolled-back stack cannot be updated: the next deploy says what to do instead of failing obscurely.
    let retried = pia(&world, &["stack", "deploy", EXAMPLE, "--stack-name", "broken"]).await;
    assert_eq!(retried.status.code(), Some(1));
    assert!(
        stderr(&retried).contains(
            "stack broken is ROLLBACK_COMPLETE: it cannot be updated; delete it first (pia stack delete broken)"
        ),
        "{}",
        stderr(&retried)
    );
}

#[tokio::test]
async fn an_update_keeps_unnamed_parameters_updates_in_place_and_drift_shows_an_out_of_band_change() {
    let world = World::start().await;
    let dir = scratch("drift");
    let template = dir.join("jobs.yaml");
    std::fs::write(&template, ROLE_PARAMETER_TEMPLATE).unwrap();
    let template = template.to_str().unwrap();
    let (first_role, second_role) = (format!("RoleArn={ROLE}"), format!("RoleArn={ROLE_2}"));
    let deploy = |role: &str| ["stack", "deploy", template, "--parameter", role, "--output", "json"].map(str::to_owned);

    // The stack is named after the template; JSON output is one document.
    let created = pia(&world, &deploy(&first_role)).await;
    assert!(created.status.success(), "{}", stderr(&created));
    let created: Value = serde_json::from_slice(&created.stdout).unwrap();
    assert_eq!(created["StackName"], "jobs");
    assert_eq!(created["StackStatus"], "CREATE_COMPLETE");
    assert_eq!(created["Changed"], true);
    assert_eq!(created["Changes"][0]["Action"], "Add");
    assert!(created["Events"].as_array().unwrap().len() >= 4, "{created:#}");
    let association_arn = created["Outputs"]["AssociationArn"].as_str().unwrap().to_owned();

    // A new RoleArn, ServiceAccount not given: it keeps its value, and the association is updated in place.
    let updated = pia(&world, &deploy(&second_role)).await;
    assert!(updated.status.success(), "{}", stderr(&updated));
    let updated: Value = serde_json::from_slice(&updated.stdout).unwrap();
    assert_eq!(updated["StackStatus"], "UPDATE_COMPLETE");
    assert_eq!(updated["Changes"][0]["Replacement"], "False");
    assert_eq!(updated["Outputs"]["AssociationArn"], association_arn.as_str());
    let [held] = world.emulator.associations("demo").try_into().unwrap();
    assert_eq!(
        (held.service_account.as_str(), held.role_arn.as_str()),
        ("runner", ROLE_2)
    );

    let in_sync = pia(&world, &["stack", "drift", "jobs"]).await;
    assert!(in_sync.status.success(), "{}", stdout(&in_sync));
    assert!(
        stdout(&in_sync).starts_with("Stack jobs: IN_SYNC"),
        "{}",
        stdout(&in_sync)
    );

    pia_testkit::clients::eks(&world.emulator.endpoint())
        .update_pod_identity_association()
        .cluster_name("demo")
        .association_id(association_arn.rsplit('/').next().unwrap())
        .role_arn(ROLE)
        .send()
        .await
        .unwrap();
    let drifted = pia(&world, &["stack", "drift", "jobs"]).await;
    let text = stdout(&drifted);
    assert_eq!(drifted.status.code(), Some(1), "{text}");
    assert!(text.starts_with("Stack jobs: DRIFTED"), "{text}");
    line_with(&text, &["Association", "MODIFIED", "AWS::EKS::PodIdentityAssociation"]);
    line_with(&text, &["/RoleArn NOT_EQUAL: expected ", ROLE_2, ROLE]);
    let as_json = pia(&world, &["stack", "drift", "jobs", "--output", "json"]).await;
    let as_json: Value = serde_json::from_slice(&as_json.stdout).unwrap();
    assert_eq!(as_json["StackDriftStatus"], "DRIFTED");
    assert_eq!(
        as_json["Resources"][0]["PropertyDifferences"][0]["PropertyPath"],
        "/RoleArn"
    );
}

#[tokio::test]
async fn what_the_user_got_wrong_exits_2_and_what_cloudformation_refused_exits_1() {
    let world = World::start().await;
    let bad_parameter = pia(&world, &["stack", "deploy", EXAMPLE, "--parameter", "ClusterName"]).await;
    assert_eq!(bad_parameter.status.code(), Some(2));
    assert!(
        stderr(&bad_parameter).contains("\"ClusterName\" is not KEY=VALUE"),
        "{}",
        stderr(&bad_parameter)
    );

    let missing = pia(&world, &["stack", "deploy", "/no/such/template.yaml"]).await;
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("cannot read the template /no/such/template.yaml"));

    let unnamed = pia(&world, &["stack", "deploy", "/tmp/1st_try.yaml"]).await;
    assert_eq!(unnamed.status.code(), Some(2));

    // Without the IAM capability CloudFormation refuses, and the message says how to acknowledge it.
    let refused = pia(
        &world,
        &[
            "stack",
            "deploy",
            EXAMPLE,
            "--stack-name",
            "payments",
            "--parameter",
            "ClusterName=demo",
            "--parameter",
            "ServiceAccount=api",
        ],
    )
    .await;
    assert_eq!(refused.status.code(), Some(1));
    let error = stderr(&refused);
    assert!(
        error.contains("InsufficientCapabilitiesException: Requires capabilities : [CAPABILITY_IAM] (acknowledge it with --capabilities)"),
        "{error}"
    );
    // The refused deploy left no stack behind.
    let described = pia(&world, &["stack", "delete", "payments"]).await;
    assert!(stdout(&described).contains("does not exist"), "{}", stdout(&described));
}

/// On a terminal (a pty, through util-linux's `script`) statuses are coloured; with NO_COLOR they are not.
#[tokio::test]
async fn on_a_terminal_statuses_are_coloured_unless_no_color_is_set() {
    let world = World::start().await;
    let dir = scratch("colour");
    let template = dir.join("tinted.yaml");
    std::fs::write(&template, ROLE_PARAMETER_TEMPLATE).unwrap();
    let role = format!("RoleArn={ROLE}");
    let deployed = pia(
        &world,
        &["stack", "deploy", template.to_str().unwrap(), "--parameter", &role],
    )
    .await;
    assert!(deployed.status.success(), "{}", stderr(&deployed));
    let on_terminal = |no_color: &str| {
        let command = format!("{} stack drift tinted", env!("CARGO_BIN_EXE_pia"));
        tokio::process::Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .env_clear()
            .env("AWS_ENDPOINT_URL", world.emulator.endpoint())
            .env("AWS_ACCESS_KEY_ID", DEFAULT_ACCESS_KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", DEFAULT_SECRET_ACCESS_KEY)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("NO_COLOR", no_color)
            .output()
    };
    let coloured = on_terminal("").await.unwrap();
    let plain = on_terminal("1").await.unwrap();
    assert!(stdout(&coloured).contains("\x1b[32mIN_SYNC"), "{:?}", stdout(&coloured));
    assert!(
        stdout(&plain).contains("IN_SYNC") && !stdout(&plain).contains('\x1b'),
        "{:?}",
        stdout(&plain)
    );
}
