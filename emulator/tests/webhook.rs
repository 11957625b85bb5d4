//! The pod identity webhook: AdmissionReview (admission.k8s.io/v1) over HTTP on the agent's port, and
//! the same in process.

mod pod_identity_support;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use pia_emulator::agent::{Agent, AgentConfig};
use pia_emulator::webhook::{apply_patch, parse_pod};
use pia_emulator::{Emulator, EmulatorConfig};
use pod_identity_support::*;
use serde_json::{Value, json};

async fn start() -> (Emulator, Agent) {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let agent = emulator.start_agent(AgentConfig::default()).await.unwrap();
    associate(&emulator, "shop", "cart", ROLE, None, false).await;
    (emulator, agent)
}

fn review(uid: &str, namespace: &str, pod: &Value) -> Value {
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "namespace": namespace,
            "operation": "CREATE",
            "object": pod,
        }
    })
}

/// The AdmissionReview response over HTTP, and its decoded patch (`None`: no patch).
async fn mutate(agent: &Agent, review: &Value) -> (Value, Option<Value>) {
    let (status, headers, body) = http(
        agent.local_addr(),
        "POST",
        "/webhook/mutate",
        &[("Content-Type", "application/json")],
        &review.to_string(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        headers
            .iter()
            .any(|(k, v)| k == "content-type" && v.starts_with("application/json"))
    );
    let answer: Value = serde_json::from_str(&body).unwrap();
    let patch = answer["response"]["patch"].as_str().map(|patch| {
        assert_eq!(answer["response"]["patchType"], "JSONPatch");
        serde_json::from_slice(&STANDARD.decode(patch).unwrap()).unwrap()
    });
    (answer, patch)
}

const URI: &str = "http://169.254.170.23/v1/credentials";
const TOKEN_FILE: &str = "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token";

fn volume() -> Value {
    json!({"name": "eks-pod-identity-token", "projected": {"sources": [{"serviceAccountToken": {
        "audience": "pods.eks.amazonaws.com", "expirationSeconds": 86400, "path": "eks-pod-identity-token"}}]}})
}

fn mount() -> Value {
    json!({"name": "eks-pod-identity-token", "mountPath": "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount", "readOnly": true})
}

#[tokio::test]
async fn a_pod_of_an_associated_service_account_gets_the_exact_patch() {
    let (emulator, agent) = start().await;
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "cart-0"},
        "spec": {"serviceAccountName": "cart", "containers": [{"name": "app", "image": "cart:1"}]},
    });
    let (answer, patch) = mutate(&agent, &review("uid-1", "shop", &pod)).await;
    assert_eq!(answer["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(answer["kind"], "AdmissionReview");
    assert_eq!(answer["response"]["uid"], "uid-1");
    assert_eq!(answer["response"]["allowed"], true);
    let expected = json!([
        {"op": "add", "path": "/spec/volumes", "value": [volume()]},
        {"op": "add", "path": "/spec/containers/0/env", "value": [
            {"name": "AWS_CONTAINER_CREDENTIALS_FULL_URI", "value": URI},
            {"name": "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "value": TOKEN_FILE},
        ]},
        {"op": "add", "path": "/spec/containers/0/volumeMounts", "value": [mount()]},
    ]);
    assert_eq!(patch, Some(expected.clone()));
    // The same in process.
    assert_eq!(
        Value::Array(emulator.mutate_pod(CLUSTER, Some("shop"), &pod).unwrap()),
        expected
    );
    assert_eq!(
        emulator.review_admission(CLUSTER, &review("uid-1", "shop", &pod)),
        answer
    );
}

#[tokio::test]
async fn pods_without_association_are_allowed_unchanged() {
    let (emulator, agent) = start().await;
    let pod = json!({"kind": "Pod", "metadata": {"name": "x"}, "spec": {"serviceAccountName": "cart", "containers": [{"name": "a"}]}});
    // Same service account, other namespace.
    let (answer, patch) = mutate(&agent, &review("uid-2", "other", &pod)).await;
    assert_eq!(answer["response"], json!({"uid": "uid-2", "allowed": true}));
    assert_eq!(patch, None);
    // No service account: "default", which has no association.
    let pod = json!({"kind": "Pod", "spec": {"containers": [{"name": "a"}]}});
    let (answer, patch) = mutate(&agent, &review("uid-3", "shop", &pod)).await;
    assert_eq!(answer["response"]["allowed"], true);
    assert_eq!(patch, None);
    // ... until it gets one.
    associate(&emulator, "shop", "default", ROLE, None, false).await;
    let (_, patch) = mutate(&agent, &review("uid-4", "shop", &pod)).await;
    assert_eq!(patch.unwrap().as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn variables_the_container_sets_are_not_overridden() {
    let (_emulator, agent) = start().await;
    let pod = json!({"kind": "Pod", "spec": {
        "serviceAccountName": "cart",
        "containers": [{
            "name": "app",
            "env": [
                {"name": "LOG_LEVEL", "value": "debug"},
                {"name": "AWS_CONTAINER_CREDENTIALS_FULL_URI", "value": "http://127.0.0.1:9911/creds"},
            ],
            "volumeMounts": [{"name": "data", "mountPath": "/data"}],
        }],
        "volumes": [{"name": "data", "emptyDir": {}}],
    }});
    let (_, patch) = mutate(&agent, &review("uid-5", "shop", &pod)).await;
    let expected = json!([
        {"op": "add", "path": "/spec/volumes/-", "value": volume()},
        {"op": "add", "path": "/spec/containers/0/env/-", "value":
            {"name": "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "value": TOKEN_FILE}},
        {"op": "add", "path": "/spec/containers/0/volumeMounts/-", "value": mount()},
    ]);
    assert_eq!(patch, Some(expected.clone()));
    let mutated = apply_patch(&pod, expected.as_array().unwrap()).unwrap();
    let env = &mutated["spec"]["containers"][0]["env"];
    assert_eq!(env[1]["value"], "http://127.0.0.1:9911/creds");
    assert_eq!(env.as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn init_containers_are_mutated_too() {
    let (emulator, agent) = start().await;
    let yaml = r#"
apiVersion: v1
kind: Pod
metadata:
  name: cart-1
  namespace: shop
spec:
  serviceAccountName: cart
  initContainers:
  - name: migrate
    image: cart-migrate:1
  containers:
  - name: app
    image: cart:1
  - name: sidecar
    image: envoy:1
    env:
    - name: AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
      value: /elsewhere/token
"#;
    let pod = parse_pod(yaml).unwrap();
    let env_both = json!([
        {"name": "AWS_CONTAINER_CREDENTIALS_FULL_URI", "value": URI},
        {"name": "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "value": TOKEN_FILE},
    ]);
    let expected = json!([
        {"op": "add", "path": "/spec/volumes", "value": [volume()]},
        {"op": "add", "path": "/spec/initContainers/0/env", "value": env_both},
        {"op": "add", "path": "/spec/initContainers/0/volumeMounts", "value": [mount()]},
        {"op": "add", "path": "/spec/containers/0/env", "value": env_both},
        {"op": "add", "path": "/spec/containers/0/volumeMounts", "value": [mount()]},
        {"op": "add", "path": "/spec/containers/1/env/-", "value":
            {"name": "AWS_CONTAINER_CREDENTIALS_FULL_URI", "value": URI}},
        {"op": "add", "path": "/spec/containers/1/volumeMounts", "value": [mount()]},
    ]);
    // The namespace comes from the manifest in process...
    assert_eq!(
        Value::Array(emulator.mutate_pod(CLUSTER, None, &pod).unwrap()),
        expected
    );
    // ...and from the request over HTTP.
    let (_, patch) = mutate(&agent, &review("uid-6", "shop", &pod)).await;
    assert_eq!(patch, Some(expected.clone()));
    let mutated = apply_patch(&pod, expected.as_array().unwrap()).unwrap();
    assert_eq!(mutated["spec"]["initContainers"][0]["volumeMounts"][0], mount());
    // A mutated pod needs nothing more.
    assert!(emulator.mutate_pod(CLUSTER, None, &mutated).unwrap().is_empty());
}

#[tokio::test]
async fn other_requests_are_allowed_and_garbage_is_refused() {
    let (_emulator, agent) = start().await;
    let pod = json!({"kind": "Pod", "spec": {"serviceAccountName": "cart", "containers": [{"name": "a"}]}});
    let mut update = review("uid-7", "shop", &pod);
    update["request"]["operation"] = json!("UPDATE");
    let (answer, patch) = mutate(&agent, &update).await;
    assert_eq!((answer["response"]["allowed"].as_bool(), patch), (Some(true), None));

    let (answer, _) = mutate(
        &agent,
        &json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}),
    )
    .await;
    assert_eq!(answer["response"]["allowed"], false);
    let (answer, _) = mutate(&agent, &review("uid-8", "shop", &json!({"kind": "Pod", "spec": {}}))).await;
    assert_eq!(answer["response"]["uid"], "uid-8");
    assert_eq!(answer["response"]["allowed"], false);
    assert_eq!(answer["response"]["status"]["code"], 400);

    let (status, _, body) = http(agent.local_addr(), "POST", "/webhook/mutate", &[], "{not json").await;
    assert_eq!(status, 400, "{body}");
}
