//! `pia whoami`: what an AWS SDK in this process gets from the standard credential chain, as STS sees it. Inside a
//! pod (or a process given the webhook's two variables) that is the pod identity.
//!
//! When it gets nothing, it says why in the terms of the environment, not the SDK's: the variable that is missing or
//! names an unreadable file, or the Pod Identity Agent's own answer (asked again, to read its body, which the SDK's
//! error leaves out).

use std::process::ExitCode;

use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use pia_emulator::webhook::{ENV_FULL_URI, ENV_TOKEN_FILE};

use crate::CliError;
use crate::cause;
use crate::http_client;
use crate::output::Output;

pub async fn run(output: Output) -> Result<ExitCode, CliError> {
    let token_file = std::env::var_os(ENV_TOKEN_FILE);
    let agent = std::env::var(ENV_FULL_URI).ok();
    let token = match (&agent, &token_file) {
        (Some(_), None) => {
            return Err(CliError::Call(format!(
                "{ENV_FULL_URI} is set but {ENV_TOKEN_FILE} is not: the pod's token file is missing"
            )));
        }
        (_, Some(path)) => Some(std::fs::read_to_string(path).map_err(|source| {
            CliError::Call(format!(
                "{ENV_TOKEN_FILE} names {}, which cannot be read: {source}",
                std::path::Path::new(path).display()
            ))
        })?),
        (None, None) => None,
    };
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    if config.region().is_none() {
        return Err(CliError::Call(
            "no region: set AWS_REGION (or AWS_DEFAULT_REGION)".into(),
        ));
    }
    let sts = aws_sdk_sts::Client::new(&config);
    match sts.get_caller_identity().send().await {
        Ok(identity) => {
            match output {
                Output::Text => println!("{}", identity.arn().unwrap_or_default()),
                Output::Json => println!(
                    "{:#}",
                    serde_json::json!({
                        "Account": identity.account(),
                        "Arn": identity.arn(),
                        "UserId": identity.user_id(),
                    })
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(SdkError::ServiceError(error)) => {
            let error = error.err();
            Err(CliError::Call(format!(
                "STS refused: {}: {}",
                error.code().unwrap_or("error"),
                error.message().unwrap_or_default()
            )))
        }
        Err(error) => Err(CliError::Call(match (agent, token) {
            (Some(uri), Some(token)) => agent_answer(&uri, token.trim()).await,
            _ if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() => match std::env::var("AWS_PROFILE") {
                // The profile was the chain's source: its own failure (an unreachable STS, a refused role) says why.
                Ok(profile) => format!("no credentials from profile {profile:?}: {}", cause::innermost(&error)),
                Err(_) => format!(
                    "no credentials: neither {ENV_FULL_URI} and {ENV_TOKEN_FILE} (a pod's) nor AWS_ACCESS_KEY_ID and \
                     AWS_SECRET_ACCESS_KEY are set"
                ),
            },
            _ => format!("cannot reach STS: {}", cause::innermost(&error)),
        })),
    }
}

/// Why the agent gave no credentials, in its own words.
async fn agent_answer(uri: &str, token: &str) -> String {
    match http_client::send("GET", uri, &[("authorization", token)], Vec::new()).await {
        Ok(answer) if answer.status != 200 => format!(
            "no credentials: the Pod Identity Agent at {uri} answered {}: {}",
            answer.status,
            answer.body.trim()
        ),
        Ok(_) => {
            format!("no credentials: the Pod Identity Agent at {uri} answers, but not with credentials the SDK can use")
        }
        Err(error) => format!("no credentials: {error} ({ENV_FULL_URI})"),
    }
}
