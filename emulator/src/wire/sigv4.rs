//! SigV4 verification of received requests, as AWS front ends do it.
//!
//! The `Authorization` header names the key, the credential scope (date, region, service) and the
//! signed headers. The expected signature is computed with the `aws-sigv4` crate's own signer (the one
//! the SDK signs with) from the request exactly as received: method, path and query as sent (already
//! percent-encoded, so the standard double-encoding and path normalisation rules apply), the signed
//! headers only, and the body. Then: the key must be known, a session key must come with its session
//! token and not be expired, a user's key must come without one, `X-Amz-Date` must be within 15
//! minutes of now, and the signatures must match (compared in constant time).

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SessionTokenMode, SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use axum::http::{HeaderMap, Method, Uri};
use subtle::ConstantTimeEq;

use crate::clock::{format_iso8601, parse_iso8601};
use crate::context::CallerIdentity;
use crate::world::identities::{Identities, Key};

pub(super) const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// How far `X-Amz-Date` may be from the server's clock.
const MAX_SKEW: Duration = Duration::from_secs(15 * 60);
const SECURITY_TOKEN: &str = "x-amz-security-token";

/// Why a request is refused before its operation runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AuthFailure {
    /// No `Authorization` header (nor a presigned query).
    Missing,
    /// An `Authorization` header that cannot be read, or no `X-Amz-Date`.
    Incomplete(String),
    /// An unknown access key, a session key without (or with another) session token, or a user's key
    /// with one.
    InvalidToken,
    /// A session whose credentials have expired.
    Expired,
    /// The signature does not match, or the scope or date is wrong.
    Signature(String),
}

pub(super) const SIGNATURE_MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
const INVALID_TOKEN: &str = "The security token included in the request is invalid.";
const EXPIRED_TOKEN: &str = "The security token included in the request is expired";

impl AuthFailure {
    /// (HTTP status, error code of a rest-json service, error code of a query service, message).
    pub fn describe(&self) -> (u16, &'static str, &'static str, String) {
        match self {
            AuthFailure::Missing => (
                403,
                "MissingAuthenticationTokenException",
                "MissingAuthenticationToken",
                "Missing Authentication Token".to_owned(),
            ),
            AuthFailure::Incomplete(message) => (
                400,
                "IncompleteSignatureException",
                "IncompleteSignature",
                message.clone(),
            ),
            AuthFailure::InvalidToken => (
                403,
                "UnrecognizedClientException",
                "InvalidClientTokenId",
                INVALID_TOKEN.to_owned(),
            ),
            AuthFailure::Expired => (403, "ExpiredTokenException", "ExpiredToken", EXPIRED_TOKEN.to_owned()),
            AuthFailure::Signature(message) => (
                403,
                "InvalidSignatureException",
                "SignatureDoesNotMatch",
                message.clone(),
            ),
        }
    }
}

/// The parts of `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Authorization<'a> {
    pub access_key_id: &'a str,
    pub date: &'a str,
    pub region: &'a str,
    pub service: &'a str,
    pub signed_headers: Vec<&'a str>,
    pub signature: &'a str,
}

/// Reads the credential scope of a request without checking anything: the signing service name
/// (which tells IAM from STS on `POST /`) and the access key.
pub(crate) fn scope(headers: &HeaderMap) -> Option<Authorization<'_>> {
    let value = headers.get("authorization")?.to_str().ok()?;
    parse_authorization(value).ok()
}

