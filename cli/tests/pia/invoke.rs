//! `pia invoke --follow`: an IN_PROGRESS answer is followed as CloudFormation follows it (after the event's
//! callback delay, with its callback context and model) until the handler ends; without it, one call.

use std::process::{Output, Stdio};

use pia_emulator::EmulatorConfig;
use pia_testkit::{World, desired, update_request};
use serde_json::Value;
use tokio::io::AsyncWriteExt;

async fn invoke(world: &World, request: &Value, follow: bool) -> Output {
    let mut args = vec![
        "invoke".to_owned(),
        "--endpoint-url".to_owned(),
        world.emulator.endpoint(),
    ];
    if follow {
        args.push("--follow".to_owned());
    }
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_pia"))
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(request.to_string().as_bytes()).await.unwrap();
    drop(stdin);
    child.wait_with_output().await.unwrap()
}

#[tokio::test]
async fn follow_calls_again_on_in_progress_until_the_update_succeeds() {
    // A role made through IAM reaches EKS 2 s later: an update to it answers IN_PROGRESS first.
    let world = World::with_config(EmulatorConfig {
        role_propagation_seconds: 2.0,
        ..EmulatorConfig::default()
    })
    .await;
    let created = world.create(desired()).await;
    let mut changed = created.clone();
    changed["RoleArn"] = Value::from(world.create_role("late-role").await);
    let update = update_request(changed.clone(), created.clone());

    let once = invoke(&world, &update, false).await;
    let event: Value = serde_json::from_slice(&once.stdout).unwrap();
    assert_eq!(event["status"], "IN_PROGRESS", "{event}");
    assert_eq!(once.status.code(), Some(0), "IN_PROGRESS is no failure");

    let followed = invoke(&world, &update, true).await;
    let stderr = String::from_utf8_lossy(&followed.stderr);
    let event: Value = serde_json::from_slice(&followed.stdout).unwrap();
    assert_eq!(event["status"], "SUCCESS", "{event}\n{stderr}");
    assert_eq!(event["resourceModel"]["RoleArn"], changed["RoleArn"]);
    assert!(
        stderr.contains("call 1: IN_PROGRESS") && stderr.contains("calling again in 10 s with its callback context"),
        "{stderr}"
    );
    assert_eq!(followed.status.code(), Some(0));
}
