//! The standalone binary and the lifetime of an in-process emulator.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

/// Kills the child process it holds when dropped, so that a failing test leaves nothing running.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn dropping_the_last_handle_stops_the_server() {
    let emu = start().await;
    let addr = emu.local_addr();
    let clone = emu.clone();
    drop(emu);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_ok(),
        "a clone keeps it alive"
    );
    drop(clone);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn binary_serves_the_clusters_of_its_config_file() {
    let dir = std::env::temp_dir().join(format!("pia-emulator-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config_path = dir.join("config.json");
    let mut file = std::fs::File::create(&config_path).unwrap();
    write!(
        file,
        r#"{{"clusters": [{{"name": "from-file", "region": "eu-west-1"}}], "check_roles": false}}"#
    )
    .unwrap();
    drop(file);

    let mut child = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_pia-emulator"))
            .arg("--config")
            .arg(&config_path)
            .arg("--port")
            .arg("0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let endpoint = line.trim().to_owned();
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint:?}");

    let config = aws_sdk_eks::Config::builder()
        .behavior_version_latest()
        .region(aws_sdk_eks::config::Region::new("eu-west-1"))
        .endpoint_url(&endpoint)
        .credentials_provider(aws_credential_types::Credentials::new(
            "AKID", "SECRET", None, None, "test",
        ))
        .build();
    let eks = aws_sdk_eks::Client::from_conf(config);
    let result = eks.describe_cluster().name("from-file").send().await;
    let demo = eks.describe_cluster().name("demo").send().await;
    // check_roles is off: a role the registry does not know is accepted.
    let created = eks
        .create_pod_identity_association()
        .cluster_name("from-file")
        .namespace("ns")
        .service_account("sa")
        .role_arn("arn:aws:iam::111122223333:role/unknown")
        .send()
        .await;
    drop(child);
    let _ = std::fs::remove_dir_all(&dir);

    let cluster = result.unwrap().cluster.unwrap();
    assert_eq!(
        cluster.arn(),
        Some("arn:aws:eks:eu-west-1:111122223333:cluster/from-file")
    );
    assert!(
        demo.unwrap_err()
            .into_service_error()
            .is_resource_not_found_exception(),
        "only the file's clusters"
    );
    assert!(created.is_ok(), "{created:?}");
}

#[test]
fn binary_refuses_a_bad_config() {
    let dir = std::env::temp_dir().join(format!("pia-emulator-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config_path = dir.join("config.json");
    std::fs::write(&config_path, r#"{"no_such_field": 1}"#).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_pia-emulator"))
        .arg("--config")
        .arg(&config_path)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no_such_field"));
}
