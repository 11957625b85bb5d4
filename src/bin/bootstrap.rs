//! The Lambda function (`provided.al2023`): CloudFormation invokes it with HandlerRequests.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    pia_provider::logging::init(pia_provider::logging::LogStyle::Lambda);
    match pia_provider::lambda::run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bootstrap: {error}");
            ExitCode::FAILURE
        }
    }
}
