//! Why a role could not be read, checked, created or updated.

use std::fmt;

use aws_sdk_iam::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use thiserror::Error;

use crate::generate::GenerateError;
use crate::policy::PolicyError;

#[derive(Debug, Error)]
pub enum RoleError {
    /// An IAM call failed; `message` has the service's error code and message.
    #[error("IAM {operation} failed: {message}")]
    Iam { operation: &'static str, message: String },
    #[error("{operation} returned no {field}")]
    IncompleteResponse {
        operation: &'static str,
        field: &'static str,
    },
    #[error("the role {name} does not exist")]
    NoSuchRole { name: String },
    #[error("the role {name} exists with path {existing}, not {requested}; IAM cannot move a role to another path")]
    PathMismatch {
        name: String,
        existing: String,
        requested: String,
    },
    #[error("the path {path:?}: an IAM path starts and ends with /, such as /eks/")]
    InvalidPath { path: String },
    #[error("the trust policy of role {name} cannot be read: {source}")]
    UnreadableTrustPolicy { name: String, source: PolicyError },
    #[error("{arn:?} is not a managed policy this role can use: {reason}")]
    InvalidPolicyArn { arn: String, reason: String },
    #[error("the managed policy {arn} does not exist")]
    NoSuchPolicy { arn: String },
    #[error(
        "the credentials are of account {caller}, but the cluster is in account {cluster}: EKS accepts only a role of the cluster's account, so create it with credentials of {cluster}"
    )]
    AccountMismatch { caller: String, cluster: String },
    #[error(
        "the trust policy of role {name} still refuses EKS with the pod identity statement added ({problem}); pass --replace to overwrite it with the pod identity policy"
    )]
    MergeStillRefuses { name: String, problem: String },
    #[error(transparent)]
    Generate(#[from] GenerateError),
    /// A write failed after earlier writes of the same run, which were then undone (as far as they could be).
    #[error("{failed}; {}", undo_summary(.undone, .not_undone))]
    Undone {
        failed: Box<RoleError>,
        /// What was undone, in order ("deleted role …").
        undone: Vec<String>,
        /// What could not be undone and is left behind, with the reason.
        not_undone: Vec<String>,
    },
}

impl RoleError {
    pub(super) fn iam<E, R>(operation: &'static str, error: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: fmt::Debug,
    {
        // The service's code and message say it all; the full error chain only for transport failures.
        let message = match error.as_service_error() {
            Some(service) => format!(
                "{}: {}",
                service.code().unwrap_or("UnknownError"),
                service.message().unwrap_or("no message")
            ),
            None => DisplayErrorContext(&error).to_string(),
        };
        Self::Iam { operation, message }
    }

    /// Whether the input is at fault (a value to change) rather than a call that failed.
    pub fn is_bad_input(&self) -> bool {
        match self {
            Self::NoSuchRole { .. }
            | Self::PathMismatch { .. }
            | Self::InvalidPath { .. }
            | Self::UnreadableTrustPolicy { .. }
            | Self::InvalidPolicyArn { .. }
            | Self::NoSuchPolicy { .. }
            | Self::AccountMismatch { .. }
            | Self::MergeStillRefuses { .. }
            | Self::Generate(_) => true,
            Self::Iam { .. } | Self::IncompleteResponse { .. } | Self::Undone { .. } => false,
        }
    }
}

fn undo_summary(undone: &[String], not_undone: &[String]) -> String {
    let mut summary = if undone.is_empty() {
        "nothing had been written".to_owned()
    } else {
        format!("undone: {}", undone.join(", "))
    };
    if !not_undone.is_empty() {
        summary.push_str(&format!("; left behind: {}", not_undone.join(", ")));
    }
    summary
}
