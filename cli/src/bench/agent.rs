//! The agent's credential endpoint under concurrency, against a trivial handler on the same server stack: the
//! emulator's own accept loop (`pia_emulator::serve`, with the agent's connection limits), answering the very bytes
//! the agent answers, so that the ratio is what the agent's work costs (rate limit, Host check, token, cache,
//! metrics), not the size of its answer.

use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use pia_emulator::agent::AgentConfig;
use pia_emulator::tokens::TokenRequest;
use pia_testkit::request;
use serde_json::json;
use tokio::net::TcpStream;

use super::report::Table;
use super::{ROLE, World, percentiles, us};
use crate::CliError;

pub(super) async fn agent(concurrency: usize, requests: usize) -> Result<Table, CliError> {
    let world = World::start().await?;
    world
        .invoke(&request(
            "CREATE",
            json!({"ClusterName": "demo", "Namespace": "load", "ServiceAccount": "app", "RoleArn": ROLE}),
        ))
        .await;
    let config = AgentConfig {
        // The real agent's limit (1,000 per second) would measure the limit; this one is checked but not reached.
        requests_per_second: 1_000_000,
        ..AgentConfig::default()
    };
    let limits = config.connection_limits;
    let agent = world
        .emulator
        .start_agent(config)
        .await
        .map_err(|e| CliError::Start(e.to_string()))?;
    let tokens: Vec<String> = (0..concurrency)
        .map(|pod| {
            world
                .emulator
                .mint_token(&TokenRequest::new("demo", "load", "app", format!("app-{pod}")))
        })
        .collect::<Result<_, _>>()
        .map_err(|e| CliError::Start(e.to_string()))?;
    let address = agent.local_addr();

    // The floor: a handler that sends the agent's answer for one pod, on the same stack, same client, same load.
    let answer = credentials_answer(address, &tokens[0]).await?;
    let trivial = axum::Router::new().route(
        "/v1/credentials",
        axum::routing::get(move || {
            let answer = answer.clone();
            async move { ([(hyper::header::CONTENT_TYPE, "application/json")], answer) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| CliError::Start(e.to_string()))?;
    let floor_address = listener.local_addr().map_err(|e| CliError::Start(e.to_string()))?;
    let (_stop_floor, stop) = tokio::sync::watch::channel(false);
    tokio::spawn(pia_emulator::serve(listener, trivial, limits, stop));

    let mut table = Table::new(
        format!(
            "Pod Identity Agent, warm cache ({requests} requests over {concurrency} connections, {ROUNDS} rounds each, alternating)"
        ),
        &["server", "requests/s (median of rounds)", "p50", "p99", "errors"],
    );
    let targets = [
        ("agent `/v1/credentials`", address),
        ("trivial handler, same stack (floor)", floor_address),
    ];
    // Warm the cache: one fetch per token (a connection each, as `load` gives worker i the token i).
    for (_, target) in targets {
        load(target, &tokens, tokens.len(), tokens.len()).await?;
    }
    world.emulator.reset_calls();
    // Rounds alternate which server goes first, so that neither gains from the machine's warm-up or drift.
    let mut rounds: [Vec<Round>; 2] = [Vec::new(), Vec::new()];
    for round in 0..ROUNDS {
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for index in order {
            let started = Instant::now();
            let (latencies, errors) = load(targets[index].1, &tokens, requests, concurrency).await?;
            rounds[index].push(Round {
                per_second: requests as f64 / started.elapsed().as_secs_f64(),
                latencies,
                errors,
            });
        }
    }
    for (index, (name, _)) in targets.iter().enumerate() {
        let mut latencies: Vec<Duration> = rounds[index].iter().flat_map(|r| r.latencies.iter().copied()).collect();
        let (p50, p99) = percentiles(&mut latencies);
        let errors: usize = rounds[index].iter().map(|r| r.errors).sum();
        table.row([
            (*name).to_owned(),
            format!("{:.0}", median(rounds[index].iter().map(|r| r.per_second).collect())),
            us(p50),
            us(p99),
            errors.to_string(),
        ]);
    }
    let ratios: Vec<f64> = rounds[0]
        .iter()
        .zip(&rounds[1])
        .map(|(agent, floor)| agent.per_second / floor.per_second)
        .collect();
    let (low, high) = ratios.iter().fold((f64::MAX, f64::MIN), |(low, high), ratio| {
        (low.min(*ratio), high.max(*ratio))
    });
    table.note(format!(
        "Agent over floor, per round: {low:.2}–{high:.2}×, median {:.2}×",
        median(ratios.clone())
    ));
    table.note(format!(
        "EKS Auth calls during the measured rounds (cache hits make none): {}",
        world.emulator.calls("AssumeRoleForPodIdentity")
    ));
    Ok(table)
}

/// Rounds per server: an even number, so that each server goes first in as many rounds as the other (with five,
/// the agent went first three times, and the first of a pair measures slower on this machine).
const ROUNDS: usize = 10;

/// One measured round against one server.
struct Round {
    per_second: f64,
    latencies: Vec<Duration>,
    errors: usize,
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or_default()
}

/// The agent's answer to one pod, as bytes.
async fn credentials_answer(target: std::net::SocketAddr, token: &str) -> Result<Bytes, CliError> {
    let failed = |e: String| CliError::Call(format!("agent: {e}"));
    let stream = TcpStream::connect(target).await.map_err(|e| failed(e.to_string()))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| failed(e.to_string()))?;
    tokio::spawn(connection);
    let request = hyper::Request::get("/v1/credentials")
        .header("host", "127.0.0.1")
        .header("authorization", token)
        .body(Empty::<Bytes>::new())
        .map_err(|e| failed(e.to_string()))?;
    let response = sender.send_request(request).await.map_err(|e| failed(e.to_string()))?;
    if !response.status().is_success() {
        return Err(failed(format!("status {}", response.status())));
    }
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| failed(e.to_string()))?;
    Ok(body.to_bytes())
}

/// `requests` GETs of `/v1/credentials` spread over `concurrency` keep-alive connections.
async fn load(
    target: std::net::SocketAddr,
    tokens: &[String],
    requests: usize,
    concurrency: usize,
) -> Result<(Vec<Duration>, usize), CliError> {
    let mut workers = Vec::new();
    for worker in 0..concurrency {
        let token = tokens[worker % tokens.len()].clone();
        let count = requests / concurrency + usize::from(worker < requests % concurrency);
        workers.push(tokio::spawn(async move {
            let stream = TcpStream::connect(target).await.map_err(|e| e.to_string())?;
            let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|e| e.to_string())?;
            tokio::spawn(connection);
            let mut latencies = Vec::with_capacity(count);
            let mut errors = 0;
            for _ in 0..count {
                let request = hyper::Request::get("/v1/credentials")
                    .header("host", "127.0.0.1")
                    .header("authorization", &token)
                    .body(Empty::<Bytes>::new())
                    .map_err(|e| e.to_string())?;
                let started = Instant::now();
                let response = sender.send_request(request).await.map_err(|e| e.to_string())?;
                let ok = response.status().is_success();
                let _ = response.into_body().collect().await;
                latencies.push(started.elapsed());
                errors += usize::from(!ok);
            }
            Ok::<_, String>((latencies, errors))
        }));
    }
    let mut all = Vec::with_capacity(requests);
    let mut errors = 0;
    for worker in workers {
        let (latencies, failed) = worker
            .await
            .map_err(|e| CliError::Call(e.to_string()))?
            .map_err(CliError::Call)?;
        all.extend(latencies);
        errors += failed;
    }
    Ok((all, errors))
}
