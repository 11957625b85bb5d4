//! What an injected fault answers, in the terms of the API it hits.

use axum::response::{IntoResponse, Response};

use super::operation::Api;
use crate::eks::error::ApiError;
use crate::eks_auth::error::AuthErrorKind;
use crate::error_kind::ErrorKind;
use crate::faults::Fault;

/// The error an injected [`Fault`] answers with, in the terms of `api` (`None`: no error).
pub(super) fn fault_response(api: Api, fault: Fault, request_id: &str) -> Option<Response> {
    let (status, code, message): (u16, &'static str, String) = match (api, fault) {
        (_, Fault::Latency(_) | Fault::DropAfterApply | Fault::Hang) => return None,
        (Api::Eks, Fault::Throttle) => {
            return Some(ApiError::new(ErrorKind::Throttling, "Rate exceeded").into_response());
        }
        (Api::Eks, Fault::ServerError) => {
            return Some(
                ApiError::new(ErrorKind::Server, "An internal error occurred (injected fault).").into_response(),
            );
        }
        (Api::Eks, Fault::Unavailable) => {
            return Some(
                ApiError::new(ErrorKind::ServiceUnavailable, "Service unavailable (injected fault).").into_response(),
            );
        }
        (Api::Eks, Fault::Error(kind)) => {
            return Some(ApiError::new(kind, format!("{} (injected fault).", kind.name())).into_response());
        }
        (Api::EksAuth, Fault::Throttle) => (429, "ThrottlingException", "Rate exceeded".into()),
        (Api::EksAuth, Fault::ServerError) => (
            500,
            "InternalServerException",
            "An internal error occurred (injected fault).".into(),
        ),
        (Api::EksAuth, Fault::Unavailable) => (
            503,
            "ServiceUnavailableException",
            "Service unavailable (injected fault).".into(),
        ),
        (Api::EksAuth, Fault::Error(kind)) => {
            let kind = AuthErrorKind::from_eks(kind);
            (kind.status(), kind.name(), format!("{} (injected fault).", kind.name()))
        }
        (Api::CloudControl, Fault::Throttle) => (400, "ThrottlingException", "Rate exceeded".into()),
        (Api::CloudControl, Fault::ServerError) => (
            500,
            "ServiceInternalErrorException",
            "An internal error occurred (injected fault).".into(),
        ),
        (Api::CloudControl, Fault::Error(kind)) => {
            let (status, code) = cloud_control_code(kind);
            (status, code, format!("{code} (injected fault)."))
        }
        (_, Fault::Throttle) => (400, "Throttling", "Rate exceeded".into()),
        (Api::Iam, Fault::ServerError) => (
            500,
            "ServiceFailure",
            "An internal error occurred (injected fault).".into(),
        ),
        (_, Fault::ServerError) => (
            500,
            "InternalFailure",
            "An internal error occurred (injected fault).".into(),
        ),
        (_, Fault::Unavailable) => (
            503,
            "ServiceUnavailable",
            "Service unavailable (injected fault).".into(),
        ),
        (_, Fault::Error(kind)) => {
            let (status, code) = query_code(api, kind);
            (status, code, format!("{code} (injected fault)."))
        }
    };
    Some(api.error_response(status, code, &message, request_id))
}

/// Cloud Control's nearest equivalent of an EKS error kind.
fn cloud_control_code(kind: ErrorKind) -> (u16, &'static str) {
    match kind {
        ErrorKind::AccessDenied => (400, "AccessDeniedException"),
        ErrorKind::Throttling => (400, "ThrottlingException"),
        ErrorKind::Server => (500, "ServiceInternalErrorException"),
        ErrorKind::ServiceUnavailable => (503, "ServiceUnavailable"),
        ErrorKind::ResourceNotFound | ErrorKind::NotFound => (400, "ResourceNotFoundException"),
        ErrorKind::ResourceInUse => (400, "ResourceConflictException"),
        ErrorKind::ResourceLimitExceeded => (400, "ServiceLimitExceededException"),
        ErrorKind::InvalidParameter | ErrorKind::InvalidRequest | ErrorKind::BadRequest => {
            (400, "InvalidRequestException")
        }
    }
}

/// The query protocol's nearest equivalent of an EKS error kind.
fn query_code(api: Api, kind: ErrorKind) -> (u16, &'static str) {
    match kind {
        ErrorKind::AccessDenied => (403, "AccessDenied"),
        ErrorKind::Throttling => (400, "Throttling"),
        ErrorKind::Server if api == Api::Iam => (500, "ServiceFailure"),
        ErrorKind::Server => (500, "InternalFailure"),
        ErrorKind::ServiceUnavailable => (503, "ServiceUnavailable"),
        ErrorKind::ResourceNotFound | ErrorKind::NotFound => (404, "NoSuchEntity"),
        ErrorKind::ResourceInUse => (409, "EntityAlreadyExists"),
        ErrorKind::ResourceLimitExceeded => (409, "LimitExceeded"),
        ErrorKind::InvalidParameter | ErrorKind::InvalidRequest | ErrorKind::BadRequest => (400, "ValidationError"),
    }
}
