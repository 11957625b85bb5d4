//! Handler failures and the HandlerErrorCode each one maps to (the README's error table).

use thiserror::Error;

use crate::Action;
use crate::arn::ArnError;
use crate::eks::{EksError, EksErrorKind};
use crate::status::HandlerErrorCode;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HandlerError {
    /// The request itself is wrong: a missing or malformed property, a read-only property on create.
    #[error("{0}")]
    InvalidRequest(String),
    /// An update tries to change a createOnly property.
    #[error("{0}")]
    NotUpdatable(String),
    #[error(transparent)]
    BadArn(#[from] ArnError),
    /// The service account already has an association (ResourceInUseException).
    #[error(
        "service account {namespace}/{service_account} of cluster {cluster_name} already has a pod identity association{}; import it or delete it first",
        existing_id.as_ref().map(|id| format!(" ({id})")).unwrap_or_default()
    )]
    AlreadyExists {
        cluster_name: String,
        namespace: String,
        service_account: String,
        existing_id: Option<String>,
    },
    /// The role never became visible to EKS within the bounded wait for IAM propagation.
    #[error(
        "EKS still reports that IAM role {role_arn} does not exist after waiting {waited_seconds} s for IAM to propagate it. A role created in the same stack operation normally reaches EKS within seconds: retry the stack operation. Otherwise check that RoleArn names an existing role in the cluster's account"
    )]
    RoleNotFound { role_arn: String, waited_seconds: u64 },
    /// Read, Update or Delete of an association that does not exist.
    #[error("pod identity association {association_id} does not exist in cluster {cluster_name}")]
    NotFound {
        cluster_name: String,
        association_id: String,
    },
    /// The identifier names an association in another partition, region or account than the request's.
    #[error("pod identity association {association_arn} is not in this request's scope: it names {elsewhere}")]
    OutOfScope { association_arn: String, elsewhere: String },
    /// Any other EKS failure; the code depends on the error and the action.
    #[error("EKS {} failed ({}): {}", .source.operation, .source.code, .source.message)]
    Eks { action: Action, source: EksError },
    /// The callback context is not one this provider wrote.
    #[error("the callback context is not one this provider wrote: {0}")]
    BadCallbackContext(String),
}

/// Every code this provider answers: the handlers' mapping below, plus the provider's own (InvalidRequest for a
/// request it cannot decode, InvalidCredentials without caller credentials, InternalFailure for a caught panic,
/// NetworkFailure past the deadline).
pub const ANSWERED_CODES: [HandlerErrorCode; 13] = [
    HandlerErrorCode::NotUpdatable,
    HandlerErrorCode::InvalidRequest,
    HandlerErrorCode::AccessDenied,
    HandlerErrorCode::UnauthorizedTaggingOperation,
    HandlerErrorCode::InvalidCredentials,
    HandlerErrorCode::AlreadyExists,
    HandlerErrorCode::NotFound,
    HandlerErrorCode::ResourceConflict,
    HandlerErrorCode::Throttling,
    HandlerErrorCode::ServiceLimitExceeded,
    HandlerErrorCode::ServiceInternalError,
    HandlerErrorCode::NetworkFailure,
    HandlerErrorCode::InternalFailure,
];

impl HandlerError {
    pub fn eks(action: Action, source: EksError) -> Self {
        Self::Eks { action, source }
    }

    pub fn code(&self) -> HandlerErrorCode {
        match self {
            Self::InvalidRequest(_) | Self::BadArn(_) | Self::RoleNotFound { .. } | Self::BadCallbackContext(_) => {
                HandlerErrorCode::InvalidRequest
            }
            Self::NotUpdatable(_) => HandlerErrorCode::NotUpdatable,
            Self::AlreadyExists { .. } => HandlerErrorCode::AlreadyExists,
            Self::NotFound { .. } | Self::OutOfScope { .. } => HandlerErrorCode::NotFound,
            Self::Eks { action, source } => eks_error_code(*action, source),
        }
    }
}

fn eks_error_code(action: Action, error: &EksError) -> HandlerErrorCode {
    match error.kind {
        // A missing cluster on create is the template's fault; NotFound would make CloudFormation think the
        // association vanished.
        EksErrorKind::NotFound if action == Action::Create => HandlerErrorCode::InvalidRequest,
        EksErrorKind::NotFound => HandlerErrorCode::NotFound,
        EksErrorKind::Conflict if action == Action::Create => HandlerErrorCode::AlreadyExists,
        EksErrorKind::Conflict => HandlerErrorCode::ResourceConflict,
        EksErrorKind::InvalidRequest => HandlerErrorCode::InvalidRequest,
        EksErrorKind::LimitExceeded => HandlerErrorCode::ServiceLimitExceeded,
        EksErrorKind::AccessDenied if is_tagging_denial(error) => HandlerErrorCode::UnauthorizedTaggingOperation,
        EksErrorKind::AccessDenied => HandlerErrorCode::AccessDenied,
        EksErrorKind::InvalidCredentials => HandlerErrorCode::InvalidCredentials,
        EksErrorKind::Throttling => HandlerErrorCode::Throttling,
        EksErrorKind::ServiceError => HandlerErrorCode::ServiceInternalError,
        EksErrorKind::Network => HandlerErrorCode::NetworkFailure,
        EksErrorKind::Internal => HandlerErrorCode::InternalFailure,
    }
}

