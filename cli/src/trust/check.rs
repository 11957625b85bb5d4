//! `pia trust check`: one trust policy (a file, standard input, or an IAM role) against one association, or
//! every association of a CloudFormation template.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::output::Output;
use clap::{ArgGroup, Args};
use pia_trust::policy::PolicyInput;
use pia_trust::roles::{IamClient, fetch_role};
use pia_trust::{ArnError, CheckInput, ClusterArn, RoleArn, TargetRoleInput, TrustReport, check_trust};

use super::template::check_template;
use super::{EXIT_FAILED, Failure, read_text, sdk_config};

/// What a template gives for each association; not to be given beside --template.
const ASSOCIATION_FLAGS: [&str; 7] = [
    "disable_session_tags",
    "namespace",
    "service_account",
    "role_arn",
    "target_role_arn",
    "target_policy_file",
    "external_id",
];

#[derive(Args)]
#[command(group(ArgGroup::new("source").required(true).args(["policy", "file", "role_name", "template"])))]
pub struct CheckArgs {
    /// The trust policy file, JSON or YAML, the document or `aws iam get-role` output; `-` reads standard input.
    #[arg(value_name = "POLICY")]
    policy: Option<PathBuf>,
    /// The trust policy file (as POLICY); `-` reads standard input.
    #[arg(long, short, value_name = "FILE")]
    file: Option<PathBuf>,
    /// Read the trust policy of this IAM role (GetRole) instead of a file.
    #[arg(long, value_name = "NAME")]
    role_name: Option<String>,
    /// Check every AWS::EKS::PodIdentityAssociation of this CloudFormation template (JSON or YAML) against
    /// the trust policy of the template's role it uses. Parameters, pseudo parameters (from --cluster-arn; the
    /// stack name is the file's name without extension), mappings and conditions are resolved; what cannot
    /// be (an attribute of a resource that does not exist yet, a role outside the template) is named.
    #[arg(long, value_name = "FILE", conflicts_with_all = ASSOCIATION_FLAGS)]
    template: Option<PathBuf>,
    /// A template parameter's value, KEY=VALUE (repeat for several); the others take their defaults.
    #[arg(long = "parameter", value_name = "KEY=VALUE", requires = "template")]
    parameters: Vec<String>,
    /// The association's cluster: its account and ARN are what EKS sends as aws:SourceAccount/aws:SourceArn.
    /// With --template: the account, region and partition the stack is deployed to.
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
    /// The association's RoleArn (known from --role-name and from get-role output); needed to check a target
    /// role's trust policy.
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
    /// How to print the report: text, or one JSON document.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    output: Output,
    /// IAM endpoint to call instead of AWS, for --role-name (AWS_ENDPOINT_URL_IAM is honoured too).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
}

pub(super) async fn check(args: CheckArgs) -> Result<ExitCode, Failure> {
    let cluster_arn: ClusterArn = args
        .cluster_arn
        .parse()
        .map_err(|e: ArnError| Failure::input(e.to_string()))?;
    if let Some(template) = &args.template {
        return check_template(template, &args.parameters, &cluster_arn, args.output == Output::Json);
    }
    let mut role_arn: Option<RoleArn> = args
        .role_arn
        .as_deref()
        .map(|arn| parse_role_arn("--role-arn", arn))
        .transpose()?;

    let policy = match (&args.role_name, args.file.as_deref().or(args.policy.as_deref())) {
        (Some(role_name), _) => {
            let client = IamClient::new(&sdk_config(args.endpoint_url.clone()).await);
            // Exit code 1 means "pods will not get credentials"; a policy that cannot be read was not checked.
            let role = fetch_role(&client, role_name)
                .await
                .map_err(|e| Failure::input(e.to_string()))?;
            role_arn = Some(role.arn);
            role.trust_policy
        }
        (None, Some(path)) => {
            let input = read_policy_input(path)?;
            if let (None, Some(arn)) = (&role_arn, &input.role_arn) {
                role_arn = Some(parse_role_arn("the get-role output's Role.Arn", arn)?);
            }
            input.policy
        }
        // clap's "source" group requires one of them.
        (None, None) => {
            return Err(Failure::input(
                "give a policy file, `-` for standard input, --role-name or --template",
            ));
        }
    };

    let target = match &args.target_role_arn {
        Some(arn) => Some(TargetRoleInput {
            target_role_arn: parse_role_arn("--target-role-arn", arn)?,
            trust_policy: args
                .target_policy_file
                .as_deref()
                .map(|path| read_policy_input(path).map(|input| input.policy))
                .transpose()?,
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
    if args.output == Output::Json {
        println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    } else {
        print!("{report}");
    }
    Ok(verdict_exit_code(&report))
}

pub(super) fn verdict_exit_code(report: &TrustReport) -> ExitCode {
    if report.will_work {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILED)
    }
}

fn parse_role_arn(what: &str, arn: &str) -> Result<RoleArn, Failure> {
    arn.parse()
        .map_err(|e: ArnError| Failure::input(format!("{what}: {e}")))
}

fn read_policy_input(path: &Path) -> Result<PolicyInput, Failure> {
    let (what, text) = read_text(path)?;
    PolicyInput::parse(&text).map_err(|e| Failure::input(format!("{what}: {e}")))
}
