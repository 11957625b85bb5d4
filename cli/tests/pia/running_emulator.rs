//! A `pia emulator` process for the tests, and the environment it hands out (`--print-env json`).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::{Map, Value};

/// The process, killed when dropped so that a failing test leaves nothing running, and its environment.
pub struct RunningEmulator {
    child: Child,
    pub environment: Map<String, Value>,
}

impl RunningEmulator {
    /// `pia emulator --port 0 --print-env json` with `arguments`, once it prints its environment.
    pub fn start(arguments: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pia"))
            .args(["emulator", "--port", "0", "--print-env", "json"])
            .args(arguments)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let environment = match serde_json::from_str(&line) {
            Ok(Value::Object(environment)) => environment,
            _ => panic!("not an environment: {line:?}"),
        };
        Self { child, environment }
    }

    pub fn get(&self, name: &str) -> &str {
        self.environment[name].as_str().unwrap_or_else(|| panic!("no {name}"))
    }

    /// A command with exactly the environment `pia emulator` hands out (its `null`s left out), and PATH.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default());
        for (name, value) in &self.environment {
            if let Some(value) = value.as_str() {
                command.env(name, value);
            }
        }
        command
    }

    /// `pia` with that environment.
    pub fn pia(&self) -> Command {
        self.command(env!("CARGO_BIN_EXE_pia"))
    }

    /// An EKS client as the printed keys.
    pub fn eks(&self) -> aws_sdk_eks::Client {
        let credentials = aws_credential_types::Credentials::new(
            self.get("AWS_ACCESS_KEY_ID"),
            self.get("AWS_SECRET_ACCESS_KEY"),
            None,
            None,
            "test",
        );
        let config = aws_sdk_eks::Config::builder()
            .behavior_version_latest()
            .region(aws_sdk_eks::config::Region::new(self.get("AWS_REGION").to_owned()))
            .endpoint_url(self.get("AWS_ENDPOINT_URL_EKS"))
            .credentials_provider(credentials)
            .build();
        aws_sdk_eks::Client::from_conf(config)
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
