//! The Lambda function (`provided.al2023`): CloudFormation invokes it with HandlerRequests.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    pia_provider::logging::init(pia_provider::logging::LogStyle::Lambda);
    pia_provider::lambda::run().await
}
