//! What EKS Auth checks in a projected service-account token before it looks for an association.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind as JwtErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::Value;

use super::error::AuthError;
use crate::tokens::{POD_IDENTITY_AUDIENCE, SigningKey};

/// The longest token accepted, in bytes. Kubernetes service-account tokens are 1–2 KiB; EKS documents
/// no limit, so this one is the emulator's (answered with InvalidParameterException).
pub const MAX_TOKEN_BYTES: usize = 8192;
/// Clock skew allowed on `exp` and `nbf`, in seconds (the Kubernetes API server's leeway).
const LEEWAY_SECONDS: u64 = 60;

/// The pod and service account that a valid token stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VerifiedToken {
    pub namespace: String,
    pub service_account: String,
    pub service_account_uid: String,
    pub pod_name: String,
    pub pod_uid: String,
}

/// Checks shape, signature (RS256 with the cluster's key only), `iss`, `aud`, `exp`/`nbf`, `sub` and
/// the `kubernetes.io` claim.
pub(crate) fn verify_token(
    token: &str,
    key: &SigningKey,
    issuer: &str,
    cluster: &str,
) -> Result<VerifiedToken, AuthError> {
    check_shape(token)?;
    let (header_part, payload_part) = {
        let mut parts = token.split('.');
        (parts.next().unwrap_or(""), parts.next().unwrap_or(""))
    };
    let header = decode_segment(header_part)
        .ok_or_else(|| AuthError::invalid_token("The token's header is not base64url-encoded JSON."))?;
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    if alg != "RS256" {
        return Err(AuthError::invalid_token(format!(
            "The token's algorithm {alg:?} is not accepted: service account tokens are signed with RS256."
        )));
    }
    // Claims read without verification, only to word the errors below.
    let unverified = decode_segment(payload_part)
        .ok_or_else(|| AuthError::invalid_token("The token's claims are not base64url-encoded JSON."))?;

    let decoding_key = key.decoding_key().map_err(|e| {
        AuthError::new(
            super::error::AuthErrorKind::InternalServer,
            format!("The cluster's signing key is unusable: {e}"),
        )
    })?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.leeway = LEEWAY_SECONDS;
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[POD_IDENTITY_AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let claims = match jsonwebtoken::decode::<Value>(token, decoding_key, &validation) {
        Ok(data) => data.claims,
        Err(error) => return Err(describe(error.kind(), &unverified, issuer, cluster)),
    };
    check_subject(&claims)
}

fn check_shape(token: &str) -> Result<(), AuthError> {
    if token.is_empty() {
        return Err(AuthError::invalid_parameter("The token must not be empty."));
    }
    if token.len() > MAX_TOKEN_BYTES {
        return Err(AuthError::invalid_parameter(format!(
            "The token is {} bytes long; at most {MAX_TOKEN_BYTES} are accepted.",
            token.len()
        )));
    }
    // The model's pattern: [A-Za-z0-9-_=]+\.[A-Za-z0-9-_=]+\.[A-Za-z0-9-_=]+
    let parts: Vec<&str> = token.split('.').collect();
    let well_formed = parts.len() == 3
        && parts.iter().all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'=')
        });
    if !well_formed {
        return Err(AuthError::invalid_parameter(
            "The token must be a signed JWT: three non-empty base64url parts separated by dots.",
        ));
    }
    Ok(())
}

fn decode_segment(segment: &str) -> Option<Value> {
    let bytes = URL_SAFE_NO_PAD.decode(segment.trim_end_matches('=')).ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    value.is_object().then_some(value)
}

fn describe(kind: &JwtErrorKind, claims: &Value, issuer: &str, cluster: &str) -> AuthError {
    match kind {
        JwtErrorKind::ExpiredSignature => AuthError::new(
            super::error::AuthErrorKind::ExpiredToken,
            format!(
                "The service account token has expired (exp {}).",
                claims.get("exp").unwrap_or(&Value::Null)
            ),
        ),
        JwtErrorKind::ImmatureSignature => AuthError::invalid_token(format!(
            "The service account token is not valid yet (nbf {}).",
            claims.get("nbf").unwrap_or(&Value::Null)
        )),
        JwtErrorKind::InvalidSignature | JwtErrorKind::InvalidKeyFormat => AuthError::invalid_token(format!(
            "The token's signature does not verify with the service account issuer key of cluster {cluster}."
        )),
        JwtErrorKind::InvalidIssuer => AuthError::invalid_token(format!(
            "The token's issuer {} is not the issuer of cluster {cluster} ({issuer}).",
            claims.get("iss").unwrap_or(&Value::Null)
        )),
        JwtErrorKind::InvalidAudience => AuthError::invalid_token(format!(
            "The token's audience {} does not contain {POD_IDENTITY_AUDIENCE}.",
            claims.get("aud").unwrap_or(&Value::Null)
        )),
        JwtErrorKind::MissingRequiredClaim(claim) => {
            AuthError::invalid_token(format!("The token has no {claim} claim."))
        }
        JwtErrorKind::InvalidAlgorithm | JwtErrorKind::MissingAlgorithm => AuthError::invalid_token(
            "The token's algorithm is not accepted: service account tokens are signed with RS256.",
        ),
        other => AuthError::invalid_token(format!("The token is malformed: {other:?}.")),
    }
}

fn check_subject(claims: &Value) -> Result<VerifiedToken, AuthError> {
    let sub = claims.get("sub").and_then(Value::as_str).unwrap_or("");
    let parts: Vec<&str> = sub.split(':').collect();
    let (namespace, service_account) = match parts.as_slice() {
        ["system", "serviceaccount", namespace, service_account]
            if !namespace.is_empty() && !service_account.is_empty() =>
        {
            (*namespace, *service_account)
        }
        _ => {
            return Err(AuthError::invalid_token(format!(
                "The token's subject {sub:?} is not a service account (system:serviceaccount:NAMESPACE:NAME)."
            )));
        }
    };
    let kubernetes = claims
        .get("kubernetes.io")
        .filter(|k| k.is_object())
        .ok_or_else(|| AuthError::invalid_token("The token has no kubernetes.io claim."))?;
    let text = |path: &[&str]| -> &str {
        let mut value = kubernetes;
        for key in path {
            match value.get(key) {
                Some(next) => value = next,
                None => return "",
            }
        }
        value.as_str().unwrap_or("")
    };
    if text(&["namespace"]) != namespace {
        return Err(AuthError::invalid_token(format!(
            "The token's kubernetes.io namespace {:?} does not match its subject {sub:?}.",
            text(&["namespace"])
        )));
    }
    if text(&["serviceaccount", "name"]) != service_account {
        return Err(AuthError::invalid_token(format!(
            "The token's kubernetes.io service account {:?} does not match its subject {sub:?}.",
            text(&["serviceaccount", "name"])
        )));
    }
    let pod_name = text(&["pod", "name"]);
    let pod_uid = text(&["pod", "uid"]);
    if pod_name.is_empty() || pod_uid.is_empty() {
        return Err(AuthError::invalid_token(
            "The token is not bound to a pod (kubernetes.io.pod name and uid are required).",
        ));
    }
    Ok(VerifiedToken {
        namespace: namespace.to_owned(),
        service_account: service_account.to_owned(),
        service_account_uid: text(&["serviceaccount", "uid"]).to_owned(),
        pod_name: pod_name.to_owned(),
        pod_uid: pod_uid.to_owned(),
    })
}
