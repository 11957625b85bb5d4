//! The Lambda function (`provided.al2023`): CloudFormation invokes it with HandlerRequests.

use std::process::ExitCode;

// A handler's panic is answered InternalFailure (provider.rs); with abort the invocation would be lost instead.
#[cfg(panic = "abort")]
compile_error!("bootstrap must be built with panic = \"unwind\"");

// One thread: Lambda sends one invocation at a time, and a thread pool would cost start-up time and memory.
#[tokio::main(flavor = "current_thread")]
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
