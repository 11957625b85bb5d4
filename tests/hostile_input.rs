//! Hostile input: the request decoder and dispatch fuzzed with proptest (random and truncated JSON, wrong types in
//! every field, huge strings and arrays, deep nesting, unicode, unknown actions, random models for every action),
//! against the emulated EKS. Never a panic, never a hang (every invocation is bounded by a timeout here), always a
//! ProgressEvent within the contract: FAILED with a fitting code, or a legitimate SUCCESS / IN_PROGRESS when the
//! random input happens to be valid. Plus the real `bootstrap` fed payloads deeper than serde_json's recursion limit.
//!
//! Seeds are fixed, so CI sees the same inputs every run: 7 properties × `CASES` inputs, plus the extremes.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use pia_testkit::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use serde_json::{Map, Value, json};

/// Inputs tried per property (each property test below), and the properties.
const CASES: u32 = 256;
/// An invocation that takes longer than this is a hang (the provider's own deadline is 100 s at most, and the
/// emulated EKS answers at once).
const NO_HANG: Duration = Duration::from_secs(110);

const ACTIONS: [&str; 5] = ["CREATE", "READ", "UPDATE", "DELETE", "LIST"];
const PROPERTIES: [&str; 11] = [
    "ClusterName",
    "RoleArn",
    "Namespace",
    "ServiceAccount",
    "AssociationArn",
    "AssociationId",
    "TargetRoleArn",
    "Policy",
    "ExternalId",
    "DisableSessionTags",
    "Tags",
];

struct Fixture {
    runtime: tokio::runtime::Runtime,
    world: World,
}

/// One emulator and provider for all the property tests of this binary.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let world = runtime.block_on(World::start());
        Fixture { runtime, world }
    })
}

static TRIED: AtomicU64 = AtomicU64::new(0);

/// One invocation, bounded: the ProgressEvent as JSON.
fn invoke(payload: &[u8]) -> Value {
    TRIED.fetch_add(1, Ordering::Relaxed);
    let fixture = fixture();
    let event = fixture
        .runtime
        .block_on(async { tokio::time::timeout(NO_HANG, fixture.world.provider.invoke(payload)).await })
        .unwrap_or_else(|_| panic!("no answer within {NO_HANG:?}: a hang on {}", preview(payload)));
    serde_json::to_value(event).expect("the event serializes")
}

fn preview(payload: &[u8]) -> String {
    let text = String::from_utf8_lossy(payload);
    text.chars().take(300).collect()
}

fn config() -> Config {
    Config {
        cases: CASES,
        rng_seed: RngSeed::Fixed(0x7e57_0007),
        failure_persistence: None,
        max_shrink_iters: 200,
        ..Config::default()
    }
}

/// The contract's shape rules, whatever the input; returns the error code of a FAILED event.
fn check_contract(event: &Value, payload: &[u8]) -> Option<String> {
    let status = event["status"].as_str().unwrap_or_default();
    let context = || preview(payload);
    match status {
        "SUCCESS" => assert!(event.get("errorCode").is_none(), "{event} for {}", context()),
        "FAILED" => {
            assert!(
                event["errorCode"].is_string() && event["message"].is_string(),
                "{event} for {}",
                context()
            );
            assert!(event.get("resourceModels").is_none(), "{event}");
            let message = event["message"].as_str().unwrap();
            assert!(
                !message.contains("failed unexpectedly"),
                "a handler panicked: {event} for {}",
                context()
            );
            assert!(
                message.chars().count() <= 2000,
                "a {}-byte message for {}",
                message.len(),
                context()
            );
        }
        "IN_PROGRESS" => {
            assert!(
                event.get("errorCode").is_none()
                    && event["callbackContext"].is_object()
                    && event["resourceModel"]["AssociationArn"].is_string(),
                "IN_PROGRESS without the primary identifier: {event}"
            );
        }
        other => panic!("status {other:?}: {event} for {}", context()),
    }
    event["errorCode"].as_str().map(str::to_owned)
}