fn parse_authorization(value: &str) -> Result<Authorization<'_>, AuthFailure> {
    let incomplete = |what: &str| {
        AuthFailure::Incomplete(format!(
            "{what} Authorization={}",
            value.split_whitespace().next().unwrap_or("")
        ))
    };
    let (algorithm, rest) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    if algorithm != ALGORITHM {
        return Err(incomplete(&format!("Unsupported AWS 'algorithm': '{algorithm}'.")));
    }
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let Some((name, part_value)) = part.trim().split_once('=') else {
            continue;
        };
        match name.trim() {
            "Credential" => credential = Some(part_value.trim()),
            "SignedHeaders" => signed_headers = Some(part_value.trim()),
            "Signature" => signature = Some(part_value.trim()),
            _ => {}
        }
    }
    let mut missing = String::new();
    for (name, present) in [
        ("Credential", credential.is_some()),
        ("Signature", signature.is_some()),
        ("SignedHeaders", signed_headers.is_some()),
    ] {
        if !present {
            missing.push_str(&format!("Authorization header requires '{name}' parameter. "));
        }
    }
    let (Some(credential), Some(signed_headers), Some(signature)) = (credential, signed_headers, signature) else {
        return Err(incomplete(missing.trim_end()));
    };
    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, terminator] = parts[..] else {
        return Err(incomplete(&format!(
            "Credential should be scoped to a valid region, not '{credential}'."
        )));
    };
    if terminator != "aws4_request" {
        return Err(AuthFailure::Signature(format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'."
        )));
    }
    Ok(Authorization {
        access_key_id,
        date,
        region,
        service,
        signed_headers: signed_headers.split(';').collect(),
        signature,
    })
}

/// A received request, as the signature covers it.
pub(crate) struct Received<'a> {
    pub method: &'a Method,
    pub uri: &'a Uri,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// Checks the request's signature; on success, who signed it. `expected_service` is the signing name
/// the operation's service uses (`eks`, `eks-auth`, `iam`, `sts`).
pub(crate) fn verify(
    identities: &Identities,
    request: &Received<'_>,
    expected_service: &str,
    now: SystemTime,
) -> Result<CallerIdentity, AuthFailure> {
    let Some(header) = request.headers.get("authorization") else {
        return Err(AuthFailure::Missing);
    };
    let header = header
        .to_str()
        .map_err(|_| AuthFailure::Incomplete("The Authorization header is not ASCII.".into()))?;
    let auth = parse_authorization(header)?;
    let Some(amz_date) = request.headers.get("x-amz-date").and_then(|v| v.to_str().ok()) else {
        return Err(AuthFailure::Incomplete(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.".into(),
        ));
    };
    let Some(time) = parse_amz_date(amz_date) else {
        return Err(AuthFailure::Incomplete(format!(
            "Date must be in ISO-8601 'basic format'. Got '{amz_date}'."
        )));
    };
    if auth.service != expected_service {
        return Err(AuthFailure::Signature(format!(
            "Credential should be scoped to correct service: '{expected_service}'. "
        )));
    }
    check_region(auth.region, expected_service)?;
    if !amz_date.starts_with(auth.date) || auth.date.len() != 8 {
        return Err(AuthFailure::Signature(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{amz_date}'.",
            auth.date,
            &amz_date[..amz_date.len().min(8)]
        )));
    }

    let sent_token = request
        .headers
        .get(SECURITY_TOKEN)
        .map(|v| v.to_str().unwrap_or_default());
    let key = signing_key(identities, auth.access_key_id, sent_token, now)?;
    check_skew(amz_date, time, now)?;

    let expected = expected_signature(request, &auth, key, time)
        .ok_or_else(|| AuthFailure::Signature(SIGNATURE_MISMATCH.into()))?;
    if bool::from(expected.as_bytes().ct_eq(auth.signature.as_bytes())) {
        Ok(key.identity())
    } else {
        Err(AuthFailure::Signature(SIGNATURE_MISMATCH.into()))
    }
}

/// The known key a request is signed with: a session key must come with its own session token and not be expired,
/// a user's key without one.
pub(super) fn signing_key<'a>(
    identities: &'a Identities,
    access_key_id: &str,
    sent_token: Option<&str>,
    now: SystemTime,
) -> Result<Key<'a>, AuthFailure> {
    let key = identities.get(access_key_id).ok_or(AuthFailure::InvalidToken)?;
    match (key.session_token(), sent_token) {
        (None, None) => {}
        (Some(expected), Some(sent)) if bool::from(expected.as_bytes().ct_eq(sent.as_bytes())) => {}
        _ => return Err(AuthFailure::InvalidToken),
    }
    if let Key::Session(session) = key
        && session.expired(now)
    {
        return Err(AuthFailure::Expired);
    }
    Ok(key)
}

