//! The agent's own look at a service-account token before it calls EKS Auth, as the real agent's (golang-jwt
//! `ParseUnverified`, then the registered claims' time checks): a JWT at all, with a known `alg`, and neither
//! expired nor not yet valid. The signature and everything else are EKS Auth's to judge.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use super::error::AgentError;

/// The `alg` values golang-jwt knows.
const KNOWN_ALGORITHMS: &[&str] = &[
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512",
    "EdDSA", "none",
];

/// When a token may be used, from its `nbf` and `exp` (epoch seconds), kept with cached credentials so that a
/// cache hit checks the token's time without parsing it again.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Validity {
    not_before: Option<f64>,
    expires: Option<f64>,
}

impl Validity {
    pub(crate) fn check(&self, now: SystemTime) -> Result<(), AgentError> {
        let now = now.duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
        if self.expires.is_some_and(|expires| now >= expires) {
            return Err(AgentError::InvalidClaims("token is expired"));
        }
        if self.not_before.is_some_and(|not_before| now < not_before) {
            return Err(AgentError::InvalidClaims("token is not valid yet"));
        }
        Ok(())
    }
}

/// The token's validity, or why it is refused.
pub(crate) fn inspect(token: &str, now: SystemTime) -> Result<Validity, AgentError> {
    let malformed = AgentError::UnparsableToken;
    let mut segments = token.split('.');
    let (Some(header), Some(claims), Some(_signature), None) =
        (segments.next(), segments.next(), segments.next(), segments.next())
    else {
        return Err(malformed(
            "token is malformed: token contains an invalid number of segments",
        ));
    };
    let header = decode(header).ok_or(malformed("token is malformed: could not base64 decode header"))?;
    let header: Map<String, Value> =
        serde_json::from_slice(&header).map_err(|_| malformed("token is malformed: could not JSON decode header"))?;
    let claims = decode(claims).ok_or(malformed("token is malformed: could not base64 decode claim"))?;
    let claims: Map<String, Value> =
        serde_json::from_slice(&claims).map_err(|_| malformed("token is malformed: could not JSON decode claim"))?;
    let validity = registered_claims(&claims).ok_or(malformed("token is malformed: could not JSON decode claim"))?;
    match header.get("alg").and_then(Value::as_str) {
        None => return Err(malformed("token is unverifiable: signing method (alg) is unspecified")),
        Some(alg) if !KNOWN_ALGORITHMS.contains(&alg) => {
            return Err(malformed("token is unverifiable: signing method (alg) is unavailable"));
        }
        Some(_) => {}
    }
    validity.check(now)?;
    Ok(validity)
}

fn decode(segment: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(segment).ok()
}

/// The registered claims with the types golang-jwt decodes them into (times as numbers, `aud` a string or a list
/// of strings, the others strings); `None` when one has another type.
fn registered_claims(claims: &Map<String, Value>) -> Option<Validity> {
    let time = |name: &str| match claims.get(name) {
        None | Some(Value::Null) => Some(None),
        Some(value) => value.as_f64().map(Some),
    };
    for name in ["iss", "sub", "jti"] {
        if !matches!(claims.get(name), None | Some(Value::Null | Value::String(_))) {
            return None;
        }
    }
    match claims.get("aud") {
        None | Some(Value::Null | Value::String(_)) => {}
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => {}
        Some(_) => return None,
    }
    time("iat")?;
    Some(Validity {
        not_before: time("nbf")?,
        expires: time("exp")?,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn token(header: &str, claims: &str) -> String {
        format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        )
    }

    fn refusal(token: &str) -> String {
        inspect(token, SystemTime::now()).map(|_| ()).unwrap_err().to_string()
    }

    #[test]
    fn the_shape_and_the_times_are_checked() {
        let now = SystemTime::now();
        let in_an_hour = (now + Duration::from_secs(3600))
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let good = token(r#"{"alg":"RS256"}"#, &format!(r#"{{"sub":"x","exp":{in_an_hour}}}"#));
        let validity = inspect(&good, now).unwrap();
        assert!(validity.check(now + Duration::from_secs(3601)).is_err());

        assert!(refusal("a.b").ends_with("token contains an invalid number of segments"));
        assert!(refusal("!!.e30.x").ends_with("could not base64 decode header"));
        assert!(refusal(&token("[]", "{}")).ends_with("could not JSON decode header"));
        assert!(refusal(&token(r#"{"alg":"RS256"}"#, r#"{"exp":"soon"}"#)).ends_with("could not JSON decode claim"));
        assert!(refusal(&token("{}", "{}")).ends_with("signing method (alg) is unspecified"));
        assert!(refusal(&token(r#"{"alg":"XX1"}"#, "{}")).ends_with("signing method (alg) is unavailable"));
        assert_eq!(
            refusal(&token(r#"{"alg":"RS256"}"#, r#"{"exp":1}"#)),
            "Service account token failed basic claim validations: token has invalid claims: token is expired"
        );
        assert!(refusal(&token(r#"{"alg":"RS256"}"#, r#"{"nbf":1e15}"#)).ends_with("token is not valid yet"));
    }
}
