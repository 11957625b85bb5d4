//! Load: the Pod Identity Agent and EKS Auth under many pods at once, on loopback. 200 pods × 20 credential
//! requests over 32 concurrent keep-alive connections, several rounds: every request answered with the pod's
//! credentials, no error, the EKS Auth calls exactly the agent's cache misses, and memory flat (the process RSS after
//! a long run against the RSS after the warm-up, with generous slack: a structural check, not a timing one). Then
//! EKS Auth alone, called by 32 SDK clients at once. One test runs both, one after the other, so that the RSS is
//! the agent run's alone.

mod pod_identity_support;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use pia_emulator::agent::AgentConfig;
use pia_emulator::tokens::TokenRequest;
use pia_emulator::{Emulator, EmulatorConfig};
use pod_identity_support::{CLUSTER, ROLE, associate, eks_auth_client};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const PODS: usize = 200;
const REQUESTS_PER_POD: usize = 20;
const CONNECTIONS: usize = 32;
const SERVICE_ACCOUNTS: usize = 20;
/// Rounds after the warm-up, each with the agent's cache emptied first (so every pod costs one EKS Auth call).
const LONG_RUN_ROUNDS: usize = 5;
/// RSS growth allowed between the warm-up and the end of the long run: generous, since the emulator keeps every
/// session it issued (as STS would, until expiry); a leak per request would exceed it many times over.
const RSS_SLACK_KIB: u64 = 64 * 1024;

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

/// A minimal HTTP/1.1 client on one keep-alive connection.
struct Connection {
    reader: BufReader<TcpStream>,
}

impl Connection {
    async fn open(address: SocketAddr) -> Self {
        let stream = TcpStream::connect(address).await.expect("connect");
        stream.set_nodelay(true).unwrap();
        Self {
            reader: BufReader::new(stream),
        }
    }

    /// `GET /v1/credentials` with the pod's token: (status, body).
    async fn credentials(&mut self, token: &str) -> (u16, Vec<u8>) {
        let request = format!("GET /v1/credentials HTTP/1.1\r\nHost: 169.254.170.23\r\nAuthorization: {token}\r\n\r\n");
        self.reader
            .get_mut()
            .write_all(request.as_bytes())
            .await
            .expect("write");
        let mut status_line = String::new();
        self.reader.read_line(&mut status_line).await.expect("status line");
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("status line {status_line:?}"));
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).await.expect("header");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().expect("content-length");
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).await.expect("body");
        (status, body)
    }
}

struct Pods {
    tokens: Vec<String>,
}

async fn world() -> (Emulator, pia_emulator::agent::Agent, Pods) {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let agent = emulator
        .start_agent(AgentConfig {
            // Above this load: the real agent's 1,000 requests per second would answer part of it 429.
            requests_per_second: 1_000_000,
            ..AgentConfig::default()
        })
        .await
        .unwrap();
    for sa in 0..SERVICE_ACCOUNTS {
        associate(&emulator, "load", &format!("sa-{sa}"), ROLE, None, false).await;
    }
    let tokens = (0..PODS)
        .map(|pod| {
            emulator
                .mint_token(&TokenRequest::new(
                    CLUSTER,
                    "load",
                    format!("sa-{}", pod % SERVICE_ACCOUNTS),
                    format!("pod-{pod}"),
                ))
                .unwrap()
        })
        .collect();
    (emulator, agent, Pods { tokens })
}

