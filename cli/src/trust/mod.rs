//! `pia trust ...`: generate, check and create the IAM trust policies pod identity needs (crate `pia-trust`).
//!
//! Exit codes: 0 success (for `check`: pods will get credentials); 1 for `check`: they will not (or, with
//! `--template`, an association could not be checked), for `create-role`: an AWS call failed; 2 bad usage or
//! input, including a role `check` cannot read and a create-role input that IAM would refuse (clap uses 2 for
//! usage errors as well).

mod check;
mod create_role;
mod generate;
mod template;

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use crate::{EXIT_BAD_INPUT, EXIT_FAILED};
use clap::Subcommand;
use pia_trust::{PolicyDocument, target_role_trust_policy};

pub use check::CheckArgs;
pub use create_role::CreateRoleArgs;
pub use generate::GenerateArgs;

#[derive(Subcommand)]
pub enum TrustCommand {
    /// Print the trust policy an association's role needs.
    ///
    /// pods.eks.amazonaws.com may sts:AssumeRole and sts:TagSession, optionally only for one account
    /// (aws:SourceAccount) and one cluster (aws:SourceArn): the policy `eksctl create podidentityassociation`
    /// writes. --namespace and --service-account limit it further, by the session tags EKS sets, as the EKS
    /// user guide recommends. Without any of them, the policy lets EKS use the role for any cluster, and a
    /// note on standard error says how to limit it.
    Generate(GenerateArgs),
    /// Print the trust policy of an association's TargetRoleArn (cross-account chaining).
    ///
    /// The association's role may sts:AssumeRole and sts:TagSession (the session tags are transitive) when
    /// it passes the association's ExternalId.
    Target {
        /// The association's RoleArn, which assumes the target role.
        #[arg(long, value_name = "ARN")]
        source_role_arn: String,
        /// The association's ExternalId (EKS generates it when the association is created).
        #[arg(long, value_name = "ID")]
        external_id: String,
    },
    /// Check a trust policy against an association and explain what to change.
    ///
    /// Replays what EKS Auth asks of the role (and of the target role, with --target-role-arn) and says, for
    /// every problem, exactly what to change. The policy is a file (JSON or YAML; the document itself or the
    /// output of `aws iam get-role`), an IAM role (--role-name), or every association of a CloudFormation
    /// template (--template). Exits 0 when pods will get credentials, 1 when they will not (or, with
    /// --template, when an association could not be checked), 2 when the input is wrong.
    Check(CheckArgs),
    /// Create the association's role, or bring it up to date, and attach permission policies.
    ///
    /// As `eksctl create podidentityassociation` does, without destroying what an existing role has: every
    /// input is checked first (the ARNs, that each permission policy exists, that the credentials are of the
    /// cluster's account), then CreateRole with the pod identity trust policy for --cluster-arn, or, for an
    /// existing role whose trust policy does not admit the cluster, the pod identity statement merged into it
    /// (every other statement kept; --replace overwrites the policy instead), then AttachRolePolicy for each
    /// missing --permission-policy-arn. The trust policy's change is shown as a diff; --dry-run shows it
    /// without writing. A write that fails undoes the earlier ones (a role it created is deleted again).
    /// Running it again changes nothing.
    CreateRole(CreateRoleArgs),
}

/// Runs a trust command; errors are printed here, so the caller only passes the exit code on.
pub async fn run(command: TrustCommand) -> ExitCode {
    let result = match command {
        TrustCommand::Generate(args) => generate::generate(args),
        TrustCommand::Target {
            source_role_arn,
            external_id,
        } => target_role_trust_policy(&source_role_arn, &external_id)
            .map(|policy| print_policy(&policy))
            .map_err(|e| Failure::input(e.to_string())),
        TrustCommand::Check(args) => check::check(args).await,
        TrustCommand::CreateRole(args) => create_role::create_role(args).await,
    };
    match result {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            ExitCode::from(failure.exit_code)
        }
    }
}

struct Failure {
    message: String,
    exit_code: u8,
}

impl Failure {
    fn input(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            exit_code: EXIT_BAD_INPUT,
        }
    }
    fn aws(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            exit_code: EXIT_FAILED,
        }
    }
}

fn print_policy(policy: &PolicyDocument) -> ExitCode {
    println!("{}", policy.to_pretty_json());
    ExitCode::SUCCESS
}

/// The standard configuration chain, with `endpoint_url` for every client made from it. IAM is global, so a
/// missing region defaults to us-east-1 rather than failing.
async fn sdk_config(endpoint_url: Option<String>) -> aws_config::SdkConfig {
    let region = std::env::var("AWS_REGION")
        .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|_| "us-east-1".to_owned());
    let mut loader =
        aws_config::defaults(aws_config::BehaviorVersion::latest()).region(aws_config::Region::new(region));
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

/// A file's text, or standard input's for `-`, with the name to use in messages.
fn read_text(path: &Path) -> Result<(String, String), Failure> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure::input(format!("cannot read standard input: {e}")))?;
        return Ok(("standard input".to_owned(), text));
    }
    let text =
        std::fs::read_to_string(path).map_err(|e| Failure::input(format!("cannot read {}: {e}", path.display())))?;
    Ok((path.display().to_string(), text))
}
