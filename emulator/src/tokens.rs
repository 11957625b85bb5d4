//! Projected service-account tokens, as the kubelet gets them from a cluster's API server for a pod:
//! RS256 JWTs signed with the cluster's service-account issuer key, whose `iss` is the cluster's OIDC
//! issuer URL.
//!
//! Every cluster has a [`SigningKey`]: loaded from the config's PEM (`ClusterConfig::signing_key_pem`), or
//! a 2048-bit RSA key generated on first use (aws-lc-rs, fast in debug builds too). EKS Auth verifies
//! tokens with it ([`crate::eks_auth`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use pia_emulator::{Emulator, EmulatorConfig, tokens::TokenRequest};
//! let emulator = Emulator::start(EmulatorConfig::default()).await?;
//! let request = TokenRequest::new("demo", "default", "my-sa", "my-pod-7d9f");
//! let token = emulator.write_token_file(&request, std::path::Path::new("/tmp/eks-pod-identity-token"))?;
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use serde_json::{Value, json};

use crate::clock::epoch_seconds;
use crate::config::POD_IDENTITY_PRINCIPAL;
use crate::ids::new_uuid;

/// The audience of Pod Identity tokens (the webhook's projected volume asks for it; EKS Auth requires it).
pub(crate) const POD_IDENTITY_AUDIENCE: &str = POD_IDENTITY_PRINCIPAL;
/// The token lifetime that the webhook's projected volume asks for (`expirationSeconds: 86400`).
pub(crate) const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(86_400);

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("no cluster named {0:?}")]
    UnknownCluster(String),
    #[error("invalid service-account signing key: {0}")]
    InvalidKey(String),
    #[error("cannot sign the token: {0}")]
    Sign(String),
    #[error("cannot write the token file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A cluster's service-account issuer key: RSA, RS256.
///
/// Created from PEM (PKCS#1 `RSA PRIVATE KEY` or PKCS#8 `PRIVATE KEY`) or generated; a cluster's key without
/// PEM is generated on first use, so that clusters that never mint a token cost nothing at start. `Debug`
/// never shows the key.
pub struct SigningKey {
    pem: Option<String>,
    material: OnceLock<Result<KeyMaterial, String>>,
}

struct KeyMaterial {
    private_pem: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    kid: String,
    modulus: Vec<u8>,
    exponent: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kid = match self.material.get() {
            Some(Ok(material)) => material.kid.as_str(),
            Some(Err(_)) => "<invalid>",
            None => "<not yet generated>",
        };
        f.debug_struct("SigningKey").field("kid", &kid).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new 2048-bit key.
    pub fn generate() -> Result<Self, TokenError> {
        let key = Self::lazy(None);
        key.material()?;
        Ok(key)
    }

    /// A key from PEM, checked now.
    pub fn from_pem(pem: &str) -> Result<Self, TokenError> {
        let key = Self::lazy(Some(pem.to_owned()));
        key.material()?;
        Ok(key)
    }

    /// A key from PEM, or a new one, made (and checked) on first use.
    pub(crate) fn lazy(pem: Option<String>) -> Self {
        Self {
            pem,
            material: OnceLock::new(),
        }
    }

    fn material(&self) -> Result<&KeyMaterial, TokenError> {
        self.material
            .get_or_init(|| match &self.pem {
                Some(pem) => KeyMaterial::from_pem(pem),
                None => KeyMaterial::generate(),
            })
            .as_ref()
            .map_err(|message| TokenError::InvalidKey(message.clone()))
    }

    /// The key id (`kid`) in token headers: base64url SHA-256 of the public key's DER, as Kubernetes
    /// computes it.
    pub fn kid(&self) -> Result<String, TokenError> {
        Ok(self.material()?.kid.clone())
    }

    /// The private key as PKCS#8 PEM (or the PEM it was loaded from), e.g. to persist it in a config.
    pub fn private_key_pem(&self) -> Result<String, TokenError> {
        Ok(self.material()?.private_pem.clone())
    }

    /// The public key as a JWK (`kty`, `use`, `alg`, `kid`, `n`, `e`), as the cluster's JWKS lists it.
    pub fn public_jwk(&self) -> Result<Value, TokenError> {
        let material = self.material()?;
        Ok(json!({
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": material.kid,
            "n": URL_SAFE_NO_PAD.encode(&material.modulus),
            "e": URL_SAFE_NO_PAD.encode(&material.exponent),
        }))
    }

