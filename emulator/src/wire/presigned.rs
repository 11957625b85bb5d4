//! The bearer tokens EKS authenticates Kubernetes clients with: `k8s-aws-v1.` and the base64url of a presigned STS
//! `GET /?Action=GetCallerIdentity&Version=2011-06-15` whose signed headers are `host` and `x-k8s-aws-id` (the
//! cluster's name), as `aws eks get-token` and aws-iam-authenticator make them.
//!
//! EKS's authenticator sends the URL to STS and learns who signed it; the emulator is its own STS, so it checks the
//! presigned signature itself, with the signer that checks its other requests: the key must be known (a session key
//! with its token, unexpired), the scope `sts` in a real region, `X-Amz-Date` within 15 minutes and the URL not past
//! `X-Amz-Expires` (at most 15 minutes, as the authenticator allows), and the signature must match with the cluster's
//! name as `x-k8s-aws-id`, so a token made for one cluster opens no other.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use axum::http::Uri;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq;

use super::sigv4::{ALGORITHM, AuthFailure, SIGNATURE_MISMATCH, check_region, parse_amz_date, signing_key};
use crate::context::CallerIdentity;
use crate::world::identities::{Identities, Key};

/// What the bearer token starts with.
pub(crate) const TOKEN_PREFIX: &str = "k8s-aws-v1.";
/// The signed header that names the cluster the token is for.
pub(crate) const CLUSTER_ID_HEADER: &str = "x-k8s-aws-id";
/// The longest `X-Amz-Expires` accepted (aws-iam-authenticator refuses tokens older than 15 minutes).
const MAX_EXPIRES: Duration = Duration::from_secs(15 * 60);
/// How far `X-Amz-Date` may be ahead of the server's clock.
const MAX_SKEW: Duration = Duration::from_secs(15 * 60);
/// The query parameters the signer adds; the rest is the request that was signed.
const SIGNING_PARAMETERS: [&str; 7] = [
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
];

/// A bearer token's presigned URL, read but not yet checked.
pub(super) struct PresignedUrl {
    /// `scheme://authority/?` and the parameters that are not the signature's own.
    signed_request: String,
    pub access_key_id: String,
    date: String,
    region: String,
    service: String,
    amz_date: String,
    expires: Duration,
    signed_headers: Vec<String>,
    signature: String,
    security_token: Option<String>,
}

