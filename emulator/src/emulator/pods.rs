//! The Pod Identity side, in process: what EKS Auth granted, the clusters' service-account tokens as the
//! kubelet gets them, and the webhook's answer for a pod.

use std::path::Path;
use std::sync::Arc;

use serde_json::{Value, json};

use super::Emulator;
use crate::tokens::{self, SigningKey, TokenError, TokenRequest};
use crate::webhook::{self, WebhookError};
use crate::world::eks_auth::PodIdentityGrant;

impl Emulator {
    /// Every successful AssumeRoleForPodIdentity since start (the last 10,000), oldest first.
    pub fn pod_identity_grants(&self) -> Vec<PodIdentityGrant> {
        self.store().state().pod_identity_grants.to_vec()
    }

    /// The OIDC issuer URL of a cluster (`https://oidc.eks.REGION.amazonaws.com/id/HEX`), the `iss` of its
    /// tokens.
    pub fn cluster_issuer(&self, cluster: &str) -> Option<String> {
        let state = self.store().state();
        state.clusters.get(cluster).map(|c| c.oidc_issuer.clone())
    }

    /// The cluster's JWKS document (`{"keys": [...]}`), as served at `ISSUER/keys`.
    pub fn cluster_jwks(&self, cluster: &str) -> Result<Value, TokenError> {
        let key = self.signing_key(cluster)?;
        Ok(json!({"keys": [key.public_jwk()?]}))
    }

    /// The cluster's service-account signing key.
    pub fn signing_key(&self, cluster: &str) -> Result<Arc<SigningKey>, TokenError> {
        let state = self.store().state();
        state
            .clusters
            .get(cluster)
            .map(|c| c.signing_key.clone())
            .ok_or_else(|| TokenError::UnknownCluster(cluster.to_owned()))
    }

    /// The claims that [`Emulator::mint_token`] would sign (with a new `jti`), for tests that alter them
    /// and sign them with [`Emulator::sign_claims`].
    pub fn token_claims(&self, request: &TokenRequest) -> Result<Value, TokenError> {
        let issuer = self
            .cluster_issuer(&request.cluster)
            .ok_or_else(|| TokenError::UnknownCluster(request.cluster.clone()))?;
        Ok(request.claims(&issuer))
    }

    /// A projected service-account token for a pod, signed with its cluster's key, as the kubelet writes
    /// it into the pod's `eks-pod-identity-token` volume.
    pub fn mint_token(&self, request: &TokenRequest) -> Result<String, TokenError> {
        let claims = self.token_claims(request)?;
        self.sign_claims(&request.cluster, &claims)
    }

    /// Signs arbitrary claims with a cluster's key (RS256, its `kid`): for deliberately wrong tokens.
    pub fn sign_claims(&self, cluster: &str, claims: &Value) -> Result<String, TokenError> {
        let key = self.signing_key(cluster)?;
        key.sign(claims)
    }

    /// Mints a token and writes it to `path` (the file that `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`
    /// names), without a trailing newline, as the kubelet does. Returns the token.
    pub fn write_token_file(&self, request: &TokenRequest, path: &Path) -> Result<String, TokenError> {
        let token = self.mint_token(request)?;
        tokens::write_token_file(path, &token)?;
        Ok(token)
    }

    /// The webhook's JSONPatch for a pod (JSON value; see [`webhook::parse_pod`] for YAML) created in `namespace`
    /// (`None`: the pod's `metadata.namespace`, else `default`) of `cluster`; empty when its service account
    /// has no association.
    pub fn mutate_pod(&self, cluster: &str, namespace: Option<&str>, pod: &Value) -> Result<Vec<Value>, WebhookError> {
        webhook::mutate(self.store(), cluster, namespace, pod)
    }

    /// The AdmissionReview response to an AdmissionReview request, as the webhook endpoint answers it.
    pub fn review_admission(&self, cluster: &str, admission_review: &Value) -> Value {
        webhook::review(self.store(), cluster, admission_review)
    }
}
