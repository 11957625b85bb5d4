//! The Lambda entry point (`bootstrap` on provided.al2023): every event goes through [`Provider::invoke`].

use std::sync::Arc;

use lambda_runtime::{LambdaEvent, service_fn};
use pia_handlers::ProgressEvent;
use serde_json::value::RawValue;

use crate::provider::Provider;

/// What keeps the function from starting.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// lambda_runtime panics on a missing variable; this says which one, and that Lambda sets it.
    #[error("{name} is not set: bootstrap runs inside AWS Lambda (or a Lambda Runtime API emulator), which sets it")]
    MissingEnvironment { name: &'static str },
    #[error("AWS_LAMBDA_FUNCTION_MEMORY_SIZE must be a whole number of MB, not {value:?}")]
    BadMemorySize { value: String },
    #[error("the Lambda runtime stopped: {0}")]
    Runtime(lambda_runtime::Error),
}

/// The variables Lambda sets for every function and lambda_runtime cannot start without.
const REQUIRED_ENVIRONMENT: [&str; 4] = [
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
];

/// Checks, before lambda_runtime reads them, the variables it would panic on.
pub fn check_environment(lookup: impl Fn(&str) -> Option<String>) -> Result<(), StartError> {
    for name in REQUIRED_ENVIRONMENT {
        if lookup(name).is_none_or(|value| value.is_empty()) {
            return Err(StartError::MissingEnvironment { name });
        }
    }
    let memory = lookup("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").unwrap_or_default();
    memory
        .parse::<i32>()
        .map_err(|_| StartError::BadMemorySize { value: memory.clone() })?;
    Ok(())
}

pub async fn run() -> Result<(), StartError> {
    check_environment(|name| std::env::var(name).ok())?;
    let provider = Provider::from_env().await;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| {
        let provider: Arc<Provider> = Arc::clone(&provider);
        async move { Ok::<ProgressEvent, lambda_runtime::Error>(provider.invoke(event.payload.get().as_bytes()).await) }
    }))
    .await
    .map_err(StartError::Runtime)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lambda_environment() -> HashMap<&'static str, String> {
        REQUIRED_ENVIRONMENT
            .iter()
            .map(|name| (*name, "1".to_owned()))
            .collect()
    }

    #[test]
    fn names_the_missing_variable() {
        assert!(check_environment(|name| lambda_environment().get(name).cloned()).is_ok());
        for missing in REQUIRED_ENVIRONMENT {
            let mut environment = lambda_environment();
            environment.remove(missing);
            let error = check_environment(|name| environment.get(name).cloned()).unwrap_err();
            assert!(error.to_string().starts_with(missing), "{error}");
        }
    }

    #[test]
    fn rejects_a_memory_size_that_is_not_a_number() {
        let mut environment = lambda_environment();
        environment.insert("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128MB".into());
        let error = check_environment(|name| environment.get(name).cloned()).unwrap_err();
        assert!(matches!(error, StartError::BadMemorySize { .. }), "{error}");
    }
}