/// Garbage in: exactly InvalidRequest.
fn assert_invalid_request(payload: &[u8]) {
    let event = invoke(payload);
    let code = check_contract(&event, payload);
    assert_eq!(
        code.as_deref(),
        Some("InvalidRequest"),
        "{event} for {}",
        preview(payload)
    );
}

/// A request that may be valid by chance: a contract-shaped answer with a code that fits.
fn assert_fitting_answer(action: &str, payload: &[u8]) {
    let event = invoke(payload);
    match check_contract(&event, payload).as_deref() {
        None => {
            if event["status"] == "IN_PROGRESS" {
                assert_eq!(action, "UPDATE", "only an update waits through callbacks: {event}");
            }
        }
        Some("InvalidRequest" | "NotFound" | "NotUpdatable" | "AlreadyExists" | "InvalidCredentials") => {}
        Some(other) => panic!("{other} for {action}: {event} for {}", preview(payload)),
    }
}

// ---- strategies ----------------------------------------------------------------------------------------------

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("JSON has no NaN", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        any::<String>().prop_map(Value::String),
        "[a-zA-Z:/\\-_.0-9]{0,40}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Strings a hostile or careless template might hold: plausible ones, unicode, control characters, huge ones.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("demo".to_owned()),
        Just(ROLE.to_owned()),
        Just("arn:aws:eks:us-east-1:111122223333:podidentityassociation/demo/a-0123456789abcdefg".to_owned()),
        Just("a-0123456789abcdefg".to_owned()),
        Just(String::new()),
        "[a-z0-9-]{1,70}",
        "arn:aws[a-z-]{0,8}:[a-z]{0,5}:[a-z0-9-]{0,12}:[0-9]{0,13}:[a-z/]{0,20}[A-Za-z0-9/._-]{0,40}",
        any::<String>(),
        "\\PC{0,40}",
        "[\\x00-\\x1f\u{202e}\u{feff}\u{10ffff}]{1,20}",
        (1usize..200_000).prop_map(|n| "x".repeat(n)),
        (1usize..20_000).prop_map(|n| "é🦀".repeat(n)),
    ]
}

fn any_property_value(name: &'static str) -> BoxedStrategy<Value> {
    let text = any_text().prop_map(Value::String);
    match name {
        "DisableSessionTags" => prop_oneof![
            any::<bool>().prop_map(Value::Bool),
            Just(json!("true")),
            Just(json!("FALSE")),
            text,
            any_json()
        ]
        .boxed(),
        "Tags" => prop_oneof![
            prop::collection::vec(
                (any_text(), any_text()).prop_map(|(k, v)| json!({"Key": k, "Value": v})),
                0..60
            )
            .prop_map(Value::Array),
            (0usize..5000)
                .prop_map(|n| Value::Array((0..n).map(|i| json!({"Key": format!("k{i}"), "Value": "v"})).collect())),
            prop::collection::vec(any_json(), 0..5).prop_map(Value::Array),
            any_json(),
        ]
        .boxed(),
        _ => prop_oneof![4 => text, 1 => any_json()].boxed(),
    }
}

fn any_model() -> impl Strategy<Value = Value> {
    let fields: Vec<BoxedStrategy<Option<(String, Value)>>> = PROPERTIES
        .iter()
        .map(|name| {
            prop::option::weighted(0.6, any_property_value(name).prop_map(move |v| (name.to_string(), v))).boxed()
        })
        .collect();
    (fields, prop::option::weighted(0.1, ("[A-Za-z]{1,12}", any_json()))).prop_map(|(fields, extra)| {
        let mut model: Map<String, Value> = fields.into_iter().flatten().collect();
        if let Some((key, value)) = extra {
            model.insert(key, value);
        }
        Value::Object(model)
    })
}

