//! `pia stack drift`: drift detection of every resource, and what differs, property by property.

use std::process::ExitCode;
use std::time::Duration;

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{StackDriftDetectionStatus, StackDriftStatus, StackResourceDrift};
use clap::Args;
use serde_json::{Value, json};

use super::{Connection, Output, StackFailure};
use crate::style::{Style, tone_of_status};

const POLL_INTERVAL: Duration = Duration::from_millis(500);

#[derive(Args)]
pub struct DriftArgs {
    /// The stack's name or id.
    stack_name: String,
    #[command(flatten)]
    connection: Connection,
}

pub async fn run(args: DriftArgs) -> Result<ExitCode, StackFailure> {
    let client = args.connection.client().await?;
    let detection = client
        .detect_stack_drift()
        .stack_name(&args.stack_name)
        .send()
        .await
        .map_err(|e| StackFailure::of_call("DetectStackDrift", e))?
        .stack_drift_detection_id
        .unwrap_or_default();
    let status = loop {
        let status = client
            .describe_stack_drift_detection_status()
            .stack_drift_detection_id(&detection)
            .send()
            .await
            .map_err(|e| StackFailure::of_call("DescribeStackDriftDetectionStatus", e))?;
        if status.detection_status() != Some(&StackDriftDetectionStatus::DetectionInProgress) {
            break status;
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    };
    if status.detection_status() == Some(&StackDriftDetectionStatus::DetectionFailed) {
        return Err(StackFailure::Refused {
            operation: "DetectStackDrift",
            message: status
                .detection_status_reason()
                .unwrap_or("drift detection failed")
                .to_owned(),
        });
    }
    let drifts = resource_drifts(&client, &args.stack_name).await?;
    let stack_status = status.stack_drift_status().map(|s| s.as_str()).unwrap_or("UNKNOWN");
    match args.connection.output {
        Output::Text => print_drifts(Style::for_stdout(), &args.stack_name, stack_status, &drifts),
        Output::Json => println!(
            "{:#}",
            json!({
                "StackName": args.stack_name,
                "StackDriftStatus": stack_status,
                "DriftedStackResourceCount": status.drifted_stack_resource_count(),
                "Resources": drifts.iter().map(drift_json).collect::<Vec<_>>(),
            })
        ),
    }
    Ok(if status.stack_drift_status() == Some(&StackDriftStatus::InSync) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::EXIT_FAILED)
    })
}

async fn resource_drifts(client: &Client, stack_name: &str) -> Result<Vec<StackResourceDrift>, StackFailure> {
    let mut drifts = Vec::new();
    let mut token = None;
    loop {
        let page = client
            .describe_stack_resource_drifts()
            .stack_name(stack_name)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| StackFailure::of_call("DescribeStackResourceDrifts", e))?;
        drifts.extend(page.stack_resource_drifts.unwrap_or_default());
        token = page.next_token;
        if token.is_none() {
            return Ok(drifts);
        }
    }
}

fn print_drifts(style: Style, stack_name: &str, stack_status: &str, drifts: &[StackResourceDrift]) {
    println!(
        "Stack {stack_name}: {}",
        style.paint(stack_status, tone_of_status(stack_status), 0)
    );
    let width = drifts
        .iter()
        .map(|d| d.logical_resource_id().unwrap_or_default().len())
        .max()
        .unwrap_or(0);
    for drift in drifts {
        let status = drift
            .stack_resource_drift_status()
            .map(|s| s.as_str())
            .unwrap_or("UNKNOWN");
        println!(
            "  {:<width$}  {}  {}",
            drift.logical_resource_id().unwrap_or_default(),
            style.paint(status, tone_of_status(status), 11),
            drift.resource_type().unwrap_or_default()
        );
        for difference in drift.property_differences() {
            println!(
                "      {} {}: expected {}, actual {}",
                difference.property_path().unwrap_or_default(),
                difference.difference_type().map(|t| t.as_str()).unwrap_or_default(),
                difference.expected_value().unwrap_or("(none)"),
                difference.actual_value().unwrap_or("(none)")
            );
        }
    }
}

fn drift_json(drift: &StackResourceDrift) -> Value {
    json!({
        "LogicalResourceId": drift.logical_resource_id(),
        "PhysicalResourceId": drift.physical_resource_id(),
        "ResourceType": drift.resource_type(),
        "StackResourceDriftStatus": drift.stack_resource_drift_status().map(|s| s.as_str()),
        "PropertyDifferences": drift.property_differences().iter().map(|d| json!({
            "PropertyPath": d.property_path(),
            "DifferenceType": d.difference_type().map(|t| t.as_str()),
            "ExpectedValue": d.expected_value(),
            "ActualValue": d.actual_value(),
        })).collect::<Vec<_>>(),
    })
}
