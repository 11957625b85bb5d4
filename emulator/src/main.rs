//! Standalone emulator: `pia-emulator [--config FILE.json] [--port N]`.
//!
//! Prints the endpoint on stdout and serves until interrupted. The config file is an
//! [`pia_emulator::EmulatorConfig`] in JSON; every field is optional. Logs go to stderr, filtered by
//! `RUST_LOG` (e.g. `RUST_LOG=pia_emulator=debug`).

use std::process::ExitCode;

use pia_emulator::{Emulator, EmulatorConfig};

fn usage() -> ExitCode {
    eprintln!("usage: pia-emulator [--config FILE.json] [--port N]");
    ExitCode::from(2)
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let mut config = EmulatorConfig::default();
    let mut port = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--config" => {
                let Some(path) = args.next() else {
                    return usage();
                };
                let loaded = std::fs::read_to_string(&path)
                    .map_err(|e| e.to_string())
                    .and_then(|text| {
                        serde_json::from_str::<EmulatorConfig>(&text).map_err(|e| e.to_string())
                    });
                match loaded {
                    Ok(loaded) => config = loaded,
                    Err(error) => {
                        eprintln!("pia-emulator: cannot read config {path}: {error}");
                        return ExitCode::FAILURE;
                    }
                }
            }
            "--port" => match args.next().and_then(|p| p.parse::<u16>().ok()) {
                Some(p) => port = Some(p),
                None => return usage(),
            },
            "-h" | "--help" => {
                usage();
                return ExitCode::SUCCESS;
            }
            _ => return usage(),
        }
    }
    if let Some(port) = port {
        config.port = port;
    }
    let emulator = match Emulator::start(config).await {
        Ok(emulator) => emulator,
        Err(error) => {
            eprintln!("pia-emulator: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", emulator.endpoint());
    if let Err(error) = tokio::signal::ctrl_c().await {
        eprintln!("pia-emulator: cannot wait for Ctrl-C: {error}");
    }
    emulator.shutdown();
    ExitCode::SUCCESS
}
