//! `pia emulator`: serves the world of its config file on one endpoint and tells what to export (in a form the shell
//! evaluates), names a busy port, reports every problem of a configuration with its key, and documents every key.

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
    while !exports.contains("unset AWS_SESSION_TOKEN AWS_PROFILE") {
        assert!(
            stdout.read_line(&mut exports).unwrap() > 0,
            "output ended early: {exports}"
        );
    }
    assert!(exports.contains("export PIA_AGENT_URL=http://127.0.0.1:"), "{exports}");
    assert!(exports.contains("export AWS_DEFAULT_REGION=eu-west-1\n"), "{exports}");
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

fn pia(arguments: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pia"))
        .args(arguments)
        .output()
        .unwrap()
}

#[test]
fn the_env_file_is_evaluated_by_the_shell_as_written() {
    let dir = temp_dir("env-file");
    let config_path = dir.join("config.json");
    // A secret a shell would split or expand unquoted.
    let secret = "it's $HOME; `x` \\ \"y\"";
    std::fs::write(
        &config_path,
        serde_json::json!({"access_keys": [{"access_key_id": "AKIAQUOTED", "secret_access_key": secret}]}).to_string(),
    )
    .unwrap();
    let env_file = dir.join("pia.env");
    let emulator = crate::running_emulator::RunningEmulator::start(&[
        "--config",
        config_path.to_str().unwrap(),
        "--env-file",
        env_file.to_str().unwrap(),
        "--pod",
        "payments/api/api-0",
    ]);
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&env_file).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "it holds a secret key");
    let output = Command::new("sh")
        .arg("-c")
        .arg(". \"$1\" && printf '%s\\n' \"$AWS_SECRET_ACCESS_KEY\" \"$AWS_DEFAULT_REGION\" \"$AWS_ENDPOINT_URL_CLOUDCONTROL\" \"$PIA_POD_AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE\" \"${AWS_PROFILE-unset}\"")
        .arg("sh")
        .arg(&env_file)
        .env("AWS_PROFILE", "host")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let values: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        values,
        [
            secret,
            "us-east-1",
            emulator.get("AWS_ENDPOINT_URL"),
            emulator.get("PIA_POD_AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"),
            "unset",
        ]
    );
    for service in ["EKS", "EKS_AUTH", "IAM", "STS", "CLOUDFORMATION", "CLOUDCONTROL"] {
        assert_eq!(
            emulator.get(&format!("AWS_ENDPOINT_URL_{service}")),
            emulator.get("AWS_ENDPOINT_URL")
        );
    }
    assert_eq!(emulator.environment["AWS_SESSION_TOKEN"], serde_json::Value::Null);
    drop(emulator);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_busy_port_is_named() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    for flag in ["--port", "--agent-probe-port"] {
        let output = pia(&["emulator", flag, &port]);
        assert_eq!(output.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(&format!("port {port} is in use ({flag})")), "{stderr}");
    }
}

#[test]
fn every_problem_of_a_configuration_is_named_by_its_key() {
    let dir = temp_dir("problems");
    let config_path = dir.join("config.json");
    std::fs::write(
        &config_path,
        r#"{"clusters": [{"name": "demo", "region": "us-east-one"}],
            "roles": [{"arn": "arn:aws:iam::111122223333:demo-pod-role", "trust_policy": {"Statement": [{"Effect": "Maybe"}]}}],
            "node_role_arn": "node"}"#,
    )
    .unwrap();
    let output = pia(&["emulator", "--config", config_path.to_str().unwrap()]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        output.status.code(),
        Some(2),
        "a configuration's problems are bad input"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    for key in [
        "clusters[0].region:",
        "roles[0].arn:",
        "roles[0].trust_policy:",
        "node_role_arn:",
    ] {
        assert!(stderr.contains(&format!("\n  {key}")), "{key} in {stderr}");
    }
    assert!(stderr.contains("4 problem(s)"), "{stderr}");
}