/// A well-formed HandlerRequest whose content is arbitrary.
fn any_request() -> impl Strategy<Value = (String, Value)> {
    (
        prop::sample::select(ACTIONS.to_vec()),
        any_model(),
        prop::option::weighted(0.3, any_model()),
        prop::option::weighted(0.15, any_json()),
        prop::option::weighted(0.15, any_text()),
        prop::option::weighted(0.2, prop::collection::btree_map(any_text(), any_text(), 0..4)),
    )
        .prop_map(|(action, model, previous, context, next_token, stack_tags)| {
            let mut request = request(action, model);
            if let Some(previous) = previous {
                request["requestData"]["previousResourceProperties"] = previous;
            }
            if let Some(context) = context {
                request["callbackContext"] = context;
            }
            if let Some(token) = next_token {
                request["nextToken"] = json!(token);
            }
            if let Some(tags) = stack_tags {
                request["requestData"]["stackTags"] = json!(tags);
            }
            (action.to_owned(), request)
        })
}

/// Every field of a request, by JSON pointer.
fn field_paths() -> Vec<String> {
    let mut paths: Vec<String> = [
        "/action",
        "/bearerToken",
        "/region",
        "/callbackContext",
        "/nextToken",
        "/requestData",
        "/requestData/callerCredentials",
        "/requestData/callerCredentials/accessKeyId",
        "/requestData/callerCredentials/secretAccessKey",
        "/requestData/callerCredentials/sessionToken",
        "/requestData/resourceProperties",
        "/requestData/previousResourceProperties",
        "/requestData/stackTags",
        "/requestData/previousStackTags",
        "/requestData/logicalResourceId",
    ]
    .iter()
    .map(|p| p.to_string())
    .collect();
    paths.extend(
        PROPERTIES
            .iter()
            .map(|p| format!("/requestData/resourceProperties/{p}")),
    );
    paths.push("/requestData/resourceProperties/Tags/0".into());
    paths.push("/requestData/resourceProperties/Tags/0/Key".into());
    paths.push("/requestData/resourceProperties/Tags/0/Value".into());
    paths
}

/// A full, valid request for an action, every optional field present.
fn full_request(action: &str) -> Value {
    let mut model = desired();
    model["TargetRoleArn"] = json!(TARGET_ROLE);
    model["DisableSessionTags"] = json!(true);
    model["Policy"] = json!(r#"{"Version":"2012-10-17","Statement":[]}"#);
    if action != "CREATE" {
        model["AssociationArn"] =
            json!("arn:aws:eks:us-east-1:111122223333:podidentityassociation/demo/a-0123456789abcdefg");
    }
    let mut request = request(action, model.clone());
    request["callbackContext"] = json!({"roleWaitAttempts": 1});
    request["nextToken"] = json!("token");
    request["requestData"]["previousResourceProperties"] = model;
    request["requestData"]["stackTags"] = json!({"a": "b"});
    request["requestData"]["previousStackTags"] = json!({"a": "c"});
    request
}

/// Replaces the value at `path` (creating the last key if absent).
fn replace_at(request: &mut Value, path: &str, value: Value) {
    let (parent, key) = path.rsplit_once('/').unwrap();
    match request.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.insert(key.to_owned(), value);
        }
        Some(Value::Array(items)) => {
            if let Some(slot) = key.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                *slot = value;
            }
        }
        _ => {}
    }
}

