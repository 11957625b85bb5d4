//! The bearer token of an EKS cluster's Kubernetes API, as `aws eks get-token` makes it: `k8s-aws-v1.` and the
//! base64url of an STS GetCallerIdentity URL presigned for 60 s with the cluster's name signed as `x-k8s-aws-id`.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// How long the presigned URL lasts (what `aws eks get-token` asks for).
const LIFETIME: Duration = Duration::from_secs(60);

/// The token for `cluster`, signed with `credentials` for STS in `region`.
pub fn token(credentials: &Credentials, cluster: &str, region: &str) -> Result<String, String> {
    let url = format!("https://sts.{region}.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15");
    let identity: Identity = credentials.clone().into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(LIFETIME);
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sts")
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let request = SignableRequest::new(
        "GET",
        url.as_str(),
        [("x-k8s-aws-id", cluster)].into_iter(),
        SignableBody::UnsignedPayload,
    )
    .map_err(|e| e.to_string())?;
    let (instructions, _) = sign(request, &params).map_err(|e| e.to_string())?.into_parts();
    let mut presigned = url.clone();
    for (name, value) in instructions.params() {
        presigned.push_str(&format!("&{name}={}", encode(value)));
    }
    Ok(format!("k8s-aws-v1.{}", URL_SAFE_NO_PAD.encode(presigned)))
}

/// Percent-encodes all but SigV4's unreserved characters.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (byte as char).to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}
