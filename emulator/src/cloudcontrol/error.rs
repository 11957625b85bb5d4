//! Cloud Control's errors, as botocore's model names them, answered as JSON 1.0 errors.

use axum::http::StatusCode;
use axum::response::Response;

use crate::protocol::json;
use crate::resources::Failure;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub(crate) struct CloudControlError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl CloudControlError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code,
            message: message.into(),
        }
    }

    pub fn into_response(self) -> Response {
        json::error_response(self.status, self.code, &self.message)
    }

    pub fn access_denied(message: String) -> Self {
        Self::new("AccessDeniedException", message)
    }

    pub fn unknown_operation(operation: &str) -> Self {
        Self::new("UnknownOperationException", format!("Unknown operation {operation}"))
    }

    pub fn serialization(message: impl Into<String>) -> Self {
        Self::new("SerializationException", message)
    }

    /// A member that breaks its shape's constraint, in the words of AWS's request validation.
    pub fn validation(member: &str, value: Option<&str>, constraint: &str) -> Self {
        let value = value.map_or_else(|| "null".to_owned(), |value| format!("'{value}'"));
        Self::new(
            "ValidationException",
            format!(
                "1 validation error detected: Value {value} at '{member}' failed to satisfy constraint: {constraint}"
            ),
        )
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new("InvalidRequestException", message)
    }

    pub fn type_not_found(type_name: &str) -> Self {
        Self::new(
            "TypeNotFoundException",
            format!("The type '{type_name}' cannot be found."),
        )
    }

    /// The type has no handler for `action` (`CREATE`, `READ`, …).
    pub fn unsupported_action(type_name: &str, action: &str) -> Self {
        Self::new(
            "UnsupportedActionException",
            format!("Resource type {type_name} does not support {action} action"),
        )
    }

    pub fn request_token_not_found(token: &str) -> Self {
        Self::new(
            "RequestTokenNotFoundException",
            format!("Request with token {token} was not found"),
        )
    }

    /// A handler's failure in a call answered at once (GetResource, ListResources): the exception of its error
    /// code, with Cloud Control's status reason.
    pub fn from_handler(type_name: &str, failure: &Failure) -> Self {
        let mut error = Self::new(
            exception_of(&failure.code),
            format!(
                "{type_name} Handler returned status FAILED: {} (HandlerErrorCode: {})",
                failure.message, failure.code
            ),
        );
        if error.code == "ServiceInternalErrorException" || error.code == "HandlerInternalFailureException" {
            error.status = StatusCode::INTERNAL_SERVER_ERROR;
        }
        error
    }
}

/// The exception Cloud Control answers for a handler error code.
fn exception_of(handler_error_code: &str) -> &'static str {
    match handler_error_code {
        "NotFound" => "ResourceNotFoundException",
        "AlreadyExists" => "AlreadyExistsException",
        "InvalidRequest" => "InvalidRequestException",
        "NotUpdatable" => "NotUpdatableException",
        "InvalidCredentials" => "InvalidCredentialsException",
        "ResourceConflict" => "ResourceConflictException",
        "Throttling" => "ThrottlingException",
        "ServiceLimitExceeded" => "ServiceLimitExceededException",
        "NotStabilized" => "NotStabilizedException",
        "GeneralServiceException" => "GeneralServiceException",
        "ServiceInternalError" => "ServiceInternalErrorException",
        "NetworkFailure" => "NetworkFailureException",
        "InternalFailure" => "HandlerInternalFailureException",
        _ => "HandlerFailureException",
    }
}
