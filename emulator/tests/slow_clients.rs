//! Slow and idle clients cannot take the emulator's listeners: 200 connections dribbling request heads a byte at a
//! time on the API port and on the agent's port, while a pod still gets credentials through the real SDK's container
//! credentials provider; with short limits, slow heads and idle connections are closed, and the connection cap
//! queues connections rather than refusing them. Outcomes only: every wait has a generous bound, no timing is
//! asserted.

mod pod_identity_support;

use std::net::SocketAddr;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_credential_types::provider::ProvideCredentials;
use aws_types::os_shim_internal::Env;
use pia_emulator::agent::{Agent, AgentConfig};
use pia_emulator::tokens::TokenRequest;
use pia_emulator::{ConnectionLimits, Emulator, EmulatorConfig};
use pod_identity_support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

const SLOW_CLIENTS: usize = 200;
const BOUND: Duration = Duration::from_secs(60);

/// Opens `count` connections to `addr` that send a request head one byte every `pace`, until `stop`; each one that
/// the server closes is opened again. Returns how many closes were seen.
fn slowloris(
    addr: SocketAddr,
    count: usize,
    pace: Duration,
    stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<usize> {
    tokio::spawn(async move {
        let clients: Vec<_> = (0..count)
            .map(|_| {
                let mut stop = stop.clone();
                tokio::spawn(async move {
                    let head = format!(
                        "GET /v1/credentials HTTP/1.1\r\nHost: {addr}\r\nX-Slow: {}\r\n",
                        "a".repeat(4096)
                    );
                    let mut closed = 0usize;
                    while !*stop.borrow() {
                        let Ok(mut stream) = TcpStream::connect(addr).await else {
                            tokio::time::sleep(pace).await;
                            continue;
                        };
                        for byte in head.as_bytes() {
                            tokio::select! {
                                _ = tokio::time::sleep(pace) => {}
                                _ = stop.wait_for(|stop| *stop) => return closed,
                            }
                            if stream.write_all(&[*byte]).await.is_err() {
                                closed += 1;
                                break;
                            }
                        }
                    }
                    closed
                })
            })
            .collect();
        let mut closed = 0;
        for client in clients {
            closed += client.await.unwrap_or(0);
        }
        closed
    })
}

async fn pod_gets_credentials(emulator: &Emulator, agent: &Agent, pod: &str) -> String {
    let token_file = temp_path("slowloris-token");
    emulator
        .write_token_file(&TokenRequest::new(CLUSTER, "ns", "sa", pod), &token_file)
        .unwrap();
    let missing = temp_path("no-such-file");
    let missing = missing.to_str().unwrap();
    let uri = agent.credentials_uri();
    let env = Env::from_slice(&[
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri.as_str()),
        ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token_file.to_str().unwrap()),
        ("AWS_CONFIG_FILE", missing),
        ("AWS_SHARED_CREDENTIALS_FILE", missing),
    ]);
    let config = aws_config::defaults(BehaviorVersion::latest())
        .env(env)
        .region("us-east-1")
        .load()
        .await;
    let credentials = tokio::time::timeout(BOUND, config.credentials_provider().unwrap().provide_credentials())
        .await
        .expect("an answer within the bound")
        .expect("credentials while slow clients hold connections");
    std::fs::remove_file(&token_file).ok();
    credentials.access_key_id().to_owned()
}

async fn world(limits: ConnectionLimits) -> (Emulator, Agent) {
    let emulator = Emulator::start(EmulatorConfig {
        connection_limits: limits,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let agent = emulator
        .start_agent(AgentConfig {
            connection_limits: limits,
            ..AgentConfig::default()
        })
        .await
        .unwrap();
    associate(&emulator, "ns", "sa", ROLE, None, false).await;
    (emulator, agent)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_default_limits_200_slow_clients_per_port_do_not_stop_a_pod() {
    let (emulator, agent) = world(ConnectionLimits::default()).await;
    let (stop, stopped) = watch::channel(false);
    let pace = Duration::from_millis(200);
    let on_api = slowloris(emulator.local_addr(), SLOW_CLIENTS, pace, stopped.clone());
    let on_agent = slowloris(agent.local_addr(), SLOW_CLIENTS, pace, stopped);
    // Let them connect and start dribbling.
    tokio::time::sleep(Duration::from_secs(2)).await;
    for pod in ["p1", "p2", "p3"] {
        assert!(pod_gets_credentials(&emulator, &agent, pod).await.starts_with("ASIA"));
    }
    stop.send_replace(true);
    on_api.await.unwrap();
    on_agent.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_heads_are_cut_off_and_pods_still_get_credentials() {
    let limits = ConnectionLimits {
        header_read_timeout_seconds: 0.5,
        idle_timeout_seconds: 1.0,
        max_connections: 256,
    };
    let (emulator, agent) = world(limits).await;
    let (stop, stopped) = watch::channel(false);
    // Slow clients within the cap: the header timeout closes the connections they hold. (Past the cap, new
    // connections wait in the kernel's backlog for a free slot, which slow clients reconnecting may take first.)
    let pace = Duration::from_millis(100);
    let on_api = slowloris(emulator.local_addr(), SLOW_CLIENTS, pace, stopped.clone());
    let on_agent = slowloris(agent.local_addr(), SLOW_CLIENTS, pace, stopped);
    tokio::time::sleep(Duration::from_secs(2)).await;
    for pod in ["p1", "p2"] {
        assert!(pod_gets_credentials(&emulator, &agent, pod).await.starts_with("ASIA"));
    }
    stop.send_replace(true);
    assert!(on_api.await.unwrap() > 0, "slow heads were closed on the API port");
    assert!(
        on_agent.await.unwrap() > 0,
        "slow heads were closed on the agent's port"
    );
}

#[tokio::test]
async fn an_idle_connection_is_closed_and_a_busy_one_is_not() {
    let limits = ConnectionLimits {
        header_read_timeout_seconds: 0.5,
        idle_timeout_seconds: 0.5,
        max_connections: 8,
    };
    let (emulator, agent) = world(limits).await;
    // Connected, nothing sent: closed by the server.
    let mut idle = TcpStream::connect(agent.local_addr()).await.unwrap();
    let mut buffer = [0u8; 16];
    let read = tokio::time::timeout(BOUND, idle.read(&mut buffer))
        .await
        .expect("closed within the bound");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");

    // A request whose EKS Auth call outlasts both timeouts still gets its answer.
    emulator.inject(
        "AssumeRoleForPodIdentity",
        pia_emulator::Fault::Latency(Duration::from_secs(2)),
        1,
    );
    let token = token(&emulator, "ns", "sa", "slow");
    let (status, _, body) = tokio::time::timeout(
        BOUND,
        http(
            agent.local_addr(),
            "GET",
            "/v1/credentials",
            &[("Authorization", &token)],
            "",
        ),
    )
    .await
    .expect("an answer within the bound");
    assert_eq!(status, 200, "{body}");
}
