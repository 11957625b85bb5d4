//! `pia stack deploy`: a change set of the template, executed at once, its events followed live.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{
    Capability, Change, ChangeSetStatus, ChangeSetType, Parameter, Stack, StackStatus, Tag,
};
use clap::Args;
use serde_json::{Value, json};

use super::events::{Watch, outputs_json, print_outputs};
use super::{Connection, Output, StackFailure, key_value};
use crate::style::{Style, took};

/// The largest template CloudFormation takes in a request's body.
const MAX_TEMPLATE_BODY: usize = 51_200;
const POLL_INTERVAL: Duration = Duration::from_millis(500);

#[derive(Args)]
pub struct DeployArgs {
    /// The template: JSON or YAML (short-form tags too), at most 51,200 bytes.
    template: PathBuf,
    /// The stack's name (default: the template's file name without its extension).
    #[arg(long)]
    stack_name: Option<String>,
    /// A parameter's value; repeatable. On an update, the parameters not given keep their previous values.
    #[arg(long = "parameter", value_name = "KEY=VALUE", value_parser = key_value)]
    parameters: Vec<(String, String)>,
    /// A stack tag; repeatable. CloudFormation passes stack tags on to every resource that takes tags.
    #[arg(long = "tag", value_name = "KEY=VALUE", value_parser = key_value)]
    tags: Vec<(String, String)>,
    /// What the template may do that CloudFormation asks to acknowledge (comma-separated or repeated):
    /// CAPABILITY_IAM for IAM resources, CAPABILITY_NAMED_IAM for IAM resources with custom names.
    #[arg(long, value_delimiter = ',', value_parser = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"])]
    capabilities: Vec<String>,
    /// The service role CloudFormation acts as for the stack's resources (default: the caller's credentials).
    #[arg(long, value_name = "ARN")]
    role_arn: Option<String>,
    #[command(flatten)]
    connection: Connection,
}

/// What to deploy.
pub struct Deployment<'a> {
    pub stack_name: &'a str,
    pub template_body: &'a str,
    pub parameters: &'a [(String, String)],
    pub tags: &'a [(String, String)],
    pub capabilities: &'a [String],
    pub role_arn: Option<&'a str>,
}

/// How a deploy ended.
pub enum Deployed {
    /// The template and parameters were the stack's already.
    Unchanged { stack: Stack },
    /// The change set ran: the stack in its final status.
    Executed {
        stack: Stack,
        changes: Vec<Change>,
        /// The operation's events, oldest first (JSON).
        events: Value,
        /// The first resource failure, when there was one.
        failure: Option<String>,
    },
}

