//! `pia stack …`: deploy, delete and check a CloudFormation stack, watching its events as they happen, on the
//! emulator (`pia emulator`'s exports) or on AWS: the CloudFormation API only, the endpoint and credentials of the
//! standard AWS configuration.
//!
//! Exit codes: 0 done (for `drift`: the stack is in sync), 1 failed (CloudFormation refused, the stack rolled back
//! or failed; for `drift`: it drifted), 2 bad usage or input (clap uses 2 for usage errors as well).

pub mod delete;
pub mod deploy;
mod drift;
pub mod events;
mod failure;

use std::process::ExitCode;

use crate::{EXIT_BAD_INPUT, EXIT_FAILED};
use aws_sdk_cloudformation::Client;
use clap::{Args, Subcommand};

pub use crate::output::Output;
pub use failure::StackFailure;

#[derive(Subcommand)]
pub enum StackCommand {
    /// Create the stack, or update it through a change set, showing its events live; then its outputs.
    ///
    /// As `aws cloudformation deploy`: a change set of the template (parameters not given keep their previous
    /// value on an update), executed at once; nothing to change is not an error.
    Deploy(deploy::DeployArgs),
    /// Delete the stack, showing its events live (resources with DeletionPolicy Retain are kept).
    Delete(delete::DeleteArgs),
    /// Detect drift: compare each resource with what its service holds now (for an association, its Read handler).
    ///
    /// Exits 0 when the stack is in sync, 1 when it drifted.
    Drift(drift::DriftArgs),
}

/// Where CloudFormation is and how to print: shared by every `stack` subcommand.
#[derive(Args, Clone)]
pub struct Connection {
    /// CloudFormation endpoint (default: AWS_ENDPOINT_URL_CLOUDFORMATION, AWS_ENDPOINT_URL, then AWS's).
    #[arg(long, global = true)]
    endpoint_url: Option<String>,
    /// Region (default: AWS_REGION, AWS_DEFAULT_REGION, then the AWS configuration's).
    #[arg(long, global = true)]
    region: Option<String>,
    /// How to print the result: a live table for people, or one JSON document at the end.
    #[arg(long, global = true, value_enum, default_value_t = Output::Text)]
    output: Output,
}

pub async fn run(command: StackCommand) -> ExitCode {
    let outcome = match command {
        StackCommand::Deploy(args) => deploy::run(args).await,
        StackCommand::Delete(args) => delete::run(args).await,
        StackCommand::Drift(args) => drift::run(args).await,
    };
    match outcome {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("error: {failure}");
            ExitCode::from(if failure.is_bad_input() {
                EXIT_BAD_INPUT
            } else {
                EXIT_FAILED
            })
        }
    }
}

impl Connection {
    async fn client(&self) -> Result<Client, StackFailure> {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(url) = &self.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if let Some(region) = &self.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        let config = loader.load().await;
        if config.region().is_none() {
            return Err(StackFailure::NoRegion);
        }
        Ok(Client::new(&config))
    }
}

/// `KEY=VALUE` of `--parameter` and `--tag`.
fn key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("{text:?} is not KEY=VALUE")),
    }
}
