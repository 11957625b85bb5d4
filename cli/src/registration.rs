//! Registering the type with CloudFormation without the Python CLI: RegisterType, then DescribeTypeRegistration
//! until it completes, then SetTypeDefaultVersion.

use std::time::{Duration, Instant};

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{LoggingConfig, RegistrationStatus, RegistryType};
use thiserror::Error;

#[derive(Debug, Clone)]
pub struct Registration {
    pub type_name: String,
    /// `s3://bucket/key` of the package built by `pia package`.
    pub package_url: String,
    pub execution_role_arn: Option<String>,
    /// Where the handlers' logs go (both or neither).
    pub log_group_name: Option<String>,
    pub log_role_arn: Option<String>,
    pub set_default: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    pub type_arn: String,
    pub type_version_arn: String,
    pub is_default: bool,
}

#[derive(Debug, Error)]
pub enum RegistrationError {
    #[error("the package must be an S3 URL (s3://bucket/key), not {0:?}: upload it first, e.g. `aws s3 cp`")]
    NotAnS3Url(String),
    #[error("a log group needs a log role and the other way round")]
    HalfLoggingConfig,
    #[error("CloudFormation {operation} failed: {message}")]
    Call { operation: &'static str, message: String },
    #[error("the registration failed: {0}")]
    Failed(String),
    #[error("the registration did not complete within {0} s (token {1})")]
    TimedOut(u64, String),
}

/// How often and how long to wait for the registry.
#[derive(Debug, Clone, Copy)]
pub struct Polling {
    pub interval: Duration,
    pub timeout: Duration,
}

impl Default for Polling {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(5),
            timeout: Duration::from_secs(15 * 60),
        }
    }
}

pub async fn register(
    client: &Client,
    registration: &Registration,
    polling: Polling,
) -> Result<Registered, RegistrationError> {
    if !registration.package_url.starts_with("s3://") && !registration.package_url.starts_with("https://") {
        return Err(RegistrationError::NotAnS3Url(registration.package_url.clone()));
    }
    let logging = match (&registration.log_group_name, &registration.log_role_arn) {
        (Some(group), Some(role)) => Some(
            LoggingConfig::builder()
                .log_group_name(group)
                .log_role_arn(role)
                .build(),
        ),
        (None, None) => None,
        _ => return Err(RegistrationError::HalfLoggingConfig),
    };
    let token = client
        .register_type()
        .r#type(RegistryType::Resource)
        .type_name(&registration.type_name)
        .schema_handler_package(&registration.package_url)
        .set_execution_role_arn(registration.execution_role_arn.clone())
        .set_logging_config(logging)
        .send()
        .await
        .map_err(|e| call_error("RegisterType", e))?
        .registration_token
        .ok_or_else(|| RegistrationError::Call {
            operation: "RegisterType",
            message: "no registration token".into(),
        })?;

    let started = Instant::now();
    let progress = crate::progress::spinner(format!("registering {}: IN_PROGRESS", registration.type_name));
    let (type_arn, type_version_arn) = loop {
        let status = client
            .describe_type_registration()
            .registration_token(&token)
            .send()
            .await
            .map_err(|e| call_error("DescribeTypeRegistration", e))?;
        match status.progress_status {
            Some(RegistrationStatus::Complete) => {
                break (
                    status.type_arn.unwrap_or_default(),
                    status.type_version_arn.unwrap_or_default(),
                );
            }
            Some(RegistrationStatus::Failed) => {
                return Err(RegistrationError::Failed(
                    status.description.unwrap_or_else(|| "no reason given".into()),
                ));
            }
            _ if started.elapsed() >= polling.timeout => {
                return Err(RegistrationError::TimedOut(polling.timeout.as_secs(), token));
            }
            _ => tokio::time::sleep(polling.interval).await,
        }
    };
    progress.finish_and_clear();

    if registration.set_default {
        client
            .set_type_default_version()
            .arn(&type_version_arn)
            .send()
            .await
            .map_err(|e| call_error("SetTypeDefaultVersion", e))?;
    }
    Ok(Registered {
        type_arn,
        type_version_arn,
        is_default: registration.set_default,
    })
}

fn call_error<E: std::error::Error + aws_sdk_cloudformation::error::ProvideErrorMetadata + 'static>(
    operation: &'static str,
    error: aws_sdk_cloudformation::error::SdkError<E, aws_sdk_cloudformation::config::http::HttpResponse>,
) -> RegistrationError {
    let message = match error.as_service_error() {
        Some(service) => format!(
            "{}: {}",
            service.code().unwrap_or("Error"),
            service.message().unwrap_or("")
        ),
        None => crate::cause::innermost(&error),
    };
    RegistrationError::Call { operation, message }
}
