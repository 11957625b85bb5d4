//! The EKS Pod Identity mutating webhook: a pod whose service account (in its namespace) has an
//! association in the cluster gets the agent's URI and the token file in its environment, and the
//! projected token volume mounted.
//!
//! The patch is a JSONPatch of `add` operations only, in this order:
//! 1. the volume `eks-pod-identity-token` (projected `serviceAccountToken`, audience
//!    `pods.eks.amazonaws.com`, `expirationSeconds` 86400, path `eks-pod-identity-token`) at `/spec/volumes`
//!    (a new list) or `/spec/volumes/-`; a pod that already has exactly that volume keeps it;
//! 2. for every init container, then every container, in order: the variables
//!    `AWS_CONTAINER_CREDENTIALS_FULL_URI=http://169.254.170.23/v1/credentials` and
//!    `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token`,
//!    each only if the container does not set that variable already (`…/env` as a new list, or
//!    `…/env/-`), then the read-only mount of the volume at
//!    `/var/run/secrets/pods.eks.amazonaws.com/serviceaccount` (`…/volumeMounts` or `…/volumeMounts/-`),
//!    unless the container mounts the volume already.
//!
//! Left alone: a pod with a volume of that name that is something else (no patch at all, as the EKS
//! webhook does, so that no container points at a token that is not there), a container that mounts
//! something else at the mount path (nothing added to it), and pods without an association (allowed,
//! no patch). Only `CREATE` of `Pod` objects is mutated.
//!
//! Served as `POST /webhook/mutate` (admission.k8s.io/v1 AdmissionReview JSON) on the agent's port
//! ([`crate::agent::Agent::webhook_uri`]); in process through [`crate::Emulator::mutate_pod`] and
//! [`crate::Emulator::review_admission`].

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::config::POD_IDENTITY_PRINCIPAL;
use crate::world::store::Store;

/// The agent's address as pods see it (IPv4 clusters).
pub(crate) const CREDENTIALS_FULL_URI: &str = "http://169.254.170.23/v1/credentials";
pub const ENV_FULL_URI: &str = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
pub const ENV_TOKEN_FILE: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";
pub(crate) const TOKEN_VOLUME: &str = "eks-pod-identity-token";
/// The file name inside the volume.
pub const TOKEN_PATH: &str = "eks-pod-identity-token";
pub(crate) const TOKEN_MOUNT_PATH: &str = "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount";
pub(crate) const TOKEN_FILE: &str = "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token";
pub(crate) const TOKEN_EXPIRATION_SECONDS: u64 = 86_400;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("cannot parse the pod as JSON or YAML: {0}")]
    Parse(String),
    #[error("not a Pod: {0}")]
    NotAPod(String),
    #[error("no cluster named {0:?}")]
    UnknownCluster(String),
    #[error("invalid AdmissionReview: {0}")]
    InvalidReview(String),
    #[error("cannot apply the patch: {0}")]
    Patch(String),
}

/// A pod manifest, JSON or YAML.
pub fn parse_pod(text: &str) -> Result<Value, WebhookError> {
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(_) => serde_norway::from_str(text).map_err(|e| WebhookError::Parse(e.to_string()))?,
    };
    check_pod(&value)?;
    Ok(value)
}

fn check_pod(pod: &Value) -> Result<(), WebhookError> {
    if !pod.is_object() {
        return Err(WebhookError::NotAPod("not an object".into()));
    }
    if let Some(kind) = pod.get("kind").and_then(Value::as_str)
        && kind != "Pod"
    {
        return Err(WebhookError::NotAPod(format!("kind is {kind}")));
    }
    if !pod.pointer("/spec/containers").is_some_and(Value::is_array) {
        return Err(WebhookError::NotAPod("no spec.containers list".into()));
    }
    Ok(())
}

/// The pod's service account: `spec.serviceAccountName`, else the deprecated `spec.serviceAccount`, else
/// `default`.
pub(crate) fn pod_service_account(pod: &Value) -> &str {
    ["/spec/serviceAccountName", "/spec/serviceAccount"]
        .iter()
        .filter_map(|p| pod.pointer(p).and_then(Value::as_str))
        .find(|name| !name.is_empty())
        .unwrap_or("default")
}

/// The projected token volume the webhook adds.
pub(crate) fn token_volume() -> Value {
    json!({
        "name": TOKEN_VOLUME,
        "projected": {"sources": [{"serviceAccountToken": {
            "audience": POD_IDENTITY_PRINCIPAL,
            "expirationSeconds": TOKEN_EXPIRATION_SECONDS,
            "path": TOKEN_PATH,
        }}]},
    })
}

