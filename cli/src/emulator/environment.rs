//! The environment `pia emulator` hands out: what a shell, an AWS SDK, the AWS CLI or `pia pod exec` needs to reach
//! the running emulator, as `export` lines that `eval` and `.` accept (quoted by shlex) or as one JSON object.

use serde_json::{Map, Value};

/// The Pod Identity Agent's base URL (`http://127.0.0.1:PORT`): `/v1/credentials` and the webhook are under it.
pub const AGENT_URL: &str = "PIA_AGENT_URL";
/// The cluster the agent serves, whose pods `pia pod exec` runs.
pub const CLUSTER: &str = "PIA_CLUSTER";
/// What the variables of the `--pod` pod are prefixed with, so that exporting them does not make the shell a pod.
pub const POD_PREFIX: &str = "PIA_POD_";
/// The services the emulator's one endpoint serves, by the suffix of their `AWS_ENDPOINT_URL_<SERVICE>` variable.
const SERVICES: [&str; 6] = ["EKS", "EKS_AUTH", "IAM", "STS", "CLOUDFORMATION", "CLOUDCONTROL"];
/// Variables an SDK would prefer over the printed keys, unset by the `sh` form.
const UNSET: [&str; 2] = ["AWS_SESSION_TOKEN", "AWS_PROFILE"];

/// How the environment is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `export NAME=VALUE` lines, then `unset AWS_SESSION_TOKEN AWS_PROFILE`.
    Sh,
    /// One JSON object, name → value (`null` for the variables to unset).
    Json,
}

/// The variables, in order.
#[derive(Default)]
pub struct Environment {
    variables: Vec<(String, String)>,
}

impl Environment {
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.variables.push((name.into(), value.into()));
    }

    /// `AWS_ENDPOINT_URL` and every served service's `AWS_ENDPOINT_URL_<SERVICE>`.
    pub fn set_endpoints(&mut self, endpoint: &str) {
        for (name, value) in service_endpoints(endpoint) {
            self.set(name, value);
        }
    }

    /// `AWS_REGION` and `AWS_DEFAULT_REGION` (which the AWS CLI and boto3 read).
    pub fn set_region(&mut self, region: &str) {
        self.set("AWS_REGION", region);
        self.set("AWS_DEFAULT_REGION", region);
    }

    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Sh => {
                let mut text = String::new();
                for (name, value) in &self.variables {
                    // shlex refuses only NUL bytes, which no variable can hold anyway.
                    let quoted = shlex::try_quote(value).map_or_else(|_| "''".into(), |quoted| quoted.into_owned());
                    text.push_str(&format!("export {name}={quoted}\n"));
                }
                text.push_str(&format!("unset {}\n", UNSET.join(" ")));
                text
            }
            Format::Json => {
                let mut object = Map::new();
                for (name, value) in &self.variables {
                    object.insert(name.clone(), Value::from(value.as_str()));
                }
                for name in UNSET {
                    object.insert(name.to_owned(), Value::Null);
                }
                format!("{}\n", Value::Object(object))
            }
        }
    }
}

/// `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>` of every service, all `endpoint`.
pub fn service_endpoints(endpoint: &str) -> Vec<(String, String)> {
    std::iter::once("AWS_ENDPOINT_URL".to_owned())
        .chain(SERVICES.iter().map(|service| format!("AWS_ENDPOINT_URL_{service}")))
        .map(|name| (name, endpoint.to_owned()))
        .collect()
}