/// The scope's region must be a region, and for IAM (one global endpoint per partition) that partition's signing
/// region, as AWS's endpoints require.
pub(super) fn check_region(region: &str, service: &str) -> Result<(), AuthFailure> {
    if !pia_core::is_region_name(region) {
        return Err(AuthFailure::Signature(format!(
            "Credential should be scoped to a valid region, not '{region}'. "
        )));
    }
    if service == "iam" {
        let global = match pia_core::partition_of_region(region) {
            "aws-cn" => "cn-north-1",
            "aws-us-gov" => "us-gov-west-1",
            _ => "us-east-1",
        };
        if region != global {
            return Err(AuthFailure::Signature(format!(
                "Credential should be scoped to a valid region, not '{region}'. "
            )));
        }
    }
    Ok(())
}

fn check_skew(amz_date: &str, time: SystemTime, now: SystemTime) -> Result<(), AuthFailure> {
    if time + MAX_SKEW < now {
        return Err(AuthFailure::Signature(format!(
            "Signature expired: {amz_date} is now earlier than {} ({} - 15 min.)",
            format_amz_date(now - MAX_SKEW),
            format_amz_date(now)
        )));
    }
    if time > now + MAX_SKEW {
        return Err(AuthFailure::Signature(format!(
            "Signature not yet current: {amz_date} is still later than {} ({} + 15 min.)",
            format_amz_date(now + MAX_SKEW),
            format_amz_date(now)
        )));
    }
    Ok(())
}

