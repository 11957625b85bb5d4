//! Structured logs. Filter with RUST_LOG (or AWS_LAMBDA_LOG_LEVEL in Lambda); JSON in Lambda, text on a terminal.
//! Request payloads, credentials and tokens are never logged by this crate.

use tracing_subscriber::EnvFilter;

pub fn init(json: bool) {
    let default_level = std::env::var("AWS_LAMBDA_LOG_LEVEL").map(|level| level.to_lowercase()).unwrap_or_else(|_| "info".into());
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if json { builder.json().without_time().try_init() } else { builder.compact().try_init() };
}
