//! [`EksApi`] over aws-sdk-eks: the caller's credentials and region per invocation, one shared HTTP client,
//! bounded retries and deadlines, and the standard endpoint overrides (`AWS_ENDPOINT_URL_EKS`, `AWS_ENDPOINT_URL`).

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_sdk_eks::config::http::HttpResponse;
use aws_sdk_eks::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_eks::types::{PodIdentityAssociation, PodIdentityAssociationSummary};
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use pia_handlers::eks::{
    Association, AssociationChanges, AssociationPage, AssociationSummary, EksApi, EksError, EksErrorKind, EksResult,
    NewAssociation,
};

use crate::protocol::CallerCredentials;

/// Attempts per call, the first included: throttling and 5xx are retried with jittered exponential backoff.
pub const MAX_ATTEMPTS: u32 = 4;
/// Deadlines well inside the Lambda's (60 s for Read and List, 120 s for the others), even for an Update's four calls.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
pub const CALL_TIMEOUT: Duration = Duration::from_secs(14);
/// One List page; CloudFormation pages through with nextToken.
pub const LIST_PAGE_SIZE: i32 = 100;

/// The roots of Amazon Trust Services, which issue the certificates of the `aws` partition's endpoints (Amazon Root
/// CA 1–4, and the Starfield root that cross-signs them). Trusting these alone spares the cold start reading and
/// parsing the whole system store (a bundle and every file of a directory, most of a start's work).
const AMAZON_TRUST_SERVICES_ROOTS: &[u8] = include_bytes!("amazon_trust_services_roots.pem");

/// Where the system's roots are needed instead: other partitions' endpoints (their own issuers), or a CA the
/// operator names with the variables the system store honours (a TLS-inspecting proxy, say).
fn needs_system_roots(region: &str) -> bool {
    pia_handlers::partition_of_region(region) != "aws"
        || std::env::var_os("SSL_CERT_FILE").is_some()
        || std::env::var_os("SSL_CERT_DIR").is_some()
}

/// The HTTPS client every call shares (rustls with aws-lc, as the SDK's default), trusting the roots `region`'s
/// endpoints need.
fn https_client(region: &str) -> SharedHttpClient {
    let trust_store = if needs_system_roots(region) {
        TrustStore::default()
    } else {
        TrustStore::empty().with_pem_certificate(AMAZON_TRUST_SERVICES_ROOTS)
    };
    let builder = aws_smithy_http_client::Builder::new().tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc));
    match TlsContext::builder().with_trust_store(trust_store).build() {
        Ok(context) => builder.tls_context(context).build_https(),
        // Unreachable with the constant roots above (a test parses them); the system's store is the safe fallback.
        Err(_) => builder.build_https(),
    }
}

/// The process-wide AWS configuration: HTTP client (shared, so connections are reused across invocations),
/// retries, timeouts and endpoint overrides from the environment. Credentials and region come per request: the
/// process's own credentials are never loaded, so that no request can act with them.
pub async fn base_config() -> SdkConfig {
    base_config_for(None).await
}

/// [`base_config`], with an explicit EKS endpoint taking precedence over the environment's overrides.
pub async fn base_config_for(endpoint_url: Option<String>) -> SdkConfig {
    let region = std::env::var("AWS_REGION")
        .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|_| "us-east-1".to_owned());
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader
        .http_client(https_client(&region))
        // An explicit region avoids the IMDS lookup of the default chain, which costs a cold start dearly.
        .region(Region::new(region))
        .no_credentials()
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(MAX_ATTEMPTS)
                .with_initial_backoff(Duration::from_millis(200))
                .with_max_backoff(Duration::from_secs(3)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .operation_timeout(CALL_TIMEOUT)
                .build(),
        )
        .load()
        .await
}

/// An EKS client for one set of caller credentials and region (cheap to clone: the client is shared).
#[derive(Clone)]
pub struct SdkEks {
    client: aws_sdk_eks::Client,
}

impl SdkEks {
    pub fn new(base: &SdkConfig, region: Option<&str>, caller: &CallerCredentials<'_>) -> Self {
        let mut config = aws_sdk_eks::config::Builder::from(base);
        if let Some(region) = region {
            config = config.region(Region::new(region.to_owned()));
        }
        config = config.credentials_provider(Credentials::new(
            caller.access_key_id.as_ref(),
            caller.secret_access_key.as_ref(),
            caller.session_token.as_deref().map(str::to_owned),
            None,
            "CloudFormationCaller",
        ));
        Self {
            client: aws_sdk_eks::Client::from_conf(config.build()),
        }
    }
}

