//! OperationStatus and HandlerErrorCode: every value the CloudFormation handler protocol defines, spelled as it
//! spells them on the wire.

use serde::Serialize;

/// Where an operation stands after one invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OperationStatus {
    Success,
    Failed,
    InProgress,
}

impl OperationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "SUCCESS",
            Self::Failed => "FAILED",
            Self::InProgress => "IN_PROGRESS",
        }
    }
}

macro_rules! handler_error_codes {
    ($($(#[$doc:meta])* $code:ident),+ $(,)?) => {
        /// Why an operation FAILED.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        pub enum HandlerErrorCode {
            $($(#[$doc])* $code,)+
        }

        impl HandlerErrorCode {
            /// Every code CloudFormation defines.
            pub const ALL: &'static [HandlerErrorCode] = &[$(HandlerErrorCode::$code,)+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$code => stringify!($code),)+
                }
            }
        }
    };
}

handler_error_codes! {
    /// An update tried to change a createOnly property.
    NotUpdatable,
    InvalidRequest,
    AccessDenied,
    /// The caller may not tag the resource (eks:TagResource or eks:UntagResource denied).
    UnauthorizedTaggingOperation,
    InvalidCredentials,
    AlreadyExists,
    NotFound,
    ResourceConflict,
    Throttling,
    ServiceLimitExceeded,
    NotStabilized,
    GeneralServiceException,
    ServiceInternalError,
    NetworkFailure,
    InternalFailure,
    InvalidTypeConfiguration,
    HandlerInternalFailure,
    NonCompliant,
    UnsupportedTarget,
    Unknown,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialize_as_their_names() {
        for code in HandlerErrorCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
        assert_eq!(HandlerErrorCode::ALL.len(), 20);
        assert_eq!(
            serde_json::to_value(OperationStatus::InProgress).unwrap(),
            OperationStatus::InProgress.as_str()
        );
    }
}
