//! Hostile input to the Pod Identity side: the agent's `GET /v1/credentials` with random, huge and non-UTF-8
//! Authorization headers and random JWT-shaped tokens; EKS Auth's AssumeRoleForPodIdentity (through the real SDK
//! client, signed) with tokens whose every part is wrong: alg none, wrong key, swapped claims, expired, far-future
//! and overflowing times, oversized, garbage base64, segments that are not JSON, random claims signed with the
//! cluster's own key; and random request bodies. The emulator must answer 4xx, never 5xx, never hang, never panic.
//! Seeds are fixed, so CI sees the same inputs every run.

mod pod_identity_support;

use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pia_emulator::agent::{Agent, AgentConfig};
use pia_emulator::tokens::{SigningKey, TokenRequest};
use pia_emulator::{Emulator, EmulatorConfig};
use pod_identity_support::{CLUSTER, ROLE, associate};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CASES: u32 = 256;
/// No request may take longer than this (everything is on loopback; the agent's own EKS Auth deadline is 30 s).
const NO_HANG: Duration = Duration::from_secs(60);

struct Fixture {
    runtime: tokio::runtime::Runtime,
    emulator: Emulator,
    agent: Agent,
    /// Claims of a valid token for an associated pod (shop/cart).
    claims: Value,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (emulator, agent, claims) = runtime.block_on(async {
            let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
            let agent = emulator
                .start_agent(AgentConfig {
                    max_attempts: 1,
                    ..AgentConfig::default()
                })
                .await
                .unwrap();
            associate(&emulator, "shop", "cart", ROLE, None, false).await;
            let claims = emulator
                .token_claims(&TokenRequest::new(CLUSTER, "shop", "cart", "cart-0"))
                .unwrap();
            (emulator, agent, claims)
        });
        Fixture {
            runtime,
            emulator,
            agent,
            claims,
        }
    })
}

fn config() -> Config {
    Config {
        cases: CASES,
        rng_seed: RngSeed::Fixed(0x7e57_0017),
        failure_persistence: None,
        max_shrink_iters: 100,
        ..Config::default()
    }
}

fn block_on<T>(future: impl Future<Output = T>) -> T {
    fixture()
        .runtime
        .block_on(async { tokio::time::timeout(NO_HANG, future).await })
        .expect("an answer in time: no hang")
}

/// `GET /v1/credentials` with these raw bytes as the Authorization header value (`None`: no header). The status,
/// or `None` when the server closed the connection without an answer.
async fn agent_get(authorization: Option<&[u8]>) -> (Option<u16>, String) {
    let mut stream = tokio::net::TcpStream::connect(fixture().agent.local_addr())
        .await
        .unwrap();
    let mut request = b"GET /v1/credentials HTTP/1.1\r\nHost: 169.254.170.23\r\nConnection: close\r\n".to_vec();
    if let Some(value) = authorization {
        request.extend_from_slice(b"Authorization: ");
        request.extend_from_slice(value);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"\r\n");
    // A server may stop reading a head it refuses: a failed write is not an answer yet.
    let _ = stream.write_all(&request).await;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok());
    (status, text)
}

fn assert_agent_refuses(authorization: Option<&[u8]>) {
    let (status, response) = block_on(agent_get(authorization));
    let shown = authorization.map(|a| String::from_utf8_lossy(&a[..a.len().min(200)]).into_owned());
    let status = status.unwrap_or_else(|| panic!("no answer for {shown:?}: {response}"));
    assert!(
        (400..500).contains(&status),
        "{status} for {shown:?}: {}",
        &response[..response.len().min(500)]
    );
}

/// AssumeRoleForPodIdentity through the real client: `Ok(200)` or the refusal's status; anything that is not an
/// HTTP answer (a dropped connection, a timeout) is a failure.
async fn eks_auth(cluster: &str, token: &str) -> u16 {
    use aws_sdk_eksauth::error::SdkError;
    match pod_identity_support::assume(&fixture().emulator, cluster, token).await {
        Ok(_) => 200,
        Err(SdkError::ServiceError(failure)) => failure.raw().status().as_u16(),
        Err(other) => panic!("not an HTTP answer: {other:?}"),
    }
}

