//! EKS errors as they travel on the wire: status code, `x-amzn-errortype` header and a JSON body with
//! `message` (and `clusterName` where EKS gives it).

use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

pub(crate) use crate::error_kind::ErrorKind;
use crate::protocol::rest_json;

/// Text EKS answers when the role is unknown to IAM (also while a new role has not propagated).
pub const ROLE_DOES_NOT_EXIST: &str = "Role provided in the request does not exist";
/// Text EKS answers when the role's trust policy does not let EKS Pod Identity assume it.
pub const TRUST_POLICY_INVALID: &str = "Trust policy of the role provided is invalid";
/// Text EKS answers for a role in another account than the cluster's.
pub(crate) const CROSS_ACCOUNT_PASS_ROLE: &str = "Cross-account pass role is not allowed.";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", kind.name())]
pub(crate) struct ApiError {
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
        let mut extra = Map::new();
        if let Some(cluster_name) = self.cluster_name {
            extra.insert("clusterName".into(), Value::String(cluster_name));
        }
        rest_json::error_response(self.kind.status(), self.kind.name(), &self.message, extra)
    }
}
