//! The Lambda entry point (`bootstrap` on provided.al2023): every event goes through [`Provider::invoke`].

use std::sync::Arc;

use lambda_runtime::{service_fn, LambdaEvent};
use pia_handlers::ProgressEvent;
use serde_json::value::RawValue;

use crate::provider::Provider;

pub async fn run() -> Result<(), lambda_runtime::Error> {
    let provider = Provider::from_env().await;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| {
        let provider: Arc<Provider> = Arc::clone(&provider);
        async move { Ok::<ProgressEvent, lambda_runtime::Error>(provider.invoke(event.payload.get().as_bytes()).await) }
    }))
    .await
}
