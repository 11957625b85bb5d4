//! `pia invoke`: one handler request, as Lambda would run it; with `--follow`, called again on IN_PROGRESS as
//! CloudFormation does (after the event's callback delay, with its callback context and model) until it ends.
//!
//! Exit codes: 0 the handler answered SUCCESS (or IN_PROGRESS without `--follow`); 1 it answered FAILED; 2 the request
//! could not be read.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use pia_provider::{Provider, eks_client};
use serde_json::Value;

use crate::{CliError, read_input};

/// CloudFormation waits at most this long between calls of one operation, whatever a handler asks.
const LONGEST_CALLBACK_DELAY_SECONDS: u64 = 60 * 60;

#[derive(Args)]
pub struct InvokeArgs {
    /// The request file; `-` or nothing reads stdin.
    file: Option<PathBuf>,
    /// EKS endpoint to call instead of AWS (the standard AWS_ENDPOINT_URL_EKS is honoured too).
    #[arg(long, env = "PIA_EKS_ENDPOINT")]
    endpoint_url: Option<String>,
    /// On IN_PROGRESS, wait the event's callbackDelaySeconds and call again with its callbackContext and
    /// resourceModel, as CloudFormation does, until SUCCESS or FAILED; each intermediate event goes to stderr.
    #[arg(long)]
    follow: bool,
}

pub async fn run(args: InvokeArgs) -> Result<ExitCode, CliError> {
    let payload = read_input(args.file.as_deref())?;
    let provider = Provider::new(eks_client::base_config_for(args.endpoint_url).await);
    let mut request: Option<Value> = serde_json::from_slice(&payload).ok();
    let mut event = serde_json::to_value(provider.invoke(&payload).await).unwrap_or_default();
    let mut calls = 1;
    while args.follow && event["status"] == "IN_PROGRESS" {
        let Some(previous) = request.take() else { break };
        let delay = event["callbackDelaySeconds"]
            .as_u64()
            .unwrap_or(0)
            .min(LONGEST_CALLBACK_DELAY_SECONDS);
        eprintln!(
            "call {calls}: IN_PROGRESS{}; calling again in {delay} s with its callback context",
            event["message"]
                .as_str()
                .map(|message| format!(" ({message})"))
                .unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_secs(delay)).await;
        let again = pia_testkit::callback(&previous, &event);
        event = serde_json::to_value(provider.invoke(again.to_string().as_bytes()).await).unwrap_or_default();
        request = Some(again);
        calls += 1;
    }
    println!("{}", serde_json::to_string_pretty(&event).unwrap_or_default());
    Ok(if event["status"] == "FAILED" {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