fn assert_eks_auth_answers_without_5xx(token: &str, allow_success: bool) {
    let status = block_on(eks_auth(CLUSTER, token));
    let shown = &token[..token.len().min(300)];
    if status == 200 {
        assert!(allow_success, "credentials for a bad token: {shown}");
    } else {
        assert!((400..500).contains(&status), "{status} for {shown}");
    }
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("JSON has no NaN", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The valid claims with some claims replaced by random values (or removed), and maybe extra ones.
fn mutated_claims() -> impl Strategy<Value = Value> {
    let keys = vec!["iss", "aud", "sub", "exp", "nbf", "iat", "jti", "kubernetes.io"];
    (
        prop::collection::vec(
            (prop::sample::select(keys), prop::option::weighted(0.8, any_json())),
            1..4,
        ),
        prop::option::weighted(0.2, ("[a-z.]{1,10}", any_json())),
    )
        .prop_map(|(changes, extra)| {
            let mut claims = fixture().claims.clone();
            for (key, value) in changes {
                match value {
                    Some(value) => claims[key] = value,
                    None => {
                        claims.as_object_mut().unwrap().remove(key);
                    }
                }
            }
            if let Some((key, value)) = extra {
                claims[key] = value;
            }
            claims
        })
}

fn jwt_segment() -> impl Strategy<Value = String> {
    prop_oneof![
        any_json().prop_map(|v| b64(v.to_string())),
        prop::collection::vec(any::<u8>(), 0..200).prop_map(b64),
        "[A-Za-z0-9_=-]{0,80}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_agent_refuses_random_authorization_bytes(
        value in prop::collection::vec(prop_oneof![20 => 0x20u8..=0x7e, 5 => 0x80u8..=0xff, 1 => Just(b'\t')], 0..2048)
    ) {
        assert_agent_refuses(Some(&value));
    }

    #[test]
    fn the_agent_refuses_random_jwt_shaped_tokens(
        header in jwt_segment(), claims in jwt_segment(), signature in jwt_segment(), dots in 0usize..5,
    ) {
        let token = match dots {
            0 => format!("{header}{claims}{signature}"),
            1 => format!("{header}.{claims}"),
            2 | 3 => format!("{header}.{claims}.{signature}"),
            _ => format!("{header}.{claims}.{signature}.{signature}"),
        };
        // A header value cannot carry CR, LF or NUL; the rest is the agent's to judge.
        let token: String = token.chars().filter(|c| !matches!(c, '\r' | '\n' | '\0')).collect();
        assert_agent_refuses(Some(token.as_bytes()));
    }

    #[test]
    fn the_agent_refuses_random_claims_signed_with_the_cluster_key(claims in mutated_claims()) {
        let token = fixture().emulator.sign_claims(CLUSTER, &claims).unwrap();
        let (status, response) = block_on(agent_get(Some(token.as_bytes())));
        let status = status.unwrap_or_else(|| panic!("no answer: {response}"));
        // Some mutations leave a valid token (an extra claim, a later exp): credentials are then right.
        prop_assert!(status == 200 || (400..500).contains(&status), "{} for {}: {}", status, claims, response);
    }

    #[test]
    fn eks_auth_refuses_random_tokens(token in prop_oneof![
        any::<String>(),
        (jwt_segment(), jwt_segment(), jwt_segment()).prop_map(|(h, c, s)| format!("{h}.{c}.{s}")),
        (1usize..20_000).prop_map(|n| "A".repeat(n)),
    ]) {
        assert_eks_auth_answers_without_5xx(&token, false);
    }

    #[test]
    fn eks_auth_answers_random_claims_signed_with_the_cluster_key_without_5xx(claims in mutated_claims()) {
        let token = fixture().emulator.sign_claims(CLUSTER, &claims).unwrap();
        assert_eks_auth_answers_without_5xx(&token, true);
    }

    #[test]
    fn eks_auth_refuses_random_bodies_and_cluster_names(
        body in prop_oneof![any_json().prop_map(|v| v.to_string()), any::<String>()],
        cluster in prop_oneof![Just(CLUSTER.to_owned()), "[A-Za-z0-9%._~-]{1,120}"],
    ) {
        let (status, _) = block_on(raw_eks_auth(&cluster, &body));
        prop_assert!((400..500).contains(&status), "{} for {:?} {:?}", status, cluster, body);
    }
}

/// A signed AssumeRoleForPodIdentity with a raw body (the SDK would only send well-formed ones).
async fn raw_eks_auth(cluster: &str, body: &str) -> (u16, String) {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let emulator = &fixture().emulator;
    let host = emulator.local_addr().to_string();
    let path = format!("/clusters/{cluster}/assume-role-for-pod-identity");
    let identity = aws_credential_types::Credentials::new(
        pia_emulator::config::NODE_ACCESS_KEY_ID,
        pia_emulator::config::NODE_SECRET_ACCESS_KEY,
        None,
        None,
        "node",
    )
    .into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("eks-auth")
        .time(std::time::SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let headers = [
        ("host".to_owned(), host.clone()),
        ("content-type".to_owned(), "application/json".to_owned()),
    ];
    let signable = SignableRequest::new(
        "POST",
        format!("http://{host}{path}"),
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body.as_bytes()),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut request = format!("POST {path} HTTP/1.1\r\n");
    for (name, value) in headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain(instructions.headers())
    {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!(
        "Connection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ));
    let mut stream = tokio::net::TcpStream::connect(emulator.local_addr()).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer: {text}"));
    (status, text)
}

// ---- the catalogue, one by one ----------------------------------------------------------------------------------

fn with(claims: &Value, pointer: &str, value: Value) -> Value {
    let mut claims = claims.clone();
    match claims.pointer_mut(pointer) {
        Some(slot) => *slot = value,
        None => {
            let key = pointer.trim_start_matches('/');
            claims[key] = value;
        }
    }
    claims
}

fn nested(depth: usize) -> Value {
    let text = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
    // serde_json refuses to build deeper values itself; a raw value keeps the text as it is.
    Value::String(text)
}

/// Tokens a hostile pod could present: each must be refused with a 4xx, by EKS Auth and by the agent.
fn hostile_tokens() -> Vec<(String, String)> {
    let fixture = fixture();
    let claims = &fixture.claims;
    let sign = |claims: &Value| fixture.emulator.sign_claims(CLUSTER, claims).unwrap();
    let header = |value: Value| b64(value.to_string());
    let valid = sign(claims);
    let mut parts = valid.split('.');
    let (h, c, s) = (
        parts.next().unwrap().to_owned(),
        parts.next().unwrap().to_owned(),
        parts.next().unwrap().to_owned(),
    );
    let public_jwk = fixture.emulator.signing_key(CLUSTER).unwrap().public_jwk().unwrap();
    let hs256_with_public_key = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(public_jwk["n"].as_str().unwrap().as_bytes()).unwrap(),
    )
    .unwrap();
    let deep = |depth: usize| {
        let inner = nested(depth);
        let text = claims
            .to_string()
            .replacen('{', &format!("{{\"deep\":{},", inner.as_str().unwrap()), 1);
        format!("{h}.{}.{s}", b64(text))
    };
    let far = 4_000_000_000_000u64;
    let mut cases: Vec<(&str, String)> = vec![
        (
            "alg none, no signature",
            format!("{}.{c}.", header(json!({"alg": "none"}))),
        ),
        (
            "alg none, a signature",
            format!("{}.{c}.{s}", header(json!({"alg": "none", "typ": "JWT"}))),
        ),
        ("alg None", format!("{}.{c}.{s}", header(json!({"alg": "None"})))),
        ("alg absent", format!("{}.{c}.{s}", header(json!({"typ": "JWT"})))),
        ("alg a number", format!("{}.{c}.{s}", header(json!({"alg": 256})))),
        ("alg RS512", format!("{}.{c}.{s}", header(json!({"alg": "RS512"})))),
        ("HS256 keyed with the public key", hs256_with_public_key),
        (
            "signed with another key",
            SigningKey::generate().unwrap().sign(claims).unwrap(),
        ),
        (
            "signature of another token",
            format!(
                "{h}.{}.{s}",
                b64(with(claims, "/sub", json!("system:serviceaccount:kube-system:admin")).to_string())
            ),
        ),
        ("signature truncated", format!("{h}.{c}.{}", &s[..s.len() / 2])),
        ("signature empty", format!("{h}.{c}.")),
        ("header and claims swapped", format!("{c}.{h}.{s}")),
        (
            "claims of another namespace",
            sign(&with(claims, "/kubernetes.io/namespace", json!("kube-system"))),
        ),
        (
            "subject and service account swapped",
            sign(&with(
                &with(claims, "/sub", json!("system:serviceaccount:cart:shop")),
                "/kubernetes.io/serviceaccount/name",
                json!("shop"),
            )),
        ),
        ("expired long ago", sign(&with(claims, "/exp", json!(1)))),
        ("expired at zero", sign(&with(claims, "/exp", json!(0)))),
        ("exp negative", sign(&with(claims, "/exp", json!(-1)))),
        ("exp a float", sign(&with(claims, "/exp", json!(1.5e300)))),
        ("exp i64::MIN", sign(&with(claims, "/exp", json!(i64::MIN)))),
        ("exp a string", sign(&with(claims, "/exp", json!("tomorrow")))),
        ("exp an object", sign(&with(claims, "/exp", json!({"$date": 1})))),
        ("nbf far in the future", sign(&with(claims, "/nbf", json!(far)))),
        ("nbf u64::MAX", sign(&with(claims, "/nbf", json!(u64::MAX)))),
        (
            "nbf negative",
            sign(&with(&with(claims, "/nbf", json!(-5)), "/exp", json!(-1))),
        ),
        (
            "iat far in the future, nbf too",
            sign(&with(&with(claims, "/iat", json!(far)), "/nbf", json!(far))),
        ),
        ("aud empty", sign(&with(claims, "/aud", json!([])))),
        ("aud a number", sign(&with(claims, "/aud", json!(7)))),
        (
            "iss another cluster's",
            sign(&with(
                claims,
                "/iss",
                json!("https://oidc.eks.us-east-1.amazonaws.com/id/EVIL"),
            )),
        ),
        ("sub empty", sign(&with(claims, "/sub", json!("")))),
        (
            "sub with colons",
            sign(&with(claims, "/sub", json!("system:serviceaccount:shop:cart:extra"))),
        ),
        (
            "sub unicode",
            sign(&with(claims, "/sub", json!("system:serviceaccount:ѕhop:cart"))),
        ),
        (
            "kubernetes.io a string",
            sign(&with(claims, "/kubernetes.io", json!("shop"))),
        ),
        (
            "kubernetes.io pod null",
            sign(&with(claims, "/kubernetes.io/pod", Value::Null)),
        ),
        ("claims an array", format!("{h}.{}.{s}", b64("[1,2,3]"))),
        ("claims a string", format!("{h}.{}.{s}", b64("\"claims\""))),
        ("claims not JSON", format!("{h}.{}.{s}", b64("not json at all"))),
        ("header not JSON", format!("{}.{c}.{s}", b64("{alg:RS256}"))),
        ("header an array", format!("{}.{c}.{s}", b64("[\"RS256\"]"))),
        ("claims nested 200 deep", deep(200)),
        ("claims nested 2,000 deep", deep(2_000)),
        ("garbage base64", "!!!!.@@@@.####".to_owned()),
        ("base64 with padding inside", format!("{h}==.{c}.{s}")),
        (
            "base64 of invalid UTF-8",
            format!("{h}.{}.{s}", b64([0xff, 0xfe, 0x7b, 0x7d])),
        ),
        (
            "standard base64 alphabet",
            format!(
                "{}.{c}.{s}",
                base64::engine::general_purpose::STANDARD.encode(b"{\"alg\":\"RS256\"}>?")
            ),
        ),
        ("two segments", format!("{h}.{c}")),
        ("four segments", format!("{h}.{c}.{s}.{s}")),
        ("only dots", "..".to_owned()),
        ("a Bearer prefix", format!("Bearer {valid}")),
        ("oversized", format!("{h}.{}.{s}", "A".repeat(20_000))),
        (
            "oversized claims, validly signed",
            sign(&with(claims, "/padding", json!("x".repeat(10_000)))),
        ),
    ];
    let fuzzed_unicode = format!("{h}.{c}.{s}\u{202e}");
    cases.push(("a trailing unicode override", fuzzed_unicode));
    cases
        .into_iter()
        .map(|(what, token)| (what.to_owned(), token))
        .collect()
}

#[test]
fn every_hostile_token_is_refused_by_eks_auth_and_the_agent_with_a_4xx() {
    for (what, token) in hostile_tokens() {
        let status = block_on(eks_auth(CLUSTER, &token));
        assert!((400..500).contains(&status), "EKS Auth: {status} for {what}");
        let (status, response) = block_on(agent_get(Some(token.as_bytes())));
        let status = status.unwrap_or_else(|| panic!("agent: no answer for {what}: {response}"));
        assert!((400..500).contains(&status), "agent: {status} for {what}: {response}");
    }
}

#[test]
fn a_token_that_expires_in_the_far_future_is_the_clusters_to_issue() {
    // Signed with the cluster's key, so only its API server could have minted it: it is honoured, as EKS Auth
    // checks expiry, not lifetime. What matters here is that the extreme value is handled, not overflowed.
    let claims = with(&fixture().claims, "/exp", json!(u64::MAX));
    let token = fixture().emulator.sign_claims(CLUSTER, &claims).unwrap();
    assert_eq!(block_on(eks_auth(CLUSTER, &token)), 200);
    let (status, response) = block_on(agent_get(Some(token.as_bytes())));
    assert_eq!(status, Some(200), "{response}");
}

#[test]
fn huge_and_odd_authorization_headers_are_refused() {
    let huge = |n: usize| "A".repeat(n).into_bytes();
    let cases: Vec<(&str, Option<Vec<u8>>)> = vec![
        ("no header", None),
        ("empty", Some(Vec::new())),
        ("blank", Some(b"   \t ".to_vec())),
        ("8 KiB", Some(huge(8 * 1024))),
        ("64 KiB", Some(huge(64 * 1024))),
        ("1 MiB", Some(huge(1024 * 1024))),
        ("non-UTF-8", Some(vec![0xc3, 0x28, 0xa0, 0xa1, 0xff, 0xfe])),
        ("latin-1 JWT-ish", Some(b"\xe9.\xe9.\xe9".to_vec())),
        ("a valid token twice", {
            let token = fixture().emulator.sign_claims(CLUSTER, &fixture().claims).unwrap();
            Some(format!("{token}, {token}").into_bytes())
        }),
    ];
    for (what, value) in cases {
        let (status, response) = block_on(agent_get(value.as_deref()));
        let status = status.unwrap_or_else(|| panic!("no answer for {what}: {response}"));
        assert!((400..500).contains(&status), "{status} for {what}");
    }
}

#[test]
fn after_all_that_a_valid_pod_still_gets_credentials() {
    let token = fixture()
        .emulator
        .mint_token(&TokenRequest::new(CLUSTER, "shop", "cart", "cart-after"))
        .unwrap();
    let (status, response) = block_on(agent_get(Some(token.as_bytes())));
    assert_eq!(status, Some(200), "{response}");
    assert_eq!(block_on(eks_auth(CLUSTER, &token)), 200);
}