impl EksApi for SdkEks {
    async fn create_association(&self, new: &NewAssociation) -> EksResult<Association> {
        let output = self
            .client
            .create_pod_identity_association()
            .cluster_name(&new.cluster_name)
            .namespace(&new.namespace)
            .service_account(&new.service_account)
            .role_arn(&new.role_arn)
            .set_target_role_arn(new.target_role_arn.clone())
            .set_disable_session_tags(new.disable_session_tags)
            .set_policy(new.policy.clone())
            .set_tags((!new.tags.is_empty()).then(|| new.tags.clone().into_iter().collect()))
            .set_client_request_token(new.client_request_token.clone())
            .send()
            .await
            .map_err(|e| classify("CreatePodIdentityAssociation", e))?;
        association(output.association, "CreatePodIdentityAssociation")
    }

    async fn describe_association(&self, cluster_name: &str, association_id: &str) -> EksResult<Association> {
        let output = self
            .client
            .describe_pod_identity_association()
            .cluster_name(cluster_name)
            .association_id(association_id)
            .send()
            .await
            .map_err(|e| classify("DescribePodIdentityAssociation", e))?;
        association(output.association, "DescribePodIdentityAssociation")
    }

    async fn update_association(
        &self,
        cluster_name: &str,
        association_id: &str,
        changes: &AssociationChanges,
    ) -> EksResult<Association> {
        let output = self
            .client
            .update_pod_identity_association()
            .cluster_name(cluster_name)
            .association_id(association_id)
            .set_role_arn(changes.role_arn.clone())
            .set_target_role_arn(changes.target_role_arn.clone())
            .set_disable_session_tags(changes.disable_session_tags)
            .set_policy(changes.policy.clone())
            .send()
            .await
            .map_err(|e| classify("UpdatePodIdentityAssociation", e))?;
        association(output.association, "UpdatePodIdentityAssociation")
    }

    async fn delete_association(&self, cluster_name: &str, association_id: &str) -> EksResult<()> {
        self.client
            .delete_pod_identity_association()
            .cluster_name(cluster_name)
            .association_id(association_id)
            .send()
            .await
            .map_err(|e| classify("DeletePodIdentityAssociation", e))?;
        Ok(())
    }

    async fn list_associations(&self, cluster_name: &str, next_token: Option<&str>) -> EksResult<AssociationPage> {
        let output = self
            .client
            .list_pod_identity_associations()
            .cluster_name(cluster_name)
            .max_results(LIST_PAGE_SIZE)
            .set_next_token(next_token.map(str::to_owned))
            .send()
            .await
            .map_err(|e| classify("ListPodIdentityAssociations", e))?;
        Ok(AssociationPage {
            associations: output
                .associations
                .unwrap_or_default()
                .into_iter()
                .map(summary)
                .collect(),
            next_token: output.next_token.filter(|token| !token.is_empty()),
        })
    }

    async fn tag_resource(&self, arn: &str, tags: &BTreeMap<String, String>) -> EksResult<()> {
        self.client
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(tags.clone().into_iter().collect()))
            .send()
            .await
            .map_err(|e| classify("TagResource", e))?;
        Ok(())
    }

    async fn untag_resource(&self, arn: &str, keys: &[String]) -> EksResult<()> {
        self.client
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(keys.to_vec()))
            .send()
            .await
            .map_err(|e| classify("UntagResource", e))?;
        Ok(())
    }
}

fn association(association: Option<PodIdentityAssociation>, operation: &'static str) -> EksResult<Association> {
    let a = association.ok_or_else(|| {
        EksError::new(
            EksErrorKind::ServiceError,
            operation,
            "EmptyResponse",
            "the response carries no association",
        )
    })?;
    Ok(Association {
        cluster_name: a.cluster_name.unwrap_or_default(),
        namespace: a.namespace.unwrap_or_default(),
        service_account: a.service_account.unwrap_or_default(),
        role_arn: a.role_arn.unwrap_or_default(),
        association_arn: a.association_arn.unwrap_or_default(),
        association_id: a.association_id.unwrap_or_default(),
        target_role_arn: a.target_role_arn,
        external_id: a.external_id,
        disable_session_tags: a.disable_session_tags,
        policy: a.policy,
        owner_arn: a.owner_arn,
        tags: a.tags.unwrap_or_default().into_iter().collect(),
    })
}

fn summary(s: PodIdentityAssociationSummary) -> AssociationSummary {
    AssociationSummary {
        cluster_name: s.cluster_name.unwrap_or_default(),
        namespace: s.namespace.unwrap_or_default(),
        service_account: s.service_account.unwrap_or_default(),
        association_arn: s.association_arn.unwrap_or_default(),
        association_id: s.association_id.unwrap_or_default(),
        owner_arn: s.owner_arn,
    }
}

