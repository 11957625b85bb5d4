//! The error kinds of EKS's API. They are also what an injected [`crate::faults::Fault::Error`] answers
//! with, so they sit beneath both the faults and the EKS service; the other APIs map them to their own
//! nearest errors.

use axum::http::StatusCode;

/// The EKS error shapes the emulator answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    ResourceNotFound,
    ResourceInUse,
    InvalidParameter,
    InvalidRequest,
    ResourceLimitExceeded,
    Server,
    Throttling,
    ServiceUnavailable,
    AccessDenied,
    BadRequest,
    NotFound,
}

impl ErrorKind {
    /// The error's name, as in `x-amzn-errortype` and the SDK's `code()`.
    pub fn name(self) -> &'static str {
        match self {
            Self::ResourceNotFound => "ResourceNotFoundException",
            Self::ResourceInUse => "ResourceInUseException",
            Self::InvalidParameter => "InvalidParameterException",
            Self::InvalidRequest => "InvalidRequestException",
            Self::ResourceLimitExceeded => "ResourceLimitExceededException",
            Self::Server => "ServerException",
            Self::Throttling => "ThrottlingException",
            Self::ServiceUnavailable => "ServiceUnavailableException",
            Self::AccessDenied => "AccessDeniedException",
            Self::BadRequest => "BadRequestException",
            Self::NotFound => "NotFoundException",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            Self::ResourceNotFound | Self::NotFound => StatusCode::NOT_FOUND,
            Self::ResourceInUse => StatusCode::CONFLICT,
            Self::InvalidParameter | Self::InvalidRequest | Self::ResourceLimitExceeded | Self::BadRequest => {
                StatusCode::BAD_REQUEST
            }
            Self::Server => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Throttling => StatusCode::TOO_MANY_REQUESTS,
            Self::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::AccessDenied => StatusCode::FORBIDDEN,
        }
    }

    pub const ALL: [ErrorKind; 11] = [
        Self::ResourceNotFound,
        Self::ResourceInUse,
        Self::InvalidParameter,
        Self::InvalidRequest,
        Self::ResourceLimitExceeded,
        Self::Server,
        Self::Throttling,
        Self::ServiceUnavailable,
        Self::AccessDenied,
        Self::BadRequest,
        Self::NotFound,
    ];
}
