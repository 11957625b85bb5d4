//! `pia trust generate`: the trust policy an association's role needs, and what an unlimited one means.

use std::process::ExitCode;

use clap::Args;
use pia_trust::{ServiceAccountScope, scoped_pod_identity_trust_policy};

use super::{Failure, print_policy};

#[derive(Args)]
pub struct GenerateArgs {
    /// Limit the role to clusters of this account (StringEquals aws:SourceAccount).
    #[arg(long, value_name = "ID")]
    account: Option<String>,
    /// Limit the role to this cluster (ArnEquals aws:SourceArn; adds the account condition too).
    #[arg(long, value_name = "ARN")]
    cluster_arn: Option<String>,
    /// Limit the role to pods of this namespace (aws:RequestTag/kubernetes-namespace; repeat for several).
    /// The association must then tag sessions: with DisableSessionTags the condition refuses every pod.
    #[arg(long = "namespace", value_name = "NAME")]
    namespaces: Vec<String>,
    /// Limit the role to pods of this service account (aws:RequestTag/kubernetes-service-account; repeat for
    /// several). With --cluster-arn, aws:RequestTag/eks-cluster-name is added too, as in the EKS user guide.
    #[arg(long = "service-account", value_name = "NAME")]
    service_accounts: Vec<String>,
}

/// What a policy without conditions lets happen, and how to limit it.
const UNLIMITED_NOTE: &str = "note: this policy has no condition: EKS may use the role for pods of any cluster, in any account, whose administrators can pass the role (the confused deputy problem). Limit it to one cluster with --cluster-arn ARN (or to the clusters of one account with --account ID), and to service accounts with --namespace and --service-account.";

pub(super) fn generate(args: GenerateArgs) -> Result<ExitCode, Failure> {
    let scope = ServiceAccountScope {
        namespaces: args.namespaces,
        service_accounts: args.service_accounts,
    };
    let policy = scoped_pod_identity_trust_policy(args.account.as_deref(), args.cluster_arn.as_deref(), &scope)
        .map_err(|e| Failure::input(e.to_string()))?;
    if policy
        .statements
        .iter()
        .all(|statement| statement.conditions.is_empty())
    {
        eprintln!("{UNLIMITED_NOTE}");
    }
    Ok(print_policy(&policy))
}
