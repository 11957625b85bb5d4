//! `pia whoami`: what an AWS SDK in this process gets from the standard credential chain, as STS sees it. Inside a
//! pod (or a process given the webhook's two variables) that is the pod identity.

use std::process::ExitCode;

use crate::CliError;

pub async fn run() -> Result<ExitCode, CliError> {
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let sts = aws_sdk_sts::Client::new(&config);
    let identity = sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| CliError::Call(aws_sdk_sts::error::DisplayErrorContext(&e).to_string()))?;
    println!("{}", identity.arn().unwrap_or_default());
    Ok(ExitCode::SUCCESS)
}
