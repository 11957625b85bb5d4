//! The agent's EKS Auth client (the real `aws-sdk-eksauth`, signed as the node) and the one call it makes,
//! AssumeRoleForPodIdentity, turned into the answer pods get.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_sdk_eksauth::config::http::HttpResponse;
use aws_sdk_eksauth::config::retry::RetryConfig;
use aws_sdk_eksauth::config::timeout::TimeoutConfig;
use aws_sdk_eksauth::config::{BehaviorVersion, IdentityCache, Region, SharedCredentialsProvider};
use aws_sdk_eksauth::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_eksauth::operation::RequestId;
use aws_sdk_eksauth::operation::assume_role_for_pod_identity::AssumeRoleForPodIdentityError;
use aws_smithy_types::date_time::Format;
use axum::body::Bytes;
use axum::http::StatusCode;
use serde_json::json;

use super::config::AgentConfig;
use super::error::AgentError;
use super::node::{NodeRoleCredentials, RENEW_BEFORE_EXPIRY};
use crate::world::store::Store;

/// Credentials as the container credentials provider expects them, and when they expire.
pub(crate) struct Fetched {
    pub body: Bytes,
    pub expiration: SystemTime,
}

pub(crate) struct EksAuth {
    client: aws_sdk_eksauth::Client,
    cluster: String,
}

impl EksAuth {
    pub(crate) fn new(config: &AgentConfig, store: &Arc<Store>, cluster: &str, region: &str, endpoint: String) -> Self {
        let credentials = match &config.credentials {
            Some(credentials) => SharedCredentialsProvider::new(credentials.clone()),
            None => {
                let node = NodeRoleCredentials::new(store.clone());
                tracing::debug!(role = node.role_arn(), "the agent signs as the node role");
                SharedCredentialsProvider::new(node)
            }
        };
        let sdk_config = aws_sdk_eksauth::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .endpoint_url(endpoint)
            .credentials_provider(credentials)
            .identity_cache(IdentityCache::lazy().buffer_time(RENEW_BEFORE_EXPIRY).build())
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(config.max_attempts.max(1))
                    .with_initial_backoff(config.initial_backoff),
            )
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(2))
                    .operation_timeout(Duration::from_secs(30))
                    .build(),
            )
            .build();
        Self {
            client: aws_sdk_eksauth::Client::from_conf(sdk_config),
            cluster: cluster.to_owned(),
        }
    }

    pub(crate) fn cluster(&self) -> &str {
        &self.cluster
    }

    /// The pod's credentials for `token`, or EKS Auth's refusal (its status and error passed on).
    pub(crate) async fn fetch(&self, token: &str) -> Result<Fetched, AgentError> {
        let output = self
            .client
            .assume_role_for_pod_identity()
            .cluster_name(&self.cluster)
            .token(token)
            .send()
            .await
            .map_err(refusal)?;
        let (Some(credentials), Some(user)) = (output.credentials(), output.assumed_role_user()) else {
            return Err(AgentError::IncompleteAnswer);
        };
        let body = json!({
            "AccessKeyId": credentials.access_key_id(),
            "SecretAccessKey": credentials.secret_access_key(),
            "Token": credentials.session_token(),
            "AccountId": pia_core::arn::ArnParts::split(user.arn()).map_or("", |parts| parts.account),
            "Expiration": credentials.expiration().fmt(Format::DateTime).unwrap_or_default(),
        });
        Ok(Fetched {
            body: Bytes::from(body.to_string()),
            expiration: SystemTime::try_from(*credentials.expiration()).unwrap_or(SystemTime::UNIX_EPOCH),
        })
    }
}

type AssumeError = SdkError<AssumeRoleForPodIdentityError, HttpResponse>;

fn refusal(error: AssumeError) -> AgentError {
    match error {
        SdkError::ServiceError(failure) => {
            let status = failure.raw().status().as_u16();
            let error = failure.err();
            AgentError::EksAuth {
                status: StatusCode::from_u16(status)
                    .ok()
                    .filter(|s| s.is_client_error() || s.is_server_error())
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                request_id: error.request_id().unwrap_or_default().to_owned(),
                code: error.code().unwrap_or("Unknown").to_owned(),
                message: error.message().unwrap_or_default().to_owned(),
                fault: if (400..500).contains(&status) {
                    "client"
                } else {
                    "server"
                },
            }
        }
        SdkError::TimeoutError(_) => AgentError::Unreachable("timeout"),
        SdkError::DispatchFailure(_) => AgentError::Unreachable("dispatch failure"),
        SdkError::ResponseError(_) => AgentError::Unreachable("unreadable response"),
        _ => AgentError::Unreachable("request failure"),
    }
}
