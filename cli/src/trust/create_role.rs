//! `pia trust create-role`: the association's role, created or brought up to date without destroying what it
//! has, every input checked before the first write.

use std::process::ExitCode;

use crate::output::Output;
use aws_sdk_sts::error::ProvideErrorMetadata;
use clap::Args;
use pia_trust::roles::IamClient;
use pia_trust::{ArnError, ClusterArn, ExistingPolicy, RoleError, RoleOutcome, RoleSpec, apply_role_plan, plan_role};

use super::{Failure, sdk_config};

#[derive(Args)]
pub struct CreateRoleArgs {
    /// The role's name.
    #[arg(long)]
    name: String,
    /// The role's path, such as /eks/ (default /). An existing role's path cannot change.
    #[arg(long)]
    path: Option<String>,
    /// The cluster the role is for; the trust policy admits only it (aws:SourceAccount and aws:SourceArn).
    /// The credentials must be of its account.
    #[arg(long, value_name = "ARN")]
    cluster_arn: String,
    /// A managed policy to attach (repeat for several): AWS's or the cluster account's, and it must exist.
    /// Already attached ones are left alone.
    #[arg(long = "permission-policy-arn", value_name = "ARN")]
    permission_policy_arns: Vec<String>,
    /// The role's description.
    #[arg(long)]
    description: Option<String>,
    /// Overwrite an existing role's trust policy with the pod identity policy, instead of merging the pod
    /// identity statement into it (which keeps every other statement).
    #[arg(long)]
    replace: bool,
    /// Check the input and show what would change (the trust policy's diff, the policies to attach), writing
    /// nothing.
    #[arg(long)]
    dry_run: bool,
    /// IAM and STS endpoint to call instead of AWS (AWS_ENDPOINT_URL_IAM and AWS_ENDPOINT_URL_STS are honoured
    /// too).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    /// How to print the outcome: text, or one JSON document.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    output: Output,
}

pub(super) async fn create_role(args: CreateRoleArgs) -> Result<ExitCode, Failure> {
    let cluster_arn: ClusterArn = args
        .cluster_arn
        .parse()
        .map_err(|e: ArnError| Failure::input(format!("--cluster-arn: {e}")))?;
    let spec = RoleSpec {
        name: args.name,
        path: args.path,
        description: args.description,
        cluster_arn,
        permission_policy_arns: args.permission_policy_arns,
        existing_policy: if args.replace {
            ExistingPolicy::Replace
        } else {
            ExistingPolicy::Merge
        },
    };
    let config = sdk_config(args.endpoint_url).await;
    let caller = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .map_err(|error| {
            let message = match error.as_service_error() {
                Some(service) => format!(
                    "{}: {}",
                    service.code().unwrap_or("UnknownError"),
                    service.message().unwrap_or("no message")
                ),
                None => crate::cause::innermost(&error),
            };
            Failure::aws(format!("STS GetCallerIdentity failed: {message}"))
        })?;
    let caller_account = caller.account().unwrap_or_default();
    let client = IamClient::new(&config);
    let plan = plan_role(&client, &spec, caller_account).await.map_err(role_failure)?;
    let outcome = if args.dry_run {
        RoleOutcome::from_plan(&plan, plan.role_arn.clone(), true)
    } else {
        apply_role_plan(&client, &plan).await.map_err(role_failure)?
    };
    if args.output == Output::Json {
        println!("{}", serde_json::to_string_pretty(&outcome).unwrap_or_default());
    } else {
        print!("{outcome}");
    }
    Ok(ExitCode::SUCCESS)
}

fn role_failure(error: RoleError) -> Failure {
    if error.is_bad_input() {
        Failure::input(error.to_string())
    } else {
        Failure::aws(error.to_string())
    }
}
