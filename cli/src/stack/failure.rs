//! Why a `pia stack` command could not do what it was asked, in words a person can act on.

use std::path::PathBuf;

use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StackFailure {
    #[error("no region: set AWS_REGION or pass --region")]
    NoRegion,
    #[error("cannot read the template {path}: {source}")]
    Template { path: PathBuf, source: std::io::Error },
    #[error(
        "the template {path} is {size} bytes: CloudFormation takes at most 51200 in a request (upload larger ones to S3)"
    )]
    TemplateTooLarge { path: PathBuf, size: usize },
    #[error("{0}")]
    BadInput(String),
    #[error("CloudFormation {operation}: {message}")]
    Refused { operation: &'static str, message: String },
    #[error("cannot reach CloudFormation ({operation}): {message}")]
    Unreachable { operation: &'static str, message: String },
    #[error("stack {stack} is {status}{}", reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    Ended {
        stack: String,
        status: String,
        reason: Option<String>,
    },
    #[error("stack {stack} is {status}: it cannot be updated; delete it first (pia stack delete {stack})")]
    NotUpdatable { stack: String, status: String },
    #[error("stack {0} does not exist")]
    NoSuchStack(String),
}

impl StackFailure {
    /// What the user gave is wrong (exit 2), as opposed to what CloudFormation did (exit 1).
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            Self::NoRegion | Self::Template { .. } | Self::TemplateTooLarge { .. } | Self::BadInput(_)
        )
    }

    /// A failed call: CloudFormation's code and message (with what to do for a missing capability), or why it
    /// could not be reached; never the SDK's debug rendering.
    pub fn of_call<E, R>(operation: &'static str, error: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        match &error {
            SdkError::ServiceError(service) => {
                let error = service.err();
                let code = error.code().unwrap_or("Error");
                let message = error.message().unwrap_or("(no message)");
                let hint = if code == "InsufficientCapabilitiesException" {
                    " (acknowledge it with --capabilities)"
                } else {
                    ""
                };
                Self::Refused {
                    operation,
                    message: format!("{code}: {message}{hint}"),
                }
            }
            _ => Self::Unreachable {
                operation,
                message: crate::cause::innermost(&error),
            },
        }
    }

    /// Whether CloudFormation answered that the stack does not exist.
    pub fn is_missing_stack(&self) -> bool {
        matches!(self, Self::Refused { message, .. } if message.starts_with("ValidationError") && message.contains("does not exist"))
    }
}