/// The signature that `key` gives the request, signed at `time` with the request's own scope and
/// signed headers; `None` if the request cannot be signed at all (so it cannot match).
fn expected_signature(
    request: &Received<'_>,
    auth: &Authorization<'_>,
    key: Key<'_>,
    time: SystemTime,
) -> Option<String> {
    let mut headers = Vec::new();
    for name in &auth.signed_headers {
        if name.is_empty() || *name != name.to_ascii_lowercase() {
            return None;
        }
        for value in request.headers.get_all(*name) {
            headers.push((*name, value.to_str().ok()?));
        }
    }
    let signs_token = auth.signed_headers.contains(&SECURITY_TOKEN);
    let path_and_query = request.uri.path_and_query().map_or("/", |pq| pq.as_str());
    // The authority only matters when `host` is not signed; then the signature cannot match anyway.
    let uri = format!("http://localhost{path_and_query}");
    let signable = SignableRequest::new(
        request.method.as_str(),
        uri,
        headers.into_iter(),
        SignableBody::Bytes(request.body),
    )
    .ok()?;
    let identity: Identity = Credentials::new(
        auth.access_key_id,
        key.secret_access_key().to_owned(),
        key.session_token().map(str::to_owned),
        None,
        "emulator",
    )
    .into();
    let mut settings = SigningSettings::default();
    // Sign exactly what the client signed.
    settings.excluded_headers = None;
    if !signs_token {
        settings.session_token_mode = SessionTokenMode::Exclude;
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(auth.region)
        .name(auth.service)
        .time(time)
        .settings(settings)
        .build()
        .ok()?
        .into();
    let output = sign(signable, &params).ok()?;
    Some(output.signature().to_owned())
}

/// `YYYYMMDDTHHMMSSZ` (ISO 8601's basic format, as SigV4 writes dates) → time.
pub(super) fn parse_amz_date(text: &str) -> Option<SystemTime> {
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| bytes[range].iter().all(u8::is_ascii_digit);
    if bytes.len() != 16 || bytes[8] != b'T' || bytes[15] != b'Z' || !digits(0..8) || !digits(9..15) {
        return None;
    }
    parse_iso8601(&format!(
        "{}-{}-{}T{}:{}:{}Z",
        &text[0..4],
        &text[4..6],
        &text[6..8],
        &text[9..11],
        &text[11..13],
        &text[13..15]
    ))
}

/// time → `YYYYMMDDTHHMMSSZ`.
fn format_amz_date(time: SystemTime) -> String {
    format_iso8601(time).replace(['-', ':'], "")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    const AKID: &str = "AKIDEXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    fn identities() -> Identities {
        let mut ids = Identities::default();
        ids.add_user_key(AKID, SECRET, "111122223333", "admin");
        ids
    }

    /// Signs like a client would, with the SDK's signer: the headers to send.
    fn signed(method: &str, path: &str, body: &[u8], secret: &str, token: Option<&str>, time: SystemTime) -> HeaderMap {
        let identity: Identity = Credentials::new(AKID, secret, token.map(str::to_owned), None, "t").into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name("eks")
            .time(time)
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let request = SignableRequest::new(
            method,
            format!("http://127.0.0.1:4566{path}"),
            [("content-type", "application/json"), ("host", "127.0.0.1:4566")].into_iter(),
            SignableBody::Bytes(body),
        )
        .unwrap();
        let (instructions, _) = sign(request, &params).unwrap().into_parts();
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        headers.insert("host", HeaderValue::from_static("127.0.0.1:4566"));
        for (name, value) in instructions.headers() {
            headers.insert(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        headers
    }

    fn check(
        ids: &Identities,
        method: &str,
        path: &str,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<CallerIdentity, AuthFailure> {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let uri: Uri = path.parse().unwrap();
        verify(
            ids,
            &Received {
                method: &method,
                uri: &uri,
                headers,
                body,
            },
            "eks",
            now,
        )
    }

    #[test]
    fn a_request_signed_with_the_right_secret_passes_and_a_tampered_one_fails() {
        let ids = identities();
        let now = SystemTime::now();
        // A path with a percent-encoded character and a query: the canonical form double-encodes.
        let path = "/clusters/demo/pod-identity-associations?namespace=a%3Ab&maxResults=5";
        let headers = signed("GET", path, b"", SECRET, None, now);
        let who = check(&ids, "GET", path, &headers, b"", now).unwrap();
        assert_eq!(who.arn, "arn:aws:iam::111122223333:user/admin");

        let tampered = "/clusters/demo/pod-identity-associations?namespace=a%3Ac&maxResults=5";
        assert_eq!(
            check(&ids, "GET", tampered, &headers, b"", now),
            Err(AuthFailure::Signature(SIGNATURE_MISMATCH.into()))
        );
        let headers = signed("POST", "/x", b"{\"a\":1}", SECRET, None, now);
        assert!(check(&ids, "POST", "/x", &headers, b"{\"a\":1}", now).is_ok());
        assert!(matches!(
            check(&ids, "POST", "/x", &headers, b"{\"a\":2}", now),
            Err(AuthFailure::Signature(_))
        ));
        let wrong_secret = signed("POST", "/x", b"{}", "not-the-secret", None, now);
        assert!(matches!(
            check(&ids, "POST", "/x", &wrong_secret, b"{}", now),
            Err(AuthFailure::Signature(_))
        ));
    }

    #[test]
    fn clock_skew_tokens_and_missing_headers_are_refused() {
        let ids = identities();
        let now = SystemTime::now();
        let old = now - Duration::from_secs(16 * 60);
        let headers = signed("GET", "/x", b"", SECRET, None, old);
        let Err(AuthFailure::Signature(message)) = check(&ids, "GET", "/x", &headers, b"", now) else {
            panic!("skew")
        };
        assert!(message.starts_with("Signature expired: "), "{message}");
        let future = now + Duration::from_secs(16 * 60);
        let headers = signed("GET", "/x", b"", SECRET, None, future);
        assert!(matches!(
            check(&ids, "GET", "/x", &headers, b"", now),
            Err(AuthFailure::Signature(m)) if m.starts_with("Signature not yet current")
        ));
        // A user's key with a session token is refused, as AWS does.
        let headers = signed("GET", "/x", b"", SECRET, Some("token"), now);
        assert_eq!(
            check(&ids, "GET", "/x", &headers, b"", now),
            Err(AuthFailure::InvalidToken)
        );
        assert_eq!(
            check(&ids, "GET", "/x", &HeaderMap::new(), b"", now),
            Err(AuthFailure::Missing)
        );
        let mut headers = signed("GET", "/x", b"", SECRET, None, now);
        headers.remove("x-amz-date");
        assert!(matches!(
            check(&ids, "GET", "/x", &headers, b"", now),
            Err(AuthFailure::Incomplete(_))
        ));
        let mut headers = HeaderMap::new();
        headers.insert(
            "authorization",
            HeaderValue::from_static("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/eks/aws4_request"),
        );
        assert!(matches!(
            check(&ids, "GET", "/x", &headers, b"", now),
            Err(AuthFailure::Incomplete(m)) if m.contains("'Signature'")
        ));
    }

    #[test]
    fn session_keys_need_their_token_and_expire() {
        let mut ids = identities();
        let issued = ids.issue_session(crate::world::identities::SessionRequest {
            role_arn: "arn:aws:iam::111122223333:role/r",
            role_id: "AROAEXAMPLE",
            session_name: "s",
            session_tags: Default::default(),
            transitive_tag_keys: Default::default(),
            duration: Duration::from_secs(900),
            session_policy: None,
            session_policy_arns: Vec::new(),
        });
        let sign_with = |token: Option<&str>, time| {
            let identity: Identity = Credentials::new(
                &issued.access_key_id,
                &issued.secret_access_key,
                token.map(str::to_owned),
                None,
                "t",
            )
            .into();
            let params = v4::SigningParams::builder()
                .identity(&identity)
                .region("us-east-1")
                .name("eks")
                .time(time)
                .settings(SigningSettings::default())
                .build()
                .unwrap()
                .into();
            let request = SignableRequest::new(
                "GET",
                "http://h/x",
                [("host", "h")].into_iter(),
                SignableBody::Bytes(b""),
            )
            .unwrap();
            let (instructions, _) = sign(request, &params).unwrap().into_parts();
            let mut headers = HeaderMap::new();
            headers.insert("host", HeaderValue::from_static("h"));
            for (name, value) in instructions.headers() {
                headers.insert(
                    axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                    HeaderValue::from_str(value).unwrap(),
                );
            }
            headers
        };
        let now = SystemTime::now();
        let good = sign_with(Some(&issued.session_token), now);
        let who = check(&ids, "GET", "/x", &good, b"", now).unwrap();
        assert_eq!(who.arn, "arn:aws:sts::111122223333:assumed-role/r/s");
        assert_eq!(
            check(&ids, "GET", "/x", &sign_with(None, now), b"", now),
            Err(AuthFailure::InvalidToken)
        );
        assert_eq!(
            check(&ids, "GET", "/x", &sign_with(Some("other"), now), b"", now),
            Err(AuthFailure::InvalidToken)
        );
        let later = now + Duration::from_secs(1000);
        assert_eq!(
            check(
                &ids,
                "GET",
                "/x",
                &sign_with(Some(&issued.session_token), later),
                b"",
                later
            ),
            Err(AuthFailure::Expired)
        );
    }

    #[test]
    fn dates_round_trip() {
        let time = parse_amz_date("20240229T235959Z").unwrap();
        assert_eq!(format_amz_date(time), "20240229T235959Z");
        assert_eq!(
            time.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs(),
            1_709_251_199
        );
        for bad in [
            "",
            "20240229T235959",
            "2024-02-29T23:59:59Z",
            "20241329T000000Z",
            "2024022+T235959Z",
        ] {
            assert_eq!(parse_amz_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn authorization_headers_are_parsed() {
        let auth = parse_authorization("AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc").unwrap();
        assert_eq!(auth.access_key_id, "AKID");
        assert_eq!(auth.service, "sts");
        assert_eq!(auth.region, "eu-west-1");
        assert_eq!(auth.signed_headers, ["host", "x-amz-date"]);
        assert_eq!(auth.signature, "abc");
        assert!(matches!(
            parse_authorization("AWS AKID:sig"),
            Err(AuthFailure::Incomplete(_))
        ));
    }
}