/// One round: every pod makes its requests, one after the other on a connection of the pool; the pods share
/// `CONNECTIONS` connections. Every answer must be 200 and, for a pod, the same every time; returns how many came.
async fn round(agent: SocketAddr, pods: &Arc<Pods>) -> usize {
    let next = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let next = next.clone();
            let pods = pods.clone();
            tokio::spawn(async move {
                let mut connection = Connection::open(agent).await;
                let mut answered = 0;
                loop {
                    let pod = next.fetch_add(1, Ordering::Relaxed);
                    let Some(token) = pods.tokens.get(pod) else {
                        break;
                    };
                    let mut first: Option<Vec<u8>> = None;
                    for _ in 0..REQUESTS_PER_POD {
                        let (status, body) = connection.credentials(token).await;
                        assert_eq!(status, 200, "pod {pod}: {}", String::from_utf8_lossy(&body));
                        let credentials: Value = serde_json::from_slice(&body).expect("JSON");
                        assert!(credentials["AccessKeyId"].as_str().unwrap().starts_with("ASIA"));
                        match &first {
                            None => first = Some(body),
                            // The pod's credentials, from the cache: the same until they near expiry.
                            Some(first) => assert_eq!(first, &body, "pod {pod}"),
                        }
                        answered += 1;
                    }
                }
                answered
            })
        })
        .collect();
    let mut answered = 0;
    for worker in workers {
        answered += worker.await.expect("worker");
    }
    answered
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_serves_many_pods_at_once_loses_nothing_and_stays_flat() {
    let (emulator, agent, pods) = world().await;
    let pods = Arc::new(pods);
    let address = agent.local_addr();
    const EKS_AUTH: &str = "AssumeRoleForPodIdentity";
    let mut figures: BTreeMap<&str, u64> = BTreeMap::new();

    // Warm-up: the first request of each pod misses the cache.
    emulator.reset_calls();
    let answered = round(address, &pods).await;
    assert_eq!(answered, PODS * REQUESTS_PER_POD);
    assert_eq!(emulator.calls(EKS_AUTH), PODS as u64, "one EKS Auth call per pod");
    assert_eq!(agent.cached_tokens(), PODS);
    let after_warm_up = rss_kib();

    let mut served = answered;
    for _ in 0..LONG_RUN_ROUNDS {
        agent.clear_cache();
        served += round(address, &pods).await;
    }
    let after_long_run = rss_kib();
    let rounds = 1 + LONG_RUN_ROUNDS;
    assert_eq!(served, rounds * PODS * REQUESTS_PER_POD, "every request answered");
    assert_eq!(
        emulator.calls(EKS_AUTH),
        (rounds * PODS) as u64,
        "EKS Auth calls are exactly the cache misses"
    );
    assert_eq!(emulator.pod_identity_grants().len(), rounds * PODS);
    assert_eq!(
        emulator.calls_snapshot().keys().collect::<Vec<_>>(),
        [EKS_AUTH],
        "nothing else was called"
    );
    figures.insert("agent requests served", served as u64);
    figures.insert("EKS Auth calls (cache misses)", emulator.calls(EKS_AUTH));
    figures.insert("RSS after warm-up (KiB)", after_warm_up);
    figures.insert("RSS after long run (KiB)", after_long_run);
    println!(
        "load: {PODS} pods × {REQUESTS_PER_POD} requests × {rounds} rounds over {CONNECTIONS} connections: {figures:?}"
    );
    assert!(
        after_long_run <= after_warm_up + RSS_SLACK_KIB,
        "RSS grew from {after_warm_up} KiB to {after_long_run} KiB over {} requests",
        served - answered
    );
    drop((agent, emulator));
    eks_auth_serves_many_sdk_clients_at_once().await;
}

/// EKS Auth alone, called by many SDK clients at once (after the agent's run, not beside it: the RSS check there
/// must measure that run only).
async fn eks_auth_serves_many_sdk_clients_at_once() {
    let (emulator, _agent, pods) = world().await;
    let pods = Arc::new(pods);
    const CALLS_PER_POD: usize = 5;
    emulator.reset_calls();
    let next = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let next = next.clone();
            let pods = pods.clone();
            let client = eks_auth_client(&emulator);
            tokio::spawn(async move {
                let mut answered = 0usize;
                loop {
                    let pod = next.fetch_add(1, Ordering::Relaxed);
                    let Some(token) = pods.tokens.get(pod) else {
                        break;
                    };
                    for _ in 0..CALLS_PER_POD {
                        let output = client
                            .assume_role_for_pod_identity()
                            .cluster_name(CLUSTER)
                            .token(token)
                            .send()
                            .await
                            .unwrap_or_else(|e| panic!("pod {pod}: {e:?}"));
                        assert_eq!(
                            output.subject().unwrap().service_account(),
                            format!("sa-{}", pod % SERVICE_ACCOUNTS)
                        );
                        answered += 1;
                    }
                }
                answered
            })
        })
        .collect();
    let mut answered = 0;
    for worker in workers {
        answered += worker.await.expect("worker");
    }
    assert_eq!(answered, PODS * CALLS_PER_POD);
    assert_eq!(
        emulator.calls("AssumeRoleForPodIdentity"),
        (PODS * CALLS_PER_POD) as u64,
        "every call counted once"
    );
    let grants = emulator.pod_identity_grants();
    assert_eq!(grants.len(), PODS * CALLS_PER_POD);
    let distinct: std::collections::BTreeSet<&str> = grants.iter().map(|g| g.access_key_id.as_str()).collect();
    assert_eq!(distinct.len(), grants.len(), "every call its own credentials");
    println!("load: EKS Auth answered {answered} AssumeRoleForPodIdentity calls from {CONNECTIONS} clients");
}
