//! Structured logs. Filter with RUST_LOG (or AWS_LAMBDA_LOG_LEVEL in Lambda); JSON in Lambda, text on a terminal.
//! Request payloads, credentials and tokens are never logged by this crate.

use tracing_subscriber::EnvFilter;

/// Where the logs go and how much of them, unless RUST_LOG says otherwise.
pub enum LogStyle {
    /// The Lambda: JSON lines for CloudWatch, `info` by default (or AWS_LAMBDA_LOG_LEVEL).
    Lambda,
    /// The CLI: compact text on stderr, in colour only on a terminal and never with NO_COLOR; warnings only, so
    /// that command output stays readable, unless `verbosity` asks for more (1 info, 2 debug, 3 or more trace).
    Terminal { verbosity: u8 },
}

/// Crates whose verbose events may carry credentials or tokens.
const SDK_TARGETS: &[&str] = &[
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_http_client",
    "aws_sigv4",
    "aws_config",
    "aws_credential_types",
    "aws_runtime",
    "aws_sdk_eks",
    "hyper",
    "hyper_util",
    "lambda_runtime",
    "lambda_runtime_api_client",
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
    // The AWS SDK's debug and trace events print the caller's identity (access key id) and request details: they
    // stay off whatever level is asked for, so that no credential can reach a log line.
    for target in SDK_TARGETS {
        if let Ok(directive) = format!("{target}=info").parse() {
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