/// Every key of the configuration's schema (nested ones as `parent.key`), from `pia emulator --config-schema`.
fn schema_keys(schema: &serde_json::Value) -> Vec<String> {
    fn walk(schema: &serde_json::Value, node: &serde_json::Value, prefix: &str, keys: &mut Vec<String>) {
        let node = match node.get("$ref").and_then(|r| r.as_str()) {
            Some(reference) => schema.pointer(reference.trim_start_matches('#')).unwrap_or(node),
            None => node,
        };
        let node = node.get("items").unwrap_or(node);
        let node = match node.get("$ref").and_then(|r| r.as_str()) {
            Some(reference) => schema.pointer(reference.trim_start_matches('#')).unwrap_or(node),
            None => node,
        };
        for (name, property) in node.get("properties").and_then(|p| p.as_object()).into_iter().flatten() {
            let key = format!("{prefix}{name}");
            keys.push(key.clone());
            walk(schema, property, &format!("{key}."), keys);
        }
    }
    let mut keys = Vec::new();
    walk(schema, schema, "", &mut keys);
    keys
}

#[test]
fn the_readme_documents_every_configuration_key() {
    let output = pia(&["emulator", "--config-schema"]);
    assert!(output.status.success());
    let schema: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let keys = schema_keys(&schema);
    assert!(
        keys.contains(&"clusters.region".to_owned()) && keys.contains(&"connection_limits.max_connections".to_owned()),
        "{keys:?}"
    );
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let reference = readme
        .split("### Configuration reference")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("README has a configuration reference");
    for key in keys {
        assert!(
            reference.contains(&format!("| `{key}` |")),
            "README's configuration reference lacks `{key}`"
        );
    }
}

/// Faults from the command line and from the configuration hit the requests they name, and `-v` logs one line per
/// request (operation and status), never a credential.
#[tokio::test]
async fn faults_hit_their_requests_and_verbose_logs_each_request_without_secrets() {
    let dir = temp_dir("faults");
    let config_path = dir.join("config.json");
    std::fs::write(
        &config_path,
        r#"{"faults": [{"operation": "DescribeCluster", "fault": "server-error"}]}"#,
    )
    .unwrap();
    let log_path = dir.join("stderr.log");
    let mut child = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_pia"))
            .args(["-v", "emulator", "--fault", "ListClusters:throttle:2", "--config"])
            .arg(&config_path)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log_path).unwrap())
            .spawn()
            .unwrap(),
    );
    // The reader stays open: a command whose output is closed ends at its next line, as `cat` does.
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let endpoint = first.trim().rsplit(' ').next().unwrap().to_owned();
    let credentials =
        aws_credential_types::Credentials::new(DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY, None, None, "test");
    let eks = aws_sdk_eks::Client::from_conf(
        aws_sdk_eks::Config::builder()
            .behavior_version_latest()
            .region(aws_sdk_eks::config::Region::new("us-east-1"))
            .endpoint_url(&endpoint)
            .credentials_provider(credentials)
            .retry_config(aws_sdk_eks::config::retry::RetryConfig::disabled())
            .build(),
    );
    let mut listed = Vec::new();
    for _ in 0..3 {
        listed.push(eks.list_clusters().send().await.is_ok());
    }
    let described = [
        eks.describe_cluster().name("demo").send().await.is_ok(),
        eks.describe_cluster().name("demo").send().await.is_ok(),
    ];
    drop(child);
    drop(stdout);
    let log = std::fs::read_to_string(&log_path).unwrap();
    let _ = std::fs::remove_dir_all(&dir);

    assert_eq!(listed, [false, false, true], "two throttled, then served");
    assert_eq!(described, [false, true], "one server error, then served");
    let requests: Vec<&str> = log.lines().filter(|line| line.contains(" request ")).collect();
    assert!(
        requests
            .iter()
            .filter(|line| line.contains("operation=\"ListClusters\"") && line.contains("status=429"))
            .count()
            == 2
            && requests
                .iter()
                .any(|line| line.contains("operation=\"DescribeCluster\"") && line.contains("status=500"))
            && requests
                .iter()
                .any(|line| line.contains("operation=\"DescribeCluster\"") && line.contains("status=200")),
        "{log}"
    );
    assert!(
        !log.contains(DEFAULT_SECRET_ACCESS_KEY) && !log.contains("Signature="),
        "{log}"
    );
    assert!(!log.contains('\x1b'), "no colour off a terminal: {log}");
}