/// Classifies a failed call (after the SDK's own bounded retries) by error code, then by HTTP status.
fn classify<E: ProvideErrorMetadata + std::error::Error + 'static>(
    operation: &'static str,
    error: SdkError<E, HttpResponse>,
) -> EksError {
    let (kind, code, message) = match &error {
        SdkError::ServiceError(context) => {
            let status = context.raw().status().as_u16();
            let service_error = context.err();
            let code = service_error.code().unwrap_or("Unknown").to_owned();
            let message = service_error.message().unwrap_or("").to_owned();
            (kind_of(&code, status), code, message)
        }
        SdkError::TimeoutError(_) => (
            EksErrorKind::Network,
            "Timeout".to_owned(),
            "EKS did not answer in time".to_owned(),
        ),
        SdkError::DispatchFailure(failure) if failure.is_user() => (
            EksErrorKind::Internal,
            "DispatchFailure".to_owned(),
            format!("{:?}", failure.as_connector_error()),
        ),
        SdkError::DispatchFailure(failure) => (
            EksErrorKind::Network,
            if failure.is_timeout() {
                "Timeout"
            } else {
                "ConnectionFailure"
            }
            .to_owned(),
            failure.as_connector_error().map(|e| error_chain(e)).unwrap_or_default(),
        ),
        SdkError::ResponseError(context) => (
            EksErrorKind::ServiceError,
            "UnreadableResponse".to_owned(),
            format!("HTTP {}: {}", context.raw().status().as_u16(), error_chain(&error)),
        ),
        _ => (EksErrorKind::Internal, "ClientError".to_owned(), error_chain(&error)),
    };
    EksError::new(kind, operation, code, message)
}

fn kind_of(code: &str, status: u16) -> EksErrorKind {
    match code {
        "ResourceNotFoundException" | "NotFoundException" => EksErrorKind::NotFound,
        "ResourceInUseException" => EksErrorKind::Conflict,
        "InvalidParameterException"
        | "InvalidRequestException"
        | "BadRequestException"
        | "ClientException"
        | "ValidationException" => EksErrorKind::InvalidRequest,
        "ResourceLimitExceededException" => EksErrorKind::LimitExceeded,
        "AccessDeniedException" | "AccessDenied" => EksErrorKind::AccessDenied,
        "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "InvalidSignatureException"
        | "SignatureDoesNotMatch"
        | "IncompleteSignature"
        | "MissingAuthenticationToken"
        | "ExpiredToken"
        | "ExpiredTokenException" => EksErrorKind::InvalidCredentials,
        "ThrottlingException"
        | "Throttling"
        | "TooManyRequestsException"
        | "RequestLimitExceeded"
        | "ServiceUnavailableException" => EksErrorKind::Throttling,
        "ServerException" | "InternalFailure" | "InternalServerError" => EksErrorKind::ServiceError,
        _ => match status {
            403 => EksErrorKind::AccessDenied,
            404 => EksErrorKind::NotFound,
            409 => EksErrorKind::Conflict,
            429 | 503 => EksErrorKind::Throttling,
            500..=599 => EksErrorKind::ServiceError,
            _ => EksErrorKind::InvalidRequest,
        },
    }
}

/// An error and its sources on one line (the SDK's top-level Display is often just "dispatch failure").
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_codes_then_statuses() {
        assert_eq!(kind_of("ResourceNotFoundException", 404), EksErrorKind::NotFound);
        assert_eq!(kind_of("ResourceInUseException", 409), EksErrorKind::Conflict);
        assert_eq!(kind_of("InvalidParameterException", 400), EksErrorKind::InvalidRequest);
        assert_eq!(
            kind_of("ResourceLimitExceededException", 400),
            EksErrorKind::LimitExceeded
        );
        assert_eq!(kind_of("AccessDeniedException", 403), EksErrorKind::AccessDenied);
        assert_eq!(
            kind_of("UnrecognizedClientException", 403),
            EksErrorKind::InvalidCredentials
        );
        assert_eq!(kind_of("ThrottlingException", 429), EksErrorKind::Throttling);
        assert_eq!(kind_of("ServiceUnavailableException", 503), EksErrorKind::Throttling);
        assert_eq!(kind_of("ServerException", 500), EksErrorKind::ServiceError);
        assert_eq!(kind_of("Unknown", 403), EksErrorKind::AccessDenied);
        assert_eq!(kind_of("Unknown", 502), EksErrorKind::ServiceError);
        assert_eq!(kind_of("Unknown", 429), EksErrorKind::Throttling);
        assert_eq!(kind_of("Unknown", 418), EksErrorKind::InvalidRequest);
    }
}
