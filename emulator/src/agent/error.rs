//! The agent's refusals, worded and answered as the real agent's: a status and a `text/plain` line (Go's
//! `http.Error`), never JSON.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub(crate) enum AgentError {
    #[error("Too Many Requests")]
    RateLimited,
    #[error("Access Denied. Called agent through invalid address, please use either {allowed} address not {host}")]
    WrongHost { allowed: String, host: String },
    #[error("Service account token cannot be empty")]
    EmptyToken,
    #[error("Service account token cannot be parsed: {0}")]
    UnparsableToken(&'static str),
    #[error("Service account token failed basic claim validations: token has invalid claims: {0}")]
    InvalidClaims(&'static str),
    /// EKS Auth answered with an error: its status is passed on.
    #[error("[{request_id}]: ({code}): {message}, fault: {fault}")]
    EksAuth {
        status: StatusCode,
        request_id: String,
        code: String,
        message: String,
        fault: &'static str,
    },
    #[error("error getting credentials to cache: unable to fetch credentials from EKS Auth: {0}")]
    Unreachable(&'static str),
    #[error("invalid response from server: credentials or assumed role empty")]
    IncompleteAnswer,
    #[error(
        "error getting credentials to cache: fetched credentials are expired or will expire within the next {0:.2} seconds"
    )]
    ShortLived(f64),
    #[error("the body is not an AdmissionReview: {0}")]
    NotAdmissionReview(String),
    #[error("404 page not found")]
    NotFound,
}

impl AgentError {
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            AgentError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            AgentError::WrongHost { .. } => StatusCode::FORBIDDEN,
            AgentError::EmptyToken
            | AgentError::UnparsableToken(_)
            | AgentError::InvalidClaims(_)
            | AgentError::NotAdmissionReview(_) => StatusCode::BAD_REQUEST,
            AgentError::EksAuth { status, .. } => *status,
            AgentError::Unreachable(_) | AgentError::IncompleteAnswer | AgentError::ShortLived(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            AgentError::NotFound => StatusCode::NOT_FOUND,
        }
    }

    /// The EKS Auth error code, for the metrics' labels.
    pub(crate) fn eks_auth_code(&self) -> &str {
        match self {
            AgentError::EksAuth { code, .. } => code,
            _ => "Unknown",
        }
    }

    /// Whether renewing again cannot help (the real agent's list): the cached credentials are dropped.
    pub(crate) fn is_irrecoverable(&self) -> bool {
        matches!(
            self.eks_auth_code(),
            "ResourceNotFoundException" | "ExpiredTokenException" | "InvalidTokenException" | "AccessDeniedException"
        )
    }
}

impl IntoResponse for AgentError {
    fn into_response(self) -> Response {
        let body = format!("{self}\n");
        (
            self.status(),
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                ),
                (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            ],
            body,
        )
            .into_response()
    }
}