/// The mount the webhook adds to each container.
pub(crate) fn token_mount() -> Value {
    json!({"name": TOKEN_VOLUME, "mountPath": TOKEN_MOUNT_PATH, "readOnly": true})
}

fn env_vars() -> [Value; 2] {
    [
        json!({"name": ENV_FULL_URI, "value": CREDENTIALS_FULL_URI}),
        json!({"name": ENV_TOKEN_FILE, "value": TOKEN_FILE}),
    ]
}

fn named<'a>(list: Option<&'a Value>, name: &str) -> Option<&'a Value> {
    list?
        .as_array()?
        .iter()
        .find(|item| item.get("name").and_then(Value::as_str) == Some(name))
}

/// The JSONPatch that gives a pod pod-identity credentials (see the module docs); empty when the pod
/// has everything already or cannot be given it. Does not look at associations.
pub(crate) fn pod_identity_patch(pod: &Value) -> Vec<Value> {
    let mut patch = Vec::new();
    let volumes = pod.pointer("/spec/volumes");
    match named(volumes, TOKEN_VOLUME) {
        Some(existing) if *existing == token_volume() => {}
        Some(_) => return Vec::new(),
        None if volumes.and_then(Value::as_array).is_some() => {
            patch.push(json!({"op": "add", "path": "/spec/volumes/-", "value": token_volume()}));
        }
        None => patch.push(json!({"op": "add", "path": "/spec/volumes", "value": [token_volume()]})),
    }
    for list in ["initContainers", "containers"] {
        let Some(containers) = pod.pointer(&format!("/spec/{list}")).and_then(Value::as_array) else {
            continue;
        };
        for (index, container) in containers.iter().enumerate() {
            let base = format!("/spec/{list}/{index}");
            let mounts = container.get("volumeMounts");
            let mounted = named(mounts, TOKEN_VOLUME).is_some();
            let path_taken = mounts.and_then(Value::as_array).is_some_and(|mounts| {
                mounts.iter().any(|m| {
                    m.get("mountPath").and_then(Value::as_str) == Some(TOKEN_MOUNT_PATH)
                        && m.get("name").and_then(Value::as_str) != Some(TOKEN_VOLUME)
                })
            });
            if path_taken {
                continue;
            }
            let env = container.get("env");
            let missing: Vec<Value> = env_vars()
                .into_iter()
                .filter(|var| named(env, var["name"].as_str().unwrap_or("")).is_none())
                .collect();
            if env.and_then(Value::as_array).is_some() {
                for var in missing {
                    patch.push(json!({"op": "add", "path": format!("{base}/env/-"), "value": var}));
                }
            } else if !missing.is_empty() {
                patch.push(json!({"op": "add", "path": format!("{base}/env"), "value": missing}));
            }
            if !mounted {
                if mounts.and_then(Value::as_array).is_some() {
                    patch.push(json!({"op": "add", "path": format!("{base}/volumeMounts/-"), "value": token_mount()}));
                } else {
                    patch.push(json!({"op": "add", "path": format!("{base}/volumeMounts"), "value": [token_mount()]}));
                }
            }
        }
    }
    patch
}

/// Applies a JSONPatch of `add` operations (what the webhook emits) to a document: to see the pod as the
/// API server stores it.
pub fn apply_patch(document: &Value, patch: &[Value]) -> Result<Value, WebhookError> {
    let mut document = document.clone();
    for op in patch {
        if op.get("op").and_then(Value::as_str) != Some("add") {
            return Err(WebhookError::Patch(format!("unsupported operation {op}")));
        }
        let path = op.get("path").and_then(Value::as_str).unwrap_or("");
        let value = op.get("value").cloned().unwrap_or(Value::Null);
        let (parent, last) = path
            .rsplit_once('/')
            .ok_or_else(|| WebhookError::Patch(format!("bad path {path:?}")))?;
        let target = document
            .pointer_mut(parent)
            .ok_or_else(|| WebhookError::Patch(format!("no {parent:?} for {path:?}")))?;
        let last = last.replace("~1", "/").replace("~0", "~");
        match target {
            Value::Object(map) => {
                map.insert(last, value);
            }
            Value::Array(items) if last == "-" => items.push(value),
            Value::Array(items) => {
                let index: usize = last
                    .parse()
                    .ok()
                    .filter(|i| *i <= items.len())
                    .ok_or_else(|| WebhookError::Patch(format!("bad index in {path:?}")))?;
                items.insert(index, value);
            }
            _ => {
                return Err(WebhookError::Patch(format!("{parent:?} is not a container")));
            }
        }
    }
    Ok(document)
}