pub async fn run(args: DeployArgs) -> Result<ExitCode, StackFailure> {
    let body = read_template(&args.template)?;
    let stack_name = match &args.stack_name {
        Some(name) => name.clone(),
        None => stack_name_of(&args.template)?,
    };
    let client = args.connection.client().await?;
    let style = (args.connection.output == Output::Text).then(Style::for_stdout);
    let started = Instant::now();
    let deployment = Deployment {
        stack_name: &stack_name,
        template_body: &body,
        parameters: &args.parameters,
        tags: &args.tags,
        capabilities: &args.capabilities,
        role_arn: args.role_arn.as_deref(),
    };
    let deployed = deploy(&client, &deployment, style).await?;
    let (stack, changed, changes, events, failure) = match deployed {
        Deployed::Unchanged { stack } => (stack, false, Vec::new(), json!([]), None),
        Deployed::Executed {
            stack,
            changes,
            events,
            failure,
        } => (stack, true, changes, events, failure),
    };
    let status = stack.stack_status().map(|s| s.as_str().to_owned()).unwrap_or_default();
    let succeeded = matches!(
        stack.stack_status(),
        Some(StackStatus::CreateComplete | StackStatus::UpdateComplete)
    ) || !changed;
    match style {
        Some(_) if !changed => {
            println!("No changes to deploy: stack {stack_name} ({status}) is up to date");
            print_outputs(&stack);
        }
        Some(_) if succeeded => {
            println!("\nStack {stack_name} {status} in {}", took(started.elapsed()));
            print_outputs(&stack);
        }
        Some(_) => println!(),
        None => println!(
            "{:#}",
            json!({
                "StackName": stack_name,
                "StackId": stack.stack_id(),
                "StackStatus": status,
                "Changed": changed,
                "Changes": changes.iter().map(change_json).collect::<Vec<_>>(),
                "Events": events,
                "Outputs": outputs_json(&stack),
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

/// Creates or updates the stack through a change set executed at once; with a style, prints the changes and then
/// the events as they come.
pub async fn deploy(
    client: &Client,
    deployment: &Deployment<'_>,
    style: Option<Style>,
) -> Result<Deployed, StackFailure> {
    let stack_name = deployment.stack_name;
    let existing = existing_stack(client, stack_name).await?;
    let change_set_type = match existing.as_ref().and_then(Stack::stack_status) {
        None | Some(StackStatus::ReviewInProgress) => ChangeSetType::Create,
        Some(
            status @ (StackStatus::RollbackComplete
            | StackStatus::RollbackFailed
            | StackStatus::CreateFailed
            | StackStatus::DeleteFailed),
        ) => {
            return Err(StackFailure::NotUpdatable {
                stack: stack_name.to_owned(),
                status: status.as_str().to_owned(),
            });
        }
        Some(_) => ChangeSetType::Update,
    };
    let parameters = parameters(
        client,
        deployment.template_body,
        deployment.parameters,
        existing.as_ref(),
    )
    .await?;

    let created = client
        .create_change_set()
        .stack_name(stack_name)
        .change_set_name(change_set_name())
        .change_set_type(change_set_type.clone())
        .template_body(deployment.template_body)
        .set_parameters(Some(parameters))
        .set_capabilities(Some(
            deployment
                .capabilities
                .iter()
                .map(|c| Capability::from(c.as_str()))
                .collect(),
        ))
        .set_tags((!deployment.tags.is_empty()).then(|| {
            deployment
                .tags
                .iter()
                .map(|(key, value)| Tag::builder().key(key).value(value).build())
                .collect()
        }))
        .set_role_arn(deployment.role_arn.map(str::to_owned))
        .send()
        .await
        .map_err(|e| StackFailure::of_call("CreateChangeSet", e))?;
    let change_set_id = created.id.unwrap_or_default();
    let stack_id = created.stack_id.unwrap_or_else(|| stack_name.to_owned());

    let changes = match change_set_ready(client, &change_set_id).await? {
        Ready::Changes(changes) => changes,
        Ready::NothingToChange => {
            let _ = client.delete_change_set().change_set_name(&change_set_id).send().await;
            let stack = Watch::start(client, &stack_id, None).await?.describe().await?;
            return Ok(Deployed::Unchanged { stack });
        }
        Ready::Failed(reason) => {
            // A new stack's change set that fails leaves the stack in REVIEW_IN_PROGRESS, empty: remove it.
            if existing.is_none() {
                let _ = client.delete_stack().stack_name(&stack_id).send().await;
            }
            return Err(StackFailure::Refused {
                operation: "CreateChangeSet",
                message: reason,
            });
        }
    };
    if style.is_some() {
        print_changes(stack_name, &change_set_type, &changes);
    }

    let mut watch = Watch::start(client, &stack_id, style).await?;
    client
        .execute_change_set()
        .change_set_name(&change_set_id)
        .send()
        .await
        .map_err(|e| StackFailure::of_call("ExecuteChangeSet", e))?;
    let stack = watch.until_settled().await?;
    Ok(Deployed::Executed {
        stack,
        changes,
        events: watch.events_json(),
        failure: watch.first_failure(),
    })
}

fn read_template(path: &Path) -> Result<String, StackFailure> {
    let body = std::fs::read_to_string(path).map_err(|source| StackFailure::Template {
        path: path.to_owned(),
        source,
    })?;
    if body.len() > MAX_TEMPLATE_BODY {
        return Err(StackFailure::TemplateTooLarge {
            path: path.to_owned(),
            size: body.len(),
        });
    }
    Ok(body)
}

/// The template's file name without its extension, when it is a valid stack name (a letter, then letters, digits
/// and hyphens, at most 128).
fn stack_name_of(template: &Path) -> Result<String, StackFailure> {
    let stem = template.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
    let valid = stem.len() <= 128
        && stem.starts_with(|c: char| c.is_ascii_alphabetic())
        && stem.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if valid {
        Ok(stem.to_owned())
    } else {
        Err(StackFailure::BadInput(format!(
            "{stem:?} (the template's name) is not a stack name: pass --stack-name"
        )))
    }
}

/// The stack of that name, `None` when there is none.
async fn existing_stack(client: &Client, stack_name: &str) -> Result<Option<Stack>, StackFailure> {
    match client.describe_stacks().stack_name(stack_name).send().await {
        Ok(described) => Ok(described.stacks.and_then(|stacks| stacks.into_iter().next())),
        Err(error) => {
            let failure = StackFailure::of_call("DescribeStacks", error);
            if failure.is_missing_stack() {
                Ok(None)
            } else {
                Err(failure)
            }
        }
    }
}

/// The given values, and on an update the previous value of every other parameter the template and the stack
/// share (a parameter the stack lacks takes the template's default).
async fn parameters(
    client: &Client,
    body: &str,
    given: &[(String, String)],
    existing: Option<&Stack>,
) -> Result<Vec<Parameter>, StackFailure> {
    let mut parameters: Vec<Parameter> = given
        .iter()
        .map(|(key, value)| Parameter::builder().parameter_key(key).parameter_value(value).build())
        .collect();
    let Some(stack) = existing else {
        return Ok(parameters);
    };
    let summary = client
        .get_template_summary()
        .template_body(body)
        .send()
        .await
        .map_err(|e| StackFailure::of_call("GetTemplateSummary", e))?;
    let previous: Vec<&str> = stack.parameters().iter().filter_map(Parameter::parameter_key).collect();
    for declared in summary.parameters() {
        let Some(key) = declared.parameter_key() else {
            continue;
        };
        if previous.contains(&key) && !given.iter().any(|(k, _)| k == key) {
            parameters.push(Parameter::builder().parameter_key(key).use_previous_value(true).build());
        }
    }
    Ok(parameters)
}

/// A change set name unique to the millisecond: deploys of one stack within a second each get their own.
fn change_set_name() -> String {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    format!("pia-deploy-{millis}")
}

enum Ready {
    Changes(Vec<Change>),
    NothingToChange,
    Failed(String),
}

async fn change_set_ready(client: &Client, change_set_id: &str) -> Result<Ready, StackFailure> {
    loop {
        let described = client
            .describe_change_set()
            .change_set_name(change_set_id)
            .send()
            .await
            .map_err(|e| StackFailure::of_call("DescribeChangeSet", e))?;
        match described.status() {
            Some(ChangeSetStatus::CreateComplete) => return Ok(Ready::Changes(described.changes.unwrap_or_default())),
            Some(ChangeSetStatus::Failed) => {
                let reason = described.status_reason.unwrap_or_default();
                // CloudFormation's words for a template and parameters identical to the stack's.
                return Ok(
                    if reason.contains("didn't contain changes") || reason.contains("No updates are to be performed") {
                        Ready::NothingToChange
                    } else {
                        Ready::Failed(reason)
                    },
                );
            }
            _ => tokio::time::sleep(POLL_INTERVAL).await,
        }
    }
}

fn print_changes(stack_name: &str, change_set_type: &ChangeSetType, changes: &[Change]) {
    let verb = if *change_set_type == ChangeSetType::Create {
        "Creating"
    } else {
        "Updating"
    };
    println!("{verb} stack {stack_name}:");
    for change in changes {
        let Some(resource) = change.resource_change() else {
            continue;
        };
        let replacement = match resource.replacement().map(|r| r.as_str()) {
            Some("True") => " (replacement)",
            Some("Conditional") => " (may be replaced)",
            _ => "",
        };
        println!(
            "  {:<8} {} ({}){replacement}",
            resource.action().map(|a| a.as_str()).unwrap_or("?"),
            resource.logical_resource_id().unwrap_or("?"),
            resource.resource_type().unwrap_or("?")
        );
    }
    println!();
}

fn change_json(change: &Change) -> Value {
    let resource = change.resource_change();
    json!({
        "Action": resource.and_then(|r| r.action()).map(|a| a.as_str()),
        "LogicalResourceId": resource.and_then(|r| r.logical_resource_id()),
        "ResourceType": resource.and_then(|r| r.resource_type()),
        "Replacement": resource.and_then(|r| r.replacement()).map(|r| r.as_str()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_name_is_the_stack_name_when_it_can_be() {
        assert_eq!(
            stack_name_of(Path::new("examples/pod-identity.yaml")).unwrap(),
            "pod-identity"
        );
        assert!(stack_name_of(Path::new("my_stack.json")).is_err());
        assert!(stack_name_of(Path::new("1st.yaml")).is_err());
    }
}
