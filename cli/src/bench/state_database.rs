//! The state database: EKS Auth's AssumeRoleForPodIdentity (one session row committed per call) with 100
//! and with 100,000 sessions saved, side by side. A write costs its own rows, not the world's size.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use pia_emulator::tokens::TokenRequest;
use pia_emulator::{Emulator, EmulatorConfig};

use super::report::Table;
use super::{ROLE, ms, percentiles};
use crate::CliError;

/// The session counts compared.
const SESSIONS: [usize; 2] = [100, 100_000];

pub(super) async fn state_database(iterations: usize) -> Result<Table, CliError> {
    let mut rows = Vec::new();
    for sessions in SESSIONS {
        rows.push(measure(sessions, iterations).await?);
    }
    let (small_count, large_count) = (format!("{} sessions", SESSIONS[0]), format!("{} sessions", SESSIONS[1]));
    let mut table = Table::new(
        "State database (`state_file`): EKS Auth with many sessions saved",
        &["measurement", &small_count, &large_count],
    );
    let [small, large] = [&rows[0], &rows[1]];
    table.row([
        format!("AssumeRoleForPodIdentity p50 ({iterations} calls)"),
        ms(small.p50),
        ms(large.p50),
    ]);
    table.row(["AssumeRoleForPodIdentity p99".to_owned(), ms(small.p99), ms(large.p99)]);
    table.row([
        "seeding the sessions (one transaction)".to_owned(),
        ms(small.seed),
        ms(large.seed),
    ]);
    table.row([
        "restart on the database".to_owned(),
        ms(small.restart),
        ms(large.restart),
    ]);
    Ok(table)
}

struct Measured {
    p50: Duration,
    p99: Duration,
    seed: Duration,
    restart: Duration,
}

/// A directory of its own, removed afterwards.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn measure(sessions: usize, iterations: usize) -> Result<Measured, CliError> {
    let scratch = Scratch(std::env::temp_dir().join(format!("pia-bench-state-{}-{sessions}", std::process::id())));
    std::fs::create_dir_all(&scratch.0).map_err(|e| CliError::Start(e.to_string()))?;
    let config = EmulatorConfig {
        state_file: Some(scratch.0.join("world.db")),
        ..EmulatorConfig::default()
    };
    let emulator = start(config.clone()).await?;
    let started = Instant::now();
    emulator.seed_sessions(ROLE, sessions);
    let seed = started.elapsed();
    emulator.shutdown();
    drop(emulator);

    let started = Instant::now();
    let emulator = start(config).await?;
    let restart = started.elapsed();
    aws_sdk_eks::Client::new(&emulator.sdk_config())
        .create_pod_identity_association()
        .cluster_name("demo")
        .namespace("bench")
        .service_account("app")
        .role_arn(ROLE)
        .send()
        .await
        .map_err(|e| CliError::Call(e.to_string()))?;
    let token = emulator
        .mint_token(&TokenRequest::new("demo", "bench", "app", "app-0"))
        .map_err(|e| CliError::Start(e.to_string()))?;
    let eks_auth = aws_sdk_eksauth::Client::new(&pia_emulator::clients::sdk_config(
        &emulator.endpoint(),
        pia_emulator::clients::node_credentials(),
    ));
    let mut latencies = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let started = Instant::now();
        eks_auth
            .assume_role_for_pod_identity()
            .cluster_name("demo")
            .token(&token)
            .send()
            .await
            .map_err(|e| CliError::Call(e.to_string()))?;
        latencies.push(started.elapsed());
    }
    emulator.shutdown();
    let (p50, p99) = percentiles(&mut latencies);
    Ok(Measured {
        p50,
        p99,
        seed,
        restart,
    })
}

async fn start(config: EmulatorConfig) -> Result<Emulator, CliError> {
    Emulator::start(config)
        .await
        .map_err(|e| CliError::Start(e.to_string()))
}