    /// Signs any claims, RS256 with this key's `kid`. For well-formed tokens use
    /// [`crate::Emulator::mint_token`]; this is for tokens that are deliberately wrong.
    pub fn sign(&self, claims: &Value) -> Result<String, TokenError> {
        let material = self.material()?;
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(material.kid.clone());
        jsonwebtoken::encode(&header, claims, &material.encoding).map_err(|e| TokenError::Sign(e.to_string()))
    }

    pub(crate) fn decoding_key(&self) -> Result<&DecodingKey, TokenError> {
        Ok(&self.material()?.decoding)
    }
}

impl KeyMaterial {
    fn generate() -> Result<Self, String> {
        let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| "RSA key generation failed".to_owned())?;
        let pkcs8 = pair
            .as_der()
            .map_err(|_| "cannot encode the generated key".to_owned())?;
        let pem = pem::encode(&pem::Pem::new("PRIVATE KEY", pkcs8.as_ref()));
        Self::new(&pair, pem)
    }

    fn from_pem(text: &str) -> Result<Self, String> {
        let parsed = pem::parse(text).map_err(|e| format!("not PEM: {e}"))?;
        let pair = match parsed.tag() {
            "RSA PRIVATE KEY" => KeyPair::from_der(parsed.contents()),
            "PRIVATE KEY" => KeyPair::from_pkcs8(parsed.contents()),
            other => {
                return Err(format!(
                    "expected an RSA PRIVATE KEY or PRIVATE KEY block, found {other:?}"
                ));
            }
        }
        .map_err(|e| format!("not an RSA private key: {e}"))?;
        if pair.public_modulus_len() < 256 {
            return Err("the RSA key must have at least 2048 bits".to_owned());
        }
        Self::new(&pair, text.to_owned())
    }

    fn new(pair: &KeyPair, private_pem: String) -> Result<Self, String> {
        let encoding = EncodingKey::from_rsa_pem(private_pem.as_bytes())
            .map_err(|e| format!("jsonwebtoken rejects the key: {e}"))?;
        let public = pair.public_key();
        let spki = public.as_der().map_err(|_| "cannot encode the public key".to_owned())?;
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, spki.as_ref());
        Ok(Self {
            private_pem,
            encoding,
            // PKCS#1 RSAPublicKey.
            decoding: DecodingKey::from_rsa_der(public.as_ref()),
            kid: URL_SAFE_NO_PAD.encode(digest.as_ref()),
            modulus: public.modulus().big_endian_without_leading_zero().to_vec(),
            exponent: public.exponent().big_endian_without_leading_zero().to_vec(),
        })
    }
}

/// Checks a PEM key from a config without keeping it.
pub(crate) fn check_pem(pem: &str) -> Result<(), TokenError> {
    SigningKey::from_pem(pem).map(drop)
}

/// What the kubelet asks the API server for: a token for a pod's service account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    pub cluster: String,
    pub namespace: String,
    pub service_account: String,
    pub pod_name: String,
    /// [`TokenRequest::new`]: a random UUID.
    pub pod_uid: String,
    /// [`TokenRequest::new`]: a UUID derived from cluster, namespace and name (the same every time).
    pub service_account_uid: String,
    /// [`TokenRequest::new`]: `["pods.eks.amazonaws.com"]`.
    pub audiences: Vec<String>,
    /// [`TokenRequest::new`]: 86400 s.
    pub lifetime: Duration,
    /// When the token is issued (`iat` and `nbf`); `None`: now. A past time with a short lifetime gives
    /// an expired token, a future one a token that is not valid yet.
    pub issued_at: Option<SystemTime>,
    /// The node the pod runs on (`kubernetes.io.node`), if any.
    pub node_name: Option<String>,
}

impl TokenRequest {
    pub fn new(
        cluster: impl Into<String>,
        namespace: impl Into<String>,
        service_account: impl Into<String>,
        pod_name: impl Into<String>,
    ) -> Self {
        let cluster = cluster.into();
        let namespace = namespace.into();
        let service_account = service_account.into();
        let service_account_uid = stable_uuid(&format!("{cluster}/{namespace}/serviceaccount/{service_account}"));
        Self {
            cluster,
            namespace,
            service_account,
            pod_name: pod_name.into(),
            pod_uid: new_uuid(),
            service_account_uid,
            audiences: vec![POD_IDENTITY_AUDIENCE.to_owned()],
            lifetime: DEFAULT_TOKEN_LIFETIME,
            issued_at: None,
            node_name: None,
        }
    }

