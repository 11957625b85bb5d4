//! Following a stack operation as it happens: each new event printed once, oldest first, until the stack's own
//! event says the operation ended.

use std::collections::HashSet;
use std::time::Duration;

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::primitives::DateTimeFormat;
use aws_sdk_cloudformation::types::{Stack, StackEvent};
use serde_json::{Value, json};

use super::StackFailure;
use crate::style::{Style, tone_of_status};

/// How often the events are read: well inside CloudFormation's rate limits, quick enough to feel live.
const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// The type of a stack's own events.
const STACK_TYPE: &str = "AWS::CloudFormation::Stack";

pub struct Watch<'c> {
    client: &'c Client,
    /// The stack's id, which still finds it once deleted.
    stack_id: String,
    seen: HashSet<String>,
    /// The events of this operation, oldest first.
    events: Vec<StackEvent>,
    /// `None`: collect the events without printing them (JSON output).
    style: Option<Style>,
}

impl<'c> Watch<'c> {
    /// Marks every event the stack has now as seen: what comes after belongs to the operation about to start.
    pub async fn start(client: &'c Client, stack_id: &str, style: Option<Style>) -> Result<Self, StackFailure> {
        let mut watch = Self {
            client,
            stack_id: stack_id.to_owned(),
            seen: HashSet::new(),
            events: Vec::new(),
            style,
        };
        let existing = watch.new_events().await?;
        watch
            .seen
            .extend(existing.into_iter().filter_map(|event| event.event_id));
        Ok(watch)
    }

    /// Prints the operation's events as they come until the stack's own event has a final status; the stack then.
    pub async fn until_settled(&mut self) -> Result<Stack, StackFailure> {
        if self.style.is_some() {
            println!(
                "{:<8}  {:<36}  {:<34}  {:<24}  REASON",
                "TIME", "STATUS", "TYPE", "LOGICAL ID"
            );
        }
        loop {
            let mut ended = false;
            for event in self.new_events().await? {
                let status = event
                    .resource_status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default();
                ended |= event.resource_type() == Some(STACK_TYPE) && !status.ends_with("IN_PROGRESS");
                if let Some(style) = self.style {
                    print_event(style, &event);
                }
                if let Some(id) = event.event_id.clone() {
                    self.seen.insert(id);
                }
                self.events.push(event);
            }
            if ended {
                return self.describe().await;
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    pub async fn describe(&self) -> Result<Stack, StackFailure> {
        let described = self
            .client
            .describe_stacks()
            .stack_name(&self.stack_id)
            .send()
            .await
            .map_err(|e| StackFailure::of_call("DescribeStacks", e))?;
        described
            .stacks
            .and_then(|stacks| stacks.into_iter().next())
            .ok_or_else(|| StackFailure::NoSuchStack(self.stack_id.clone()))
    }

    /// The first failure of the operation, as "LogicalId STATUS: reason": what rolled the stack back.
    pub fn first_failure(&self) -> Option<String> {
        self.events
            .iter()
            .find(|event| {
                event.resource_type() != Some(STACK_TYPE)
                    && event.resource_status().is_some_and(|s| s.as_str().ends_with("_FAILED"))
            })
            .map(|event| {
                format!(
                    "{} {}: {}",
                    event.logical_resource_id().unwrap_or("?"),
                    event.resource_status().map(|s| s.as_str()).unwrap_or("?"),
                    event.resource_status_reason().unwrap_or("(no reason given)")
                )
            })
    }

    /// The operation's events as JSON, oldest first.
    pub fn events_json(&self) -> Value {
        Value::Array(self.events.iter().map(event_json).collect())
    }

    /// Events not seen yet, oldest first (the API gives them newest first, a page at a time).
    async fn new_events(&self) -> Result<Vec<StackEvent>, StackFailure> {
        let mut fresh = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .client
                .describe_stack_events()
                .stack_name(&self.stack_id)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| StackFailure::of_call("DescribeStackEvents", e))?;
            let mut reached_seen = false;
            for event in page.stack_events.unwrap_or_default() {
                if event.event_id().is_some_and(|id| self.seen.contains(id)) {
                    reached_seen = true;
                    break;
                }
                fresh.push(event);
            }
            token = page.next_token;
            if reached_seen || token.is_none() {
                break;
            }
        }
        fresh.reverse();
        Ok(fresh)
    }
}

fn print_event(style: Style, event: &StackEvent) {
    let status = event.resource_status().map(|s| s.as_str()).unwrap_or("");
    println!(
        "{:<8}  {}  {:<34}  {:<24}  {}",
        event.timestamp().map(clock_time).unwrap_or_default(),
        style.paint(status, tone_of_status(status), 36),
        event.resource_type().unwrap_or(""),
        event.logical_resource_id().unwrap_or(""),
        event.resource_status_reason().unwrap_or("")
    );
}

/// `HH:MM:SS` (UTC) of an event's time.
fn clock_time(time: &aws_sdk_cloudformation::primitives::DateTime) -> String {
    let text = time.fmt(DateTimeFormat::DateTime).unwrap_or_default();
    text.split('T')
        .nth(1)
        .map(|clock| clock.chars().take(8).collect())
        .unwrap_or_default()
}

fn event_json(event: &StackEvent) -> Value {
    json!({
        "Timestamp": event.timestamp().and_then(|t| t.fmt(DateTimeFormat::DateTime).ok()),
        "LogicalResourceId": event.logical_resource_id(),
        "PhysicalResourceId": event.physical_resource_id(),
        "ResourceType": event.resource_type(),
        "ResourceStatus": event.resource_status().map(|s| s.as_str()),
        "ResourceStatusReason": event.resource_status_reason(),
    })
}

/// A stack's outputs as `{key: value}`.
pub fn outputs_json(stack: &Stack) -> Value {
    Value::Object(
        stack
            .outputs()
            .iter()
            .map(|output| {
                (
                    output.output_key().unwrap_or_default().to_owned(),
                    json!(output.output_value()),
                )
            })
            .collect(),
    )
}

/// Prints a stack's outputs under a heading, aligned.
pub fn print_outputs(stack: &Stack) {
    let outputs = stack.outputs();
    if outputs.is_empty() {
        return;
    }
    let width = outputs
        .iter()
        .map(|o| o.output_key().unwrap_or_default().len())
        .max()
        .unwrap_or(0);
    println!("Outputs:");
    for output in outputs {
        println!(
            "  {:<width$}  {}",
            output.output_key().unwrap_or_default(),
            output.output_value().unwrap_or_default()
        );
    }
}
