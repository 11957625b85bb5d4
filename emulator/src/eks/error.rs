//! EKS errors as they travel on the wire: status code, `x-amzn-errortype` header and a JSON body with
//! `message` (and `clusterName` where EKS gives it).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

/// Text EKS answers when the role is unknown to IAM (also while a new role has not propagated).
pub const ROLE_DOES_NOT_EXIST: &str = "Role provided in the request does not exist";
/// Text EKS answers when the role's trust policy does not let EKS Pod Identity assume it.
pub const TRUST_POLICY_INVALID: &str = "Trust policy of the role provided is invalid";
/// Text EKS answers for a role in another account than the cluster's.
pub const CROSS_ACCOUNT_PASS_ROLE: &str = "Cross-account pass role is not allowed.";

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

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", kind.name())]
pub struct ApiError {
    pub kind: ErrorKind,
    pub message: String,
    pub cluster_name: Option<String>,
}

impl ApiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            cluster_name: None,
        }
    }

    pub fn with_cluster(mut self, cluster_name: &str) -> Self {
        self.cluster_name = Some(cluster_name.to_owned());
        self
    }

    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidParameter, message)
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidRequest, message)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadRequest, message)
    }

    /// `No cluster found for name: X.`
    pub fn cluster_not_found(cluster_name: &str) -> Self {
        Self::new(
            ErrorKind::ResourceNotFound,
            format!("No cluster found for name: {cluster_name}."),
        )
        .with_cluster(cluster_name)
    }

    /// `No Pod Identity Association found for id: a-....`
    pub fn association_not_found(cluster_name: &str, association_id: &str) -> Self {
        Self::new(
            ErrorKind::ResourceNotFound,
            format!("No Pod Identity Association found for id: {association_id}."),
        )
        .with_cluster(cluster_name)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = Map::new();
        body.insert("message".into(), Value::String(self.message));
        if let Some(cluster_name) = self.cluster_name {
            body.insert("clusterName".into(), Value::String(cluster_name));
        }
        let mut response = (self.kind.status(), axum::Json(Value::Object(body))).into_response();
        let headers = response.headers_mut();
        headers.insert("x-amzn-errortype", HeaderValue::from_static(self.kind.name()));
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    }
}
