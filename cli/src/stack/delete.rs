//! `pia stack delete`: DeleteStack, its events followed live until the stack is gone.

use std::process::ExitCode;
use std::time::Instant;

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{Stack, StackStatus};
use clap::Args;
use serde_json::{Value, json};

use super::events::Watch;
use super::{Connection, Output, StackFailure};
use crate::style::{Style, took};

#[derive(Args)]
pub struct DeleteArgs {
    /// The stack's name or id.
    stack_name: String,
    #[command(flatten)]
    connection: Connection,
}

pub async fn run(args: DeleteArgs) -> Result<ExitCode, StackFailure> {
    let client = args.connection.client().await?;
    let style = (args.connection.output == Output::Text).then(Style::for_stdout);
    let started = Instant::now();
    let stack = match client.describe_stacks().stack_name(&args.stack_name).send().await {
        Ok(described) => described.stacks.and_then(|stacks| stacks.into_iter().next()),
        Err(error) => {
            let failure = StackFailure::of_call("DescribeStacks", error);
            if !failure.is_missing_stack() {
                return Err(failure);
            }
            None
        }
    };
    let Some(stack) = stack.filter(|s| s.stack_status() != Some(&StackStatus::DeleteComplete)) else {
        // As DeleteStack: deleting what is not there succeeds.
        match style {
            Some(_) => println!("Stack {} does not exist: nothing to delete", args.stack_name),
            None => println!(
                "{:#}",
                json!({"StackName": args.stack_name, "StackStatus": null, "Deleted": false, "Events": []})
            ),
        }
        return Ok(ExitCode::SUCCESS);
    };
    let stack_id = stack.stack_id().unwrap_or(&args.stack_name).to_owned();
    let stack_name = stack.stack_name().unwrap_or(&args.stack_name).to_owned();

    let Deleted {
        stack: deleted,
        events,
        failure,
    } = delete(&client, &stack_id, style).await?;
    let status = deleted
        .stack_status()
        .map(|s| s.as_str().to_owned())
        .unwrap_or_default();
    let succeeded = deleted.stack_status() == Some(&StackStatus::DeleteComplete);
    match style {
        Some(_) if succeeded => println!("\nStack {stack_name} deleted in {}", took(started.elapsed())),
        Some(_) => println!(),
        None => println!(
            "{:#}",
            json!({
                "StackName": stack_name,
                "StackId": stack_id,
                "StackStatus": status,
                "Deleted": succeeded,
                "Events": events,
            })
        ),
    }
    if succeeded {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(StackFailure::Ended {
            stack: stack_name,
            status,
            reason: failure,
        })
    }
}

/// How a delete ended.
pub struct Deleted {
    /// The stack in its final status (DELETE_COMPLETE when all went well).
    pub stack: Stack,
    /// The operation's events, oldest first (JSON).
    pub events: Value,
    /// The first resource failure, when there was one.
    pub failure: Option<String>,
}

/// Deletes the stack of that id; with a style, prints the events as they come.
pub async fn delete(client: &Client, stack_id: &str, style: Option<Style>) -> Result<Deleted, StackFailure> {
    let mut watch = Watch::start(client, stack_id, style).await?;
    client
        .delete_stack()
        .stack_name(stack_id)
        .send()
        .await
        .map_err(|e| StackFailure::of_call("DeleteStack", e))?;
    let stack = watch.until_settled().await?;
    Ok(Deleted {
        stack,
        events: watch.events_json(),
        failure: watch.first_failure(),
    })
}
