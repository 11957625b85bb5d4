//! `pia trust ...`: generate, check and create the IAM trust policies pod identity needs (crate `pia-trust`).
//!
//! Exit codes: 0 success (for `check`: pods will get credentials); 1 for `check`: they will not, for
//! `create-role`: an IAM call failed; 2 bad usage or input, including a role `check` cannot read (clap uses 2
//! for usage errors as well).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{ArgGroup, Args, Subcommand};
use pia_trust::roles::{IamClient, fetch_role};
use pia_trust::{
    CheckInput, ClusterArn, PolicyDocument, RoleArn, RoleSpec, TargetRoleInput, check_trust, ensure_role,
    pod_identity_trust_policy, target_role_trust_policy,
};

/// `check`: pods will not get credentials; `create-role`: an IAM call failed.
const EXIT_FAILED: u8 = 1;
const EXIT_BAD_INPUT: u8 = 2;

#[derive(Subcommand)]
pub enum TrustCommand {
    /// Print the trust policy an association's role needs.
    ///
    /// pods.eks.amazonaws.com may sts:AssumeRole and sts:TagSession, optionally only for one account
    /// (aws:SourceAccount) and one cluster (aws:SourceArn): the policy `eksctl create podidentityassociation`
    /// writes.
    Generate {
        /// Limit the role to clusters of this account (StringEquals aws:SourceAccount).
        #[arg(long, value_name = "ID")]
        account: Option<String>,
        /// Limit the role to this cluster (ArnEquals aws:SourceArn; adds the account condition too).
        #[arg(long, value_name = "ARN")]
        cluster_arn: Option<String>,
    },
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
    /// every problem, exactly what to change. Exits 0 when pods will get credentials, 1 when they will not,
    /// 2 when the input is wrong.
    Check(CheckArgs),
    /// Create the association's role, or bring it up to date, and attach permission policies.
    ///
    /// As `eksctl create podidentityassociation` does: CreateRole with the pod identity trust policy for
    /// --cluster-arn (or UpdateAssumeRolePolicy when an existing role's policy differs), then AttachRolePolicy
    /// for each missing --permission-policy-arn. Running it again changes nothing.
    CreateRole(CreateRoleArgs),
}

#[derive(Args)]
#[command(group(ArgGroup::new("source").required(true).args(["policy", "file", "role_name"])))]
pub struct CheckArgs {
    /// The trust policy file; `-` reads standard input.
    #[arg(value_name = "POLICY")]
    policy: Option<PathBuf>,
    /// The trust policy file; `-` reads standard input.
    #[arg(long, short, value_name = "FILE")]
    file: Option<PathBuf>,
    /// Read the trust policy of this IAM role (GetRole) instead of a file.
    #[arg(long, value_name = "NAME")]
    role_name: Option<String>,
    /// The association's cluster: its account and ARN are what EKS sends as aws:SourceAccount/aws:SourceArn.
    #[arg(long, value_name = "ARN")]
    cluster_arn: String,
    /// The association has DisableSessionTags: true (EKS then does not call sts:TagSession).
    #[arg(long)]
    disable_session_tags: bool,
    /// The association's namespace, for conditions on the kubernetes-namespace session tag.
    #[arg(long)]
    namespace: Option<String>,
    /// The association's service account, for conditions on the kubernetes-service-account session tag.
    #[arg(long)]
    service_account: Option<String>,
    /// The association's RoleArn (known from --role-name); needed to check a target role's trust policy.
    #[arg(long, value_name = "ARN")]
    role_arn: Option<String>,
    /// The association's TargetRoleArn (cross-account chaining).
    #[arg(long, value_name = "ARN")]
    target_role_arn: Option<String>,
    /// The target role's trust policy file (`-` reads standard input).
    #[arg(long, value_name = "FILE", requires = "target_role_arn")]
    target_policy_file: Option<PathBuf>,
    /// The association's ExternalId; by default the value the target policy asks for is assumed.
    #[arg(long, value_name = "ID", requires = "target_role_arn")]
    external_id: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// IAM endpoint to call instead of AWS, for --role-name (AWS_ENDPOINT_URL_IAM is honoured too).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
}