    /// The claims of the token, for an issuer: `iss`, `sub`, `aud`, `exp`, `iat`, `nbf`, `jti`, and
    /// `kubernetes.io` with the namespace, pod and service account (and node, if given).
    pub fn claims(&self, issuer: &str) -> Value {
        let issued_at = epoch_seconds(self.issued_at.unwrap_or_else(SystemTime::now));
        let mut kubernetes = json!({
            "namespace": self.namespace,
            "pod": {"name": self.pod_name, "uid": self.pod_uid},
            "serviceaccount": {"name": self.service_account, "uid": self.service_account_uid},
        });
        if let Some(node) = &self.node_name {
            kubernetes["node"] = json!({"name": node, "uid": stable_uuid(&format!("{}/node/{node}", self.cluster))});
        }
        json!({
            "aud": self.audiences,
            "exp": issued_at + self.lifetime.as_secs(),
            "iat": issued_at,
            "iss": issuer,
            "jti": new_uuid(),
            "kubernetes.io": kubernetes,
            "nbf": issued_at,
            "sub": format!("system:serviceaccount:{}:{}", self.namespace, self.service_account),
        })
    }
}

/// A UUID derived from `seed`, the same every time: hashed bytes in the version-4 form that Kubernetes
/// uids have.
fn stable_uuid(seed: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, seed.as_bytes());
    let mut bytes = [0; 16];
    bytes.copy_from_slice(&digest.as_ref()[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
}

/// Writes a token to a file (replacing it), as the kubelet does when it rotates the token. The file is its owner's
/// alone (0600), whatever it was before: the token is a credential.
pub(crate) fn write_token_file(path: &Path, token: &str) -> Result<(), TokenError> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let io = |source| TokenError::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    // `mode` applies only to a file it creates; one that existed keeps its bits unless set.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
        .map_err(io)?;
    file.write_all(token.as_bytes()).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_sign_tokens_that_verify() {
        let key = SigningKey::generate().unwrap();
        let token = key.sign(&json!({"sub": "x", "exp": 4_000_000_000u64})).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, Algorithm::RS256);
        assert_eq!(header.kid.as_deref(), Some(key.kid().unwrap().as_str()));
        let mut validation = jsonwebtoken::Validation::new(Algorithm::RS256);
        validation.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<Value>(&token, key.decoding_key().unwrap(), &validation).unwrap();
        assert_eq!(data.claims["sub"], "x");

        // The PEM round-trips to the same key.
        let again = SigningKey::from_pem(&key.private_key_pem().unwrap()).unwrap();
        assert_eq!(again.kid().unwrap(), key.kid().unwrap());
        assert_eq!(again.public_jwk().unwrap(), key.public_jwk().unwrap());
        let jwk = key.public_jwk().unwrap();
        assert_eq!(jwk["e"], "AQAB");
        assert_eq!(URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap().len(), 256);
        assert!(!format!("{key:?}").contains("PRIVATE"));
    }

    #[test]
    fn token_files_are_the_owners_alone_even_when_they_existed() {
        use std::os::unix::fs::PermissionsExt;
        let path = std::env::temp_dir().join(format!("pia-token-mode-{}", std::process::id()));
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_token_file(&path, "new.token.value").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new.token.value");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn bad_pem_is_refused() {
        assert!(matches!(SigningKey::from_pem("nope"), Err(TokenError::InvalidKey(_))));
        let other = pem::encode(&pem::Pem::new("CERTIFICATE", vec![1, 2, 3]));
        assert!(SigningKey::from_pem(&other).is_err());
        let lazy = SigningKey::lazy(Some("nope".into()));
        assert!(lazy.kid().is_err());
    }

    #[test]
    fn claims_look_like_a_kubelet_token() {
        let mut request = TokenRequest::new("c", "ns", "sa", "pod-1");
        request.pod_uid = "uid-1".into();
        request.issued_at = Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1000));
        let claims = request.claims("https://issuer");
        assert_eq!(claims["sub"], "system:serviceaccount:ns:sa");
        assert_eq!(claims["aud"], json!(["pods.eks.amazonaws.com"]));
        assert_eq!(claims["iat"], 1000);
        assert_eq!(claims["nbf"], 1000);
        assert_eq!(claims["exp"], 87_400);
        assert_eq!(claims["kubernetes.io"]["pod"], json!({"name": "pod-1", "uid": "uid-1"}));
        assert_eq!(claims["kubernetes.io"]["serviceaccount"]["name"], "sa");
        assert_eq!(
            claims["kubernetes.io"]["serviceaccount"]["uid"],
            TokenRequest::new("c", "ns", "sa", "other").service_account_uid
        );
        assert_eq!(stable_uuid("x").len(), 36);
    }
}