impl PresignedUrl {
    /// Reads `k8s-aws-v1.<base64url URL>`; refuses anything that is not a presigned GetCallerIdentity.
    pub fn parse(token: &str) -> Result<Self, AuthFailure> {
        let incomplete = |what: &str| AuthFailure::Incomplete(format!("The bearer token {what}."));
        let encoded = token
            .strip_prefix(TOKEN_PREFIX)
            .ok_or_else(|| incomplete(&format!("does not begin with {TOKEN_PREFIX}")))?;
        let url = URL_SAFE_NO_PAD
            .decode(encoded.trim_end_matches('='))
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| incomplete("is not base64url of a URL"))?;
        let uri: Uri = url.parse().map_err(|_| incomplete("is not base64url of a URL"))?;
        let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
            return Err(incomplete("does not hold an absolute URL"));
        };
        let params: Vec<(String, String)> = form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect();
        let param = |name: &str| {
            params
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.as_str())
        };
        if uri.path() != "/" || param("Action") != Some("GetCallerIdentity") || param("Version") != Some("2011-06-15") {
            return Err(incomplete("is not a presigned STS GetCallerIdentity URL"));
        }
        let required = |name: &str| param(name).ok_or_else(|| incomplete(&format!("has no {name}")));
        if required("X-Amz-Algorithm")? != ALGORITHM {
            return Err(incomplete(&format!("is not signed with {ALGORITHM}")));
        }
        let credential: Vec<&str> = required("X-Amz-Credential")?.split('/').collect();
        let [access_key_id, date, region, service, "aws4_request"] = credential[..] else {
            return Err(incomplete("has no valid X-Amz-Credential"));
        };
        let expires = required("X-Amz-Expires")?
            .parse()
            .ok()
            .map(Duration::from_secs)
            .filter(|expires| !expires.is_zero() && *expires <= MAX_EXPIRES)
            .ok_or_else(|| incomplete("has an X-Amz-Expires that is not 1 to 900 seconds"))?;
        let mut unsigned = form_urlencoded::Serializer::new(format!("{scheme}://{authority}/?"));
        for (name, value) in params
            .iter()
            .filter(|(name, _)| !SIGNING_PARAMETERS.contains(&name.as_str()))
        {
            unsigned.append_pair(name, value);
        }
        Ok(Self {
            signed_request: unsigned.finish(),
            access_key_id: access_key_id.to_owned(),
            date: date.to_owned(),
            region: region.to_owned(),
            service: service.to_owned(),
            amz_date: required("X-Amz-Date")?.to_owned(),
            expires,
            signed_headers: required("X-Amz-SignedHeaders")?.split(';').map(str::to_owned).collect(),
            signature: required("X-Amz-Signature")?.to_owned(),
            security_token: param("X-Amz-Security-Token").map(str::to_owned),
        })
    }

    /// The region of the credential scope.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Who signed the URL, if it is valid now for `cluster`.
    pub fn verify(
        &self,
        identities: &Identities,
        cluster: &str,
        now: SystemTime,
    ) -> Result<CallerIdentity, AuthFailure> {
        if self.service != "sts" {
            return Err(AuthFailure::Signature(
                "Credential should be scoped to correct service: 'sts'. ".into(),
            ));
        }
        check_region(&self.region, &self.service)?;
        let time = parse_amz_date(&self.amz_date)
            .filter(|_| self.amz_date.starts_with(&self.date) && self.date.len() == 8)
            .ok_or_else(|| AuthFailure::Incomplete(format!("X-Amz-Date {:?} is not valid.", self.amz_date)))?;
        if time > now + MAX_SKEW {
            return Err(AuthFailure::Signature("Request is not yet valid".into()));
        }
        if time + self.expires < now {
            return Err(AuthFailure::Signature("Request has expired".into()));
        }
        let mut headers = self.signed_headers.iter().map(String::as_str).collect::<Vec<_>>();
        headers.sort_unstable();
        if headers != ["host", CLUSTER_ID_HEADER] {
            return Err(AuthFailure::Signature(format!(
                "X-Amz-SignedHeaders must be host;{CLUSTER_ID_HEADER}"
            )));
        }
        let key = signing_key(identities, &self.access_key_id, self.security_token.as_deref(), now)?;
        // botocore presigns with an unsigned payload, Go's SDK with the empty body's hash: either is a signature.
        let matches = [SignableBody::UnsignedPayload, SignableBody::Bytes(&[])]
            .into_iter()
            .filter_map(|body| self.expected_signature(key, cluster, time, body))
            .any(|expected| bool::from(expected.as_bytes().ct_eq(self.signature.as_bytes())));
        if matches {
            Ok(key.identity())
        } else {
            Err(AuthFailure::Signature(SIGNATURE_MISMATCH.into()))
        }
    }

    fn expected_signature(
        &self,
        key: Key<'_>,
        cluster: &str,
        time: SystemTime,
        body: SignableBody<'_>,
    ) -> Option<String> {
        let signable = SignableRequest::new(
            "GET",
            self.signed_request.as_str(),
            [(CLUSTER_ID_HEADER, cluster)].into_iter(),
            body,
        )
        .ok()?;
        let identity: Identity = Credentials::new(
            &self.access_key_id,
            key.secret_access_key().to_owned(),
            key.session_token().map(str::to_owned),
            None,
            "emulator",
        )
        .into();
        let mut settings = SigningSettings::default();
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(self.expires);
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(&self.service)
            .time(time)
            .settings(settings)
            .build()
            .ok()?
            .into();
        Some(sign(signable, &params).ok()?.signature().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AKID: &str = "AKIDEXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    fn identities() -> Identities {
        let mut ids = Identities::default();
        ids.add_user_key(AKID, SECRET, "111122223333", "admin");
        ids
    }

    /// A token as `aws eks get-token` makes it, for `cluster`, signed at `time`.
    fn token(cluster: &str, secret: &str, time: SystemTime) -> String {
        let identity: Identity = Credentials::new(AKID, secret, None, None, "t").into();
        let mut settings = SigningSettings::default();
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(Duration::from_secs(60));
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name("sts")
            .time(time)
            .settings(settings)
            .build()
            .unwrap()
            .into();
        let url = "https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15";
        let request = SignableRequest::new(
            "GET",
            url,
            [(CLUSTER_ID_HEADER, cluster)].into_iter(),
            SignableBody::UnsignedPayload,
        )
        .unwrap();
        let (instructions, _) = sign(request, &params).unwrap().into_parts();
        let mut presigned = url.to_owned();
        for (name, value) in instructions.params() {
            presigned.push_str(&format!(
                "&{name}={}",
                percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC)
            ));
        }
        format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(presigned))
    }

    fn check(token: &str, cluster: &str, now: SystemTime) -> Result<CallerIdentity, AuthFailure> {
        PresignedUrl::parse(token)?.verify(&identities(), cluster, now)
    }

    #[test]
    fn a_token_opens_its_own_cluster_only_while_it_lasts() {
        let now = SystemTime::now();
        let good = token("demo", SECRET, now);
        assert_eq!(
            check(&good, "demo", now).unwrap().arn,
            "arn:aws:iam::111122223333:user/admin"
        );
        assert!(matches!(check(&good, "other", now), Err(AuthFailure::Signature(_))));
        assert!(matches!(
            check(&good, "demo", now + Duration::from_secs(61)),
            Err(AuthFailure::Signature(_))
        ));
        let wrong_secret = token("demo", "not-the-secret", now);
        assert!(matches!(
            check(&wrong_secret, "demo", now),
            Err(AuthFailure::Signature(_))
        ));
    }

    #[test]
    fn what_is_not_a_presigned_get_caller_identity_is_refused() {
        let url = |text: &str| format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(text));
        for token in [
            "Bearer abc".to_owned(),
            format!("{TOKEN_PREFIX}!!!"),
            url("/relative?Action=GetCallerIdentity&Version=2011-06-15"),
            url("https://sts.amazonaws.com/?Action=AssumeRole&Version=2011-06-15"),
            url("https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15"),
        ] {
            assert!(PresignedUrl::parse(&token).is_err(), "{token}");
        }
    }
}
