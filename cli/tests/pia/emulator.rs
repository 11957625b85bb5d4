//! `pia emulator`: serves the world of its config file on one endpoint and tells what to export.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use pia_emulator::{DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY};

/// Kills the child process it holds when dropped, so that a failing test leaves nothing running.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("pia-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn serves_the_clusters_of_its_config_file() {
    let dir = temp_dir("config");
    let config_path = dir.join("config.json");
    let mut file = std::fs::File::create(&config_path).unwrap();
    write!(
        file,
        r#"{{"clusters": [{{"name": "from-file", "region": "eu-west-1"}}], "check_roles": false}}"#
    )
    .unwrap();
    drop(file);

    let mut child = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_pia"))
            .arg("emulator")
            .arg("--config")
            .arg(&config_path)
            .arg("--port")
            .arg("0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let endpoint = first
        .trim()
        .strip_prefix("EKS association API on ")
        .unwrap_or_else(|| panic!("first line: {first:?}"))
        .to_owned();
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint:?}");
    // Then the environment to export, for every AWS API on that one endpoint.
    let mut exports = String::new();
    while !exports.contains("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=") {
        assert!(
            stdout.read_line(&mut exports).unwrap() > 0,
            "output ended early: {exports}"
        );
    }
    assert!(
        exports.contains("pod: AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:"),
        "{exports}"
    );
    assert!(
        exports.contains(&format!("export AWS_ENDPOINT_URL={endpoint}\n")),
        "{exports}"
    );
    assert!(
        exports.contains(&format!("AWS_ACCESS_KEY_ID={DEFAULT_ACCESS_KEY_ID}")),
        "{exports}"
    );
    assert!(
        exports.contains(&format!("AWS_SECRET_ACCESS_KEY={DEFAULT_SECRET_ACCESS_KEY}")),
        "{exports}"
    );
    assert!(exports.contains("AWS_REGION="), "{exports}");

    let credentials =
        aws_credential_types::Credentials::new(DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY, None, None, "test");
    let config = aws_sdk_eks::Config::builder()
        .behavior_version_latest()
        .region(aws_sdk_eks::config::Region::new("eu-west-1"))
        .endpoint_url(&endpoint)
        .credentials_provider(credentials)
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
        demo.unwrap_err().into_service_error().is_resource_not_found_exception(),
        "only the file's clusters"
    );
    assert!(created.is_ok(), "{created:?}");
}

#[test]
fn refuses_a_bad_config() {
    let dir = temp_dir("bad");
    let config_path = dir.join("config.json");
    std::fs::write(&config_path, r#"{"no_such_field": 1}"#).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_pia"))
        .arg("emulator")
        .arg("--config")
        .arg(&config_path)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no_such_field"));
}
