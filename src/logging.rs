//! Structured logs. Filter with RUST_LOG (or AWS_LAMBDA_LOG_LEVEL in Lambda); JSON in Lambda, text on a terminal.
//! Request payloads, credentials and tokens are never logged by this crate.

use tracing_subscriber::EnvFilter;

/// Where the logs go and how much of them, unless RUST_LOG says otherwise.
pub enum LogStyle {
    /// The Lambda: JSON lines for CloudWatch, `info` by default (or AWS_LAMBDA_LOG_LEVEL).
    Lambda,
    /// The CLI: compact text on stderr, warnings only, so that command output stays readable.
    Terminal,
}

pub fn init(style: LogStyle) {
    let default_level = match style {
        LogStyle::Lambda => std::env::var("AWS_LAMBDA_LOG_LEVEL").map(|level| level.to_lowercase()).unwrap_or_else(|_| "info".into()),
        LogStyle::Terminal => "warn".into(),
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match style {
        LogStyle::Lambda => builder.json().without_time().try_init(),
        LogStyle::Terminal => builder.compact().try_init(),
    };
}
