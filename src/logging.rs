//! Structured logs. Filter with RUST_LOG (or AWS_LAMBDA_LOG_LEVEL in Lambda); JSON in Lambda, text on a terminal.
//! Request payloads, credentials and tokens are never logged by this crate.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;

/// Where the logs go and how much of them, unless RUST_LOG says otherwise.
pub enum LogStyle {
    /// The Lambda: JSON lines for CloudWatch, `info` by default (or AWS_LAMBDA_LOG_LEVEL).
    Lambda,
    /// The CLI: compact text on stderr, in colour only on a terminal and never with NO_COLOR; warnings only, so
    /// that command output stays readable, unless `verbosity` asks for more (1 info, 2 debug, 3 or more trace).
    Terminal { verbosity: u8 },
}

/// Crates whose verbose events may carry credentials or tokens, and the most each may log. aws-config's info events
/// print the credentials it loads from a profile (their access key id); the others' begin at debug.
const SDK_TARGETS: &[(&str, LevelFilter)] = &[
    ("aws_smithy_runtime", LevelFilter::INFO),
    ("aws_smithy_runtime_api", LevelFilter::INFO),
    ("aws_smithy_http_client", LevelFilter::INFO),
    ("aws_sigv4", LevelFilter::INFO),
    ("aws_config", LevelFilter::WARN),
    ("aws_credential_types", LevelFilter::INFO),
    ("aws_runtime", LevelFilter::INFO),
    ("aws_sdk_eks", LevelFilter::INFO),
    ("hyper", LevelFilter::INFO),
    ("hyper_util", LevelFilter::INFO),
    ("lambda_runtime", LevelFilter::INFO),
    ("lambda_runtime_api_client", LevelFilter::INFO),
];

pub fn init(style: LogStyle) {
    let default_level = match style {
        LogStyle::Lambda => std::env::var("AWS_LAMBDA_LOG_LEVEL")
            .map(|level| level.to_lowercase())
            .unwrap_or_else(|_| "info".into()),
        LogStyle::Terminal { verbosity } => match verbosity {
            0 => "warn",
            1 => "info",
            2 => "debug",
            _ => "trace",
        }
        .into(),
    };
    let mut filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    // The AWS SDK's verbose events print the caller's identity (access key id) and request details: they stay off
    // whatever level is asked for, so that no credential can reach a log line. A cap never raises a crate above the
    // level asked for (the CLI's default, warn, stays warn).
    let asked = filter.max_level_hint().unwrap_or(LevelFilter::TRACE);
    for (target, most) in SDK_TARGETS {
        if let Ok(directive) = format!("{target}={}", asked.min(*most)).parse() {
            filter = filter.add_directive(directive);
        }
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match style {
        LogStyle::Lambda => builder.json().without_time().try_init(),
        LogStyle::Terminal { .. } => builder.compact().with_ansi(colour_on_stderr()).try_init(),
    };
}

/// Colour escapes only for a person at a terminal (https://no-color.org).
fn colour_on_stderr() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty()) && std::io::stderr().is_terminal()
}
