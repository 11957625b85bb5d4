//! What the Pod Identity webhook makes of a pod: the pod is sent to the running webhook as the API server sends it
//! (an AdmissionReview of its CREATE), and its JSONPatch applied, so that the webhook alone decides which variables
//! a pod gets and which token volume is projected into it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::PodError;
use crate::http_client;

/// The projected service-account token the webhook asked for.
pub struct ProjectedToken {
    /// Where the container sees the file (the mount path and the volume's path in it).
    pub container_path: String,
    pub audience: String,
    pub expiration_seconds: u64,
}

/// The webhook's answer for one pod's one container.
pub struct Mutated {
    /// The container's variables, as the webhook set them.
    pub env: Vec<(String, String)>,
    /// `None`: the webhook left the pod as is (its service account has no association).
    pub token: Option<ProjectedToken>,
}

/// A pod of `service_account` named `pod` in `namespace` with one container, as the webhook mutates it.
pub async fn mutate(webhook_url: &str, namespace: &str, service_account: &str, pod: &str) -> Result<Mutated, PodError> {
    let object = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": pod, "namespace": namespace},
        "spec": {"serviceAccountName": service_account, "containers": [{"name": "main", "image": "pia-pod-exec"}]},
    });
    let review = json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": pod,
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "operation": "CREATE",
            "namespace": namespace,
            "object": object,
        },
    });
    let answer = http_client::send(
        "POST",
        webhook_url,
        &[("content-type", "application/json")],
        review.to_string().into_bytes(),
    )
    .await?;
    let refused = |message: String| PodError::Webhook {
        url: webhook_url.to_owned(),
        message,
    };
    let review: Value = serde_json::from_str(&answer.body).map_err(|_| {
        refused(format!(
            "answered {} with no AdmissionReview: {}",
            answer.status,
            answer.body.trim()
        ))
    })?;
    let response = &review["response"];
    if response["allowed"] != Value::Bool(true) {
        return Err(refused(
            response["status"]["message"]
                .as_str()
                .unwrap_or("refused the pod")
                .to_owned(),
        ));
    }
    let Some(patch) = response["patch"].as_str() else {
        return Ok(Mutated {
            env: Vec::new(),
            token: None,
        });
    };
    let patch: Vec<Value> = STANDARD
        .decode(patch)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| refused("answered a patch that is not base64 of a JSONPatch".into()))?;
    let pod = pia_emulator::webhook::apply_patch(&object, &patch).map_err(|e| refused(e.to_string()))?;
    Ok(read_container(&pod))
}

/// The first container's variables, and the projected service-account token it mounts, if any.
fn read_container(pod: &Value) -> Mutated {
    let container = &pod["spec"]["containers"][0];
    let env = container["env"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|var| Some((var["name"].as_str()?.to_owned(), var["value"].as_str()?.to_owned())))
        .collect();
    let volumes = pod["spec"]["volumes"].as_array().cloned().unwrap_or_default();
    let token = container["volumeMounts"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|mount| {
            let volume = volumes.iter().find(|volume| volume["name"] == mount["name"])?;
            let source = volume["projected"]["sources"]
                .as_array()?
                .iter()
                .find_map(|source| source.get("serviceAccountToken"))?;
            Some(ProjectedToken {
                container_path: format!(
                    "{}/{}",
                    mount["mountPath"].as_str()?.trim_end_matches('/'),
                    source["path"].as_str()?
                ),
                audience: source["audience"].as_str()?.to_owned(),
                expiration_seconds: source["expirationSeconds"].as_u64()?,
            })
        });
    Mutated { env, token }
}