// ---- properties ----------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_bytes_are_invalid_request(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        assert_invalid_request(&bytes);
    }

    #[test]
    fn random_json_is_invalid_request(value in any_json()) {
        // A random document is neither shape, or a shape with a wrong action: never a valid request.
        assert_invalid_request(value.to_string().as_bytes());
    }

    #[test]
    fn truncated_requests_are_invalid_request(action in prop::sample::select(ACTIONS.to_vec()), cut in 0.0f64..1.0) {
        let text = full_request(action).to_string();
        let at = (text.len() as f64 * cut) as usize;
        assert_invalid_request(&text.as_bytes()[..at]);
    }

    #[test]
    fn wrong_types_in_every_field_give_a_fitting_answer(
        action in prop::sample::select(ACTIONS.to_vec()),
        path in prop::sample::select(field_paths()),
        value in any_json(),
    ) {
        let mut request = full_request(action);
        replace_at(&mut request, &path, value);
        assert_fitting_answer(action, request.to_string().as_bytes());
    }

    #[test]
    fn unknown_actions_are_invalid_request(action in "\\PC{0,30}") {
        prop_assume!(!ACTIONS.contains(&action.as_str()));
        let mut request = full_request("READ");
        request["action"] = json!(action);
        let event = invoke(request.to_string().as_bytes());
        prop_assert_eq!(&event["errorCode"], "InvalidRequest", "{}", event);
        prop_assert!(event["message"].as_str().unwrap().contains("unknown action"), "{}", event);
    }

    #[test]
    fn random_models_for_every_action_give_a_fitting_answer((action, request) in any_request()) {
        assert_fitting_answer(&action, request.to_string().as_bytes());
    }

    #[test]
    fn the_test_entrypoint_shape_with_random_content_gives_a_fitting_answer(
        action in prop::sample::select(ACTIONS.to_vec()),
        desired in any_model(),
        previous in prop::option::of(any_model()),
        context in prop::option::of(any_json()),
    ) {
        let request = json!({
            "credentials": {"accessKeyId": pia_emulator::DEFAULT_ACCESS_KEY_ID, "secretAccessKey": pia_emulator::DEFAULT_SECRET_ACCESS_KEY},
            "action": action,
            "request": {"clientRequestToken": bearer_token(), "desiredResourceState": desired, "previousResourceState": previous, "region": "us-east-1"},
            "callbackContext": context,
        });
        assert_fitting_answer(action, request.to_string().as_bytes());
    }
}

// ---- extremes, one by one --------------------------------------------------------------------------------------

fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

#[test]
fn nesting_deeper_than_the_parser_allows_is_invalid_request_in_every_position() {
    for depth in [129, 10_000, 200_000] {
        let deep = nested(depth);
        assert_invalid_request(deep.as_bytes());
        for path in [
            "/callbackContext",
            "/requestData/resourceProperties",
            "/requestData/resourceProperties/Tags",
            "/requestData/stackTags",
        ] {
            let mut request = full_request("CREATE");
            replace_at(&mut request, path, json!("__DEEP__"));
            let payload = request.to_string().replace("\"__DEEP__\"", &deep);
            assert_invalid_request(payload.as_bytes());
        }
    }
}

#[test]
fn huge_strings_arrays_and_objects_are_refused_with_short_messages() {
    let cases: Vec<(&str, Value)> = vec![
        (
            "/requestData/resourceProperties/ClusterName",
            json!("c".repeat(5_000_000)),
        ),
        (
            "/requestData/resourceProperties/RoleArn",
            json!(format!("arn:aws:iam::111122223333:role/{}", "r".repeat(1_000_000))),
        ),
        (
            "/requestData/resourceProperties/Namespace",
            json!("n".repeat(2_000_000)),
        ),
        (
            "/requestData/resourceProperties/Tags",
            Value::Array(
                (0..100_000)
                    .map(|i| json!({"Key": format!("k{i}"), "Value": "v"}))
                    .collect(),
            ),
        ),
        (
            "/requestData/resourceProperties/Unknown",
            Value::Object((0..100_000).map(|i| (format!("k{i}"), json!(i))).collect()),
        ),
        (
            "/requestData/stackTags",
            Value::Object((0..100_000).map(|i| (format!("k{i}"), json!("v"))).collect()),
        ),
        ("/action", json!("C".repeat(1_000_000))),
        (
            "/requestData/resourceProperties/Policy",
            json!(format!("{{\"Statement\":[{}]}}", "{},".repeat(500_000))),
        ),
    ];
    for (path, value) in cases {
        for action in ACTIONS {
            let mut request = full_request(action);
            replace_at(&mut request, path, value.clone());
            let payload = request.to_string();
            let event = invoke(payload.as_bytes());
            let code = check_contract(&event, payload.as_bytes());
            assert!(
                matches!(code.as_deref(), Some("InvalidRequest" | "NotFound" | "NotUpdatable")),
                "{action} {path}: {event}"
            );
        }
    }
}