/// A denial of the tagging calls themselves, or of the implicit eks:TagResource check of a create with tags.
fn is_tagging_denial(error: &EksError) -> bool {
    matches!(error.operation, "TagResource" | "UntagResource")
        || error.message.contains("eks:TagResource")
        || error.message.contains("eks:UntagResource")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eks(kind: EksErrorKind, operation: &'static str, message: &str) -> EksError {
        EksError::new(kind, operation, "Code", message)
    }

    /// Every row of the error table, for every action it applies to.
    #[test]
    fn maps_the_error_table() {
        use EksErrorKind::*;
        let all = [
            Action::Create,
            Action::Read,
            Action::Update,
            Action::Delete,
            Action::List,
        ];
        let rows: [(EksErrorKind, &[Action], &str); 12] = [
            (
                NotFound,
                &[Action::Read, Action::Update, Action::Delete, Action::List],
                "NotFound",
            ),
            (NotFound, &[Action::Create], "InvalidRequest"),
            (Conflict, &[Action::Create], "AlreadyExists"),
            (Conflict, &[Action::Update, Action::Delete], "ResourceConflict"),
            (InvalidRequest, &all, "InvalidRequest"),
            (LimitExceeded, &all, "ServiceLimitExceeded"),
            (AccessDenied, &all, "AccessDenied"),
            (InvalidCredentials, &all, "InvalidCredentials"),
            (Throttling, &all, "Throttling"),
            (ServiceError, &all, "ServiceInternalError"),
            (Network, &all, "NetworkFailure"),
            (Internal, &all, "InternalFailure"),
        ];
        for (kind, actions, expected) in rows {
            for &action in actions {
                let error = HandlerError::eks(action, eks(kind, "DescribePodIdentityAssociation", "m"));
                assert_eq!(error.code().as_str(), expected, "{kind:?} on {action:?}");
            }
        }
    }

    #[test]
    fn every_mapped_code_is_an_answered_code() {
        use EksErrorKind::*;
        let kinds = [
            NotFound,
            Conflict,
            InvalidRequest,
            LimitExceeded,
            AccessDenied,
            InvalidCredentials,
            Throttling,
            ServiceError,
            Network,
            Internal,
        ];
        let actions = [
            Action::Create,
            Action::Read,
            Action::Update,
            Action::Delete,
            Action::List,
        ];
        let mut produced = vec![
            HandlerError::InvalidRequest(String::new()).code(),
            HandlerError::NotUpdatable(String::new()).code(),
            HandlerError::BadCallbackContext(String::new()).code(),
            HandlerError::NotFound {
                cluster_name: String::new(),
                association_id: String::new(),
            }
            .code(),
            HandlerError::AlreadyExists {
                cluster_name: String::new(),
                namespace: String::new(),
                service_account: String::new(),
                existing_id: None,
            }
            .code(),
        ];
        for kind in kinds {
            for action in actions {
                produced.push(HandlerError::eks(action, eks(kind, "TagResource", "m")).code());
                produced.push(HandlerError::eks(action, eks(kind, "DescribePodIdentityAssociation", "m")).code());
            }
        }
        for code in produced {
            assert!(ANSWERED_CODES.contains(&code), "{code:?} is answered but not listed");
        }
    }

    #[test]
    fn tagging_denials_are_unauthorized_tagging_operations() {
        let denied = |operation, message| {
            HandlerError::eks(Action::Create, eks(EksErrorKind::AccessDenied, operation, message)).code()
        };
        assert_eq!(
            denied(
                "CreatePodIdentityAssociation",
                "User x is not authorized to perform: eks:TagResource on y"
            )
            .as_str(),
            "UnauthorizedTaggingOperation"
        );
        assert_eq!(denied("TagResource", "denied").as_str(), "UnauthorizedTaggingOperation");
        assert_eq!(
            denied("UntagResource", "denied").as_str(),
            "UnauthorizedTaggingOperation"
        );
        assert_eq!(
            denied(
                "CreatePodIdentityAssociation",
                "not authorized to perform: iam:PassRole"
            )
            .as_str(),
            "AccessDenied"
        );
    }

    #[test]
    fn messages_name_what_went_wrong() {
        let error = HandlerError::AlreadyExists {
            cluster_name: "prod".into(),
            namespace: "ns".into(),
            service_account: "sa".into(),
            existing_id: Some("a-0123456789abcdefg".into()),
        };
        assert!(
            error
                .to_string()
                .contains("ns/sa of cluster prod already has a pod identity association (a-0123456789abcdefg)")
        );
        let error = HandlerError::eks(
            Action::Update,
            EksError::new(
                EksErrorKind::InvalidRequest,
                "UpdatePodIdentityAssociation",
                "InvalidParameterException",
                "bad role",
            ),
        );
        assert_eq!(
            error.to_string(),
            "EKS UpdatePodIdentityAssociation failed (InvalidParameterException): bad role"
        );
    }
}
