//! EKS Auth's errors (its service model, API version 2023-11-26): name, status, and the rest-json wire form
//! (`x-amzn-errortype` and `{"message"}`). Note that AccessDeniedException is a 400 here, where EKS answers
//! 403.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Map;

use crate::error_kind::ErrorKind;
use crate::protocol::rest_json;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthErrorKind {
    InvalidRequest,
    AccessDenied,
    InvalidToken,
    InvalidParameter,
    ExpiredToken,
    ResourceNotFound,
    Throttling,
    InternalServer,
    ServiceUnavailable,
}

impl AuthErrorKind {
    /// EKS Auth's nearest error to an EKS error kind (for injected [`crate::Fault::Error`] faults).
    pub fn from_eks(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::ResourceNotFound | ErrorKind::NotFound => Self::ResourceNotFound,
            ErrorKind::InvalidParameter => Self::InvalidParameter,
            ErrorKind::InvalidRequest
            | ErrorKind::BadRequest
            | ErrorKind::ResourceInUse
            | ErrorKind::ResourceLimitExceeded => Self::InvalidRequest,
            ErrorKind::AccessDenied => Self::AccessDenied,
            ErrorKind::Throttling => Self::Throttling,
            ErrorKind::Server => Self::InternalServer,
            ErrorKind::ServiceUnavailable => Self::ServiceUnavailable,
        }
    }

    /// The error's name, as in `x-amzn-errortype` and the SDK's `code()`.
    pub fn name(self) -> &'static str {
        match self {
            Self::InvalidRequest => "InvalidRequestException",
            Self::AccessDenied => "AccessDeniedException",
            Self::InvalidToken => "InvalidTokenException",
            Self::InvalidParameter => "InvalidParameterException",
            Self::ExpiredToken => "ExpiredTokenException",
            Self::ResourceNotFound => "ResourceNotFoundException",
            Self::Throttling => "ThrottlingException",
            Self::InternalServer => "InternalServerException",
            Self::ServiceUnavailable => "ServiceUnavailableException",
        }
    }

    pub fn status(self) -> u16 {
        match self {
            Self::InvalidRequest
            | Self::AccessDenied
            | Self::InvalidToken
            | Self::InvalidParameter
            | Self::ExpiredToken => 400,
            Self::ResourceNotFound => 404,
            Self::Throttling => 429,
            Self::InternalServer => 500,
            Self::ServiceUnavailable => 503,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", kind.name())]
pub(crate) struct AuthError {
    pub kind: AuthErrorKind,
    pub message: String,
}

impl AuthError {
    pub fn new(kind: AuthErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub fn invalid_token(message: impl Into<String>) -> Self {
        Self::new(AuthErrorKind::InvalidToken, message)
    }

    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new(AuthErrorKind::InvalidParameter, message)
    }

    pub fn access_denied(message: impl Into<String>) -> Self {
        Self::new(AuthErrorKind::AccessDenied, message)
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        // The request id header is added by the dispatcher.
        let status = StatusCode::from_u16(self.kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
        rest_json::error_response(status, self.kind.name(), &self.message, Map::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_statuses_follow_the_model() {
        use AuthErrorKind::*;
        let all = [
            InvalidRequest,
            AccessDenied,
            InvalidToken,
            InvalidParameter,
            ExpiredToken,
            ResourceNotFound,
            Throttling,
            InternalServer,
            ServiceUnavailable,
        ];
        let statuses: Vec<(&str, u16)> = all.iter().map(|k| (k.name(), k.status())).collect();
        assert_eq!(
            statuses,
            [
                ("InvalidRequestException", 400),
                ("AccessDeniedException", 400),
                ("InvalidTokenException", 400),
                ("InvalidParameterException", 400),
                ("ExpiredTokenException", 400),
                ("ResourceNotFoundException", 404),
                ("ThrottlingException", 429),
                ("InternalServerException", 500),
                ("ServiceUnavailableException", 503),
            ]
        );
    }
}