#[test]
fn unicode_everywhere_is_answered_within_the_contract() {
    let strange = [
        "\u{0}",
        "é",
        "🦀",
        "\u{202e}evil",
        "\u{feff}",
        "ｄｅｍｏ",
        "demo\n",
        "demo\u{0}",
        "\u{10ffff}",
        "\\u0000",
        "𝔡𝔢𝔪𝔬",
    ];
    for text in strange {
        for path in field_paths() {
            for action in ACTIONS {
                let mut request = full_request(action);
                replace_at(&mut request, &path, json!(text));
                assert_fitting_answer(action, request.to_string().as_bytes());
            }
        }
    }
}

#[test]
fn a_valid_request_still_works_after_the_fuzzing() {
    // The same provider and emulator keep answering correctly.
    let payload = request(
        "CREATE",
        json!({"ClusterName": "demo", "Namespace": "after-fuzz", "ServiceAccount": "sa", "RoleArn": ROLE}),
    );
    let event = invoke(payload.to_string().as_bytes());
    assert_eq!(event["status"], "SUCCESS", "{event}");
    let deleted = invoke(request("DELETE", event["resourceModel"].clone()).to_string().as_bytes());
    assert_eq!(deleted["status"], "SUCCESS", "{deleted}");
}

// ---- the Lambda bootstrap --------------------------------------------------------------------------------------

/// The real `bootstrap` on a local Lambda Runtime API: payloads the Lambda service accepts (any valid JSON, however
/// deep) must come back as FAILED events, never as a Lambda error, which CloudFormation would see as a failure of the
/// provider itself.
#[tokio::test]
async fn bootstrap_answers_hostile_payloads_with_failed_events_not_lambda_errors() {
    use pia_emulator::lambda_runtime_api::{InvocationOutcome, LambdaRuntimeApi};
    let runtime = LambdaRuntimeApi::start().await.unwrap();
    let _bootstrap = tokio::process::Command::new(env!("CARGO_BIN_EXE_bootstrap"))
        .env_clear()
        .envs(runtime.function_environment())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL_EKS", "http://127.0.0.1:9")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("bootstrap starts");

    let mut payloads: Vec<(String, Vec<u8>)> = vec![
        ("nested 129 deep".into(), nested(129).into_bytes()),
        ("nested 100,000 deep".into(), nested(100_000).into_bytes()),
        (
            "an object nested 10,000 deep".into(),
            format!("{}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000)).into_bytes(),
        ),
        ("a number".into(), b"42".to_vec()),
        ("a string".into(), b"\"CREATE\"".to_vec()),
        ("null".into(), b"null".to_vec()),
        ("an empty object".into(), b"{}".to_vec()),
        (
            "unicode escapes".into(),
            br#"{"action":"\u0000\ud83e\udd80","requestData":{}}"#.to_vec(),
        ),
        (
            "a lone surrogate escape".into(),
            br#"{"action":"\ud800","requestData":{}}"#.to_vec(),
        ),
        (
            "a 4 MB string".into(),
            json!({"action": "CREATE", "requestData": {"resourceProperties": {"ClusterName": "c".repeat(4_000_000)}}})
                .to_string()
                .into_bytes(),
        ),
    ];
    for path in [
        "/callbackContext",
        "/requestData/resourceProperties",
        "/requestData/stackTags",
    ] {
        let mut request = full_request("CREATE");
        replace_at(&mut request, path, json!("__DEEP__"));
        payloads.push((
            format!("{path} nested 50,000 deep"),
            request
                .to_string()
                .replace("\"__DEEP__\"", &nested(50_000))
                .into_bytes(),
        ));
    }
    for (what, payload) in payloads {
        let outcome = tokio::time::timeout(NO_HANG, runtime.invoke(payload))
            .await
            .expect("no hang")
            .expect("an answer");
        match outcome {
            InvocationOutcome::Response(body) => {
                let event: Value = serde_json::from_slice(&body).expect("a JSON ProgressEvent");
                assert_eq!(event["status"], "FAILED", "{what}: {event}");
                assert_eq!(event["errorCode"], "InvalidRequest", "{what}: {event}");
            }
            InvocationOutcome::Error(body) => panic!("{what}: a Lambda error: {}", String::from_utf8_lossy(&body)),
        }
    }
    assert!(runtime.init_errors().is_empty());
}
