//! This project's provider as the emulator's `AWS::EKS::PodIdentityAssociation`: stacks and Cloud Control run its
//! handlers in process, as CloudFormation runs a registered type's function.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use pia_emulator::{Emulator, HandlerInvoker};
use pia_provider::Provider;
use pia_provider::schema::RESOURCE_SCHEMA;
use serde_json::{Value, json};

/// Runs a HandlerRequest through [`Provider::invoke`], as the Lambda function would.
pub struct ProviderInvoker(pub Arc<Provider>);

impl HandlerInvoker for ProviderInvoker {
    fn invoke(&self, request: Value) -> Pin<Box<dyn Future<Output = Value> + Send + '_>> {
        Box::pin(async move {
            let event = self.0.invoke(request.to_string().as_bytes()).await;
            serde_json::to_value(event).unwrap_or_else(|error| {
                json!({
                    "status": "FAILED",
                    "errorCode": "InternalFailure",
                    "message": format!("the ProgressEvent is not JSON: {error}"),
                })
            })
        })
    }
}

/// Registers `provider` as the emulator's `AWS::EKS::PodIdentityAssociation`, with the bundled resource schema; the
/// type name registered.
pub fn register_provider(emulator: &Emulator, provider: Arc<Provider>) -> Option<String> {
    let schema: Value = serde_json::from_str(RESOURCE_SCHEMA).ok()?;
    emulator.register_handlers(&schema, Arc::new(ProviderInvoker(provider)))
}
