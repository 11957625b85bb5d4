//! The floor of `pia bench`'s cold start: a Lambda function on the stack `bootstrap` runs on (lambda_runtime on
//! tokio's current-thread runtime, the same build profile) whose handler answers SUCCESS at once, without reading
//! the request or calling anything. What `bootstrap` takes beyond it is the provider's own start and first call.

use lambda_runtime::{LambdaEvent, service_fn};
use serde::de::IgnoredAny;
use serde_json::{Value, json};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(service_fn(|_: LambdaEvent<IgnoredAny>| async {
        Ok::<Value, lambda_runtime::Error>(json!({"status": "SUCCESS"}))
    }))
    .await
}