#[derive(Args)]
pub struct CreateRoleArgs {
    /// The role's name.
    #[arg(long)]
    name: String,
    /// The role's path, such as /eks/ (default /). An existing role's path cannot change.
    #[arg(long)]
    path: Option<String>,
    /// The cluster the role is for; the trust policy admits only it (aws:SourceAccount and aws:SourceArn).
    #[arg(long, value_name = "ARN")]
    cluster_arn: String,
    /// A managed policy to attach (repeat for several); already attached ones are left alone.
    #[arg(long = "permission-policy-arn", value_name = "ARN")]
    permission_policy_arns: Vec<String>,
    /// The role's description.
    #[arg(long)]
    description: Option<String>,
    /// IAM endpoint to call instead of AWS (AWS_ENDPOINT_URL_IAM is honoured too).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    /// Print the outcome as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs a trust command; errors are printed here, so the caller only passes the exit code on.
pub async fn run(command: TrustCommand) -> ExitCode {
    let result = match command {
        TrustCommand::Generate { account, cluster_arn } => {
            pod_identity_trust_policy(account.as_deref(), cluster_arn.as_deref())
                .map(|policy| print_policy(&policy))
                .map_err(|e| Failure::input(e.to_string()))
        }
        TrustCommand::Target {
            source_role_arn,
            external_id,
        } => target_role_trust_policy(&source_role_arn, &external_id)
            .map(|policy| print_policy(&policy))
            .map_err(|e| Failure::input(e.to_string())),
        TrustCommand::Check(args) => check(args).await,
        TrustCommand::CreateRole(args) => create_role(args).await,
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

async fn check(args: CheckArgs) -> Result<ExitCode, Failure> {
    let cluster_arn: ClusterArn = args
        .cluster_arn
        .parse()
        .map_err(|e: pia_trust::ArnError| Failure::input(e.to_string()))?;
    let mut role_arn: Option<RoleArn> = args
        .role_arn
        .as_deref()
        .map(|arn| {
            arn.parse()
                .map_err(|e: pia_trust::ArnError| Failure::input(format!("--role-arn: {e}")))
        })
        .transpose()?;

    let policy = match (&args.role_name, args.file.as_deref().or(args.policy.as_deref())) {
        (Some(role_name), _) => {
            let client = iam_client(args.endpoint_url.clone()).await;
            // Exit code 1 means "pods will not get credentials"; a policy that cannot be read was not checked.
            let role = fetch_role(&client, role_name)
                .await
                .map_err(|e| Failure::input(e.to_string()))?;
            role_arn = Some(role.arn);
            role.trust_policy
        }
        (None, Some(path)) => read_policy(path)?,
        // clap's "source" group requires one of them.
        (None, None) => {
            return Err(Failure::input(
                "give a policy file, `-` for standard input, or --role-name",
            ));
        }
    };

    let target = match &args.target_role_arn {
        Some(arn) => Some(TargetRoleInput {
            target_role_arn: arn
                .parse()
                .map_err(|e: pia_trust::ArnError| Failure::input(format!("--target-role-arn: {e}")))?,
            trust_policy: args.target_policy_file.as_deref().map(read_policy).transpose()?,
            external_id: args.external_id.clone(),
        }),
        None => None,
    };
    let input = CheckInput {
        cluster_arn,
        disable_session_tags: args.disable_session_tags,
        namespace: args.namespace,
        service_account: args.service_account,
        role_arn,
        target,
    };
    let report =
        check_trust(&policy, &input).map_err(|e| Failure::input(format!("{e}: pass --role-arn (or --role-name)")))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    } else {
        print!("{report}");
    }
    Ok(if report.will_work {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILED)
    })
}

async fn create_role(args: CreateRoleArgs) -> Result<ExitCode, Failure> {
    let trust_policy =
        pod_identity_trust_policy(None, Some(&args.cluster_arn)).map_err(|e| Failure::input(e.to_string()))?;
    if let Some(path) = args
        .path
        .as_ref()
        .filter(|path| !path.starts_with('/') || !path.ends_with('/'))
    {
        return Err(Failure::input(format!(
            "--path {path:?}: an IAM path starts and ends with /, such as /eks/"
        )));
    }
    let spec = RoleSpec {
        name: args.name,
        path: args.path,
        description: args.description,
        trust_policy,
        permission_policy_arns: args.permission_policy_arns,
    };
    let client = iam_client(args.endpoint_url).await;
    let outcome = ensure_role(&client, &spec)
        .await
        .map_err(|e| Failure::aws(e.to_string()))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&outcome).unwrap_or_default());
    } else {
        print!("{outcome}");
    }
    Ok(ExitCode::SUCCESS)
}

/// An IAM client from the standard configuration chain. IAM is global, so a missing region defaults to
/// us-east-1 rather than failing.
async fn iam_client(endpoint_url: Option<String>) -> IamClient {
    let region = std::env::var("AWS_REGION")
        .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|_| "us-east-1".to_owned());
    let mut loader =
        aws_config::defaults(aws_config::BehaviorVersion::latest()).region(aws_config::Region::new(region));
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    IamClient::new(&loader.load().await)
}

fn read_policy(path: &Path) -> Result<PolicyDocument, Failure> {
    let (what, text) = if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure::input(format!("cannot read standard input: {e}")))?;
        ("standard input".to_owned(), text)
    } else {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::input(format!("cannot read {}: {e}", path.display())))?;
        (path.display().to_string(), text)
    };
    PolicyDocument::parse(&text).map_err(|e| Failure::input(format!("{what}: {e}")))
}