/// The patch for a pod in a cluster: [`pod_identity_patch`] if its service account in `namespace` (else
/// the pod's own namespace, else `default`) has an association, else none.
pub(crate) fn mutate(
    store: &Store,
    cluster: &str,
    namespace: Option<&str>,
    pod: &Value,
) -> Result<Vec<Value>, WebhookError> {
    check_pod(pod)?;
    let namespace = namespace
        .filter(|ns| !ns.is_empty())
        .or_else(|| pod.pointer("/metadata/namespace").and_then(Value::as_str))
        .filter(|ns| !ns.is_empty())
        .unwrap_or("default");
    let service_account = pod_service_account(pod);
    let associated = {
        let state = store.state();
        let cluster = state
            .clusters
            .get(cluster)
            .ok_or_else(|| WebhookError::UnknownCluster(cluster.to_owned()))?;
        cluster.id_for(namespace, service_account).is_some()
    };
    Ok(if associated {
        pod_identity_patch(pod)
    } else {
        Vec::new()
    })
}

/// The AdmissionReview (admission.k8s.io/v1) answering `review`.
pub(crate) fn review(store: &Store, cluster: &str, review: &Value) -> Value {
    let api_version = review
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("admission.k8s.io/v1");
    let uid = review.pointer("/request/uid").and_then(Value::as_str).unwrap_or("");
    let answer = |response: Value| json!({"apiVersion": api_version, "kind": "AdmissionReview", "response": response});
    let refuse =
        |message: String| answer(json!({"uid": uid, "allowed": false, "status": {"code": 400, "message": message}}));
    let Some(request) = review.get("request").filter(|r| r.is_object()) else {
        return refuse(WebhookError::InvalidReview("no request".into()).to_string());
    };
    let kind = request.pointer("/kind/kind").and_then(Value::as_str);
    let operation = request.get("operation").and_then(Value::as_str);
    if kind.is_some_and(|k| k != "Pod") || operation.is_some_and(|op| op != "CREATE") {
        return answer(json!({"uid": uid, "allowed": true}));
    }
    let Some(pod) = request.get("object") else {
        return refuse(WebhookError::InvalidReview("no object".into()).to_string());
    };
    let namespace = request.get("namespace").and_then(Value::as_str);
    match mutate(store, cluster, namespace, pod) {
        Ok(patch) if patch.is_empty() => answer(json!({"uid": uid, "allowed": true})),
        Ok(patch) => answer(json!({
            "uid": uid,
            "allowed": true,
            "patchType": "JSONPatch",
            "patch": STANDARD.encode(Value::Array(patch).to_string()),
        })),
        Err(error) => refuse(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_pod_gets_everything_and_the_patch_applies() {
        let pod = parse_pod(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: app\n    image: x\n",
        )
        .unwrap();
        let patch = pod_identity_patch(&pod);
        assert_eq!(patch.len(), 3);
        let mutated = apply_patch(&pod, &patch).unwrap();
        assert_eq!(mutated["spec"]["volumes"][0], token_volume());
        assert_eq!(mutated["spec"]["containers"][0]["env"][1]["value"], TOKEN_FILE);
        assert_eq!(mutated["spec"]["containers"][0]["volumeMounts"][0], token_mount());
        // Idempotent: a mutated pod needs nothing more.
        assert!(pod_identity_patch(&mutated).is_empty());
    }

    #[test]
    fn a_foreign_volume_of_the_same_name_blocks_the_mutation() {
        let pod = json!({"spec": {"containers": [{"name": "a"}], "volumes": [{"name": TOKEN_VOLUME, "hostPath": {"path": "/x"}}]}});
        assert!(pod_identity_patch(&pod).is_empty());
    }

    #[test]
    fn service_account_defaults() {
        assert_eq!(pod_service_account(&json!({"spec": {}})), "default");
        assert_eq!(pod_service_account(&json!({"spec": {"serviceAccount": "old"}})), "old");
        assert_eq!(
            pod_service_account(&json!({"spec": {"serviceAccount": "old", "serviceAccountName": "new"}})),
            "new"
        );
        assert!(parse_pod("kind: Service\nspec: {}").is_err());
        assert!(parse_pod(": : :").is_err());
    }
}
