//! The `pia` command: run the demo, invoke handlers, serve the Lambda Invoke API locally, run the emulator, work
//! with trust policies, package and register the type, benchmark. Everything here is for people and tests; the
//! Lambda itself (`pia-provider`) depends on none of it.

mod bench;
mod cause;
mod demo;
mod emulator;
mod http_client;
mod invoke;
mod invoke_server;
pub mod lambda_binary;
mod output;
pub mod package;
mod pod;
mod progress;
pub mod registration;
pub mod stack;
mod style;
mod submission;
mod trust;
mod whoami;

use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use thiserror::Error;

use pia_provider::{Provider, eks_client};

#[derive(Parser)]
#[command(
    name = "pia",
    version,
    about = "CloudFormation resource provider for AWS::EKS::PodIdentityAssociation"
)]
struct Cli {
    /// More log lines on stderr: -v info (the emulator: one line per request), -vv debug, -vvv trace. RUST_LOG
    /// overrides it; credentials and tokens are never logged at any level.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create, read, update, list and delete an association through the handlers, against the built-in emulator.
    Demo,
    /// Measure cold start, memory, warm latency, EKS calls per action, agent throughput and scale (README figures).
    Bench(bench::BenchArgs),
    /// Print the identity the standard AWS credential chain yields here (in a pod: the pod identity), via STS.
    Whoami {
        /// How to print the identity: its ARN, or JSON with Account, Arn and UserId.
        #[arg(long, value_enum, default_value_t = output::Output::Text)]
        output: output::Output,
    },
    /// Send one handler request (HandlerRequest JSON, from a file or stdin) and print the ProgressEvent.
    ///
    /// EKS is called with the request's callerCredentials only; a request without them is answered FAILED
    /// InvalidCredentials, as in Lambda (this process's own credentials are never used). Exits 0 on SUCCESS (or
    /// IN_PROGRESS without --follow), 1 on FAILED, 2 when the request cannot be read.
    Invoke(invoke::InvokeArgs),
    /// Serve the Lambda Invoke API (POST /2015-03-31/functions/{name}/invocations) for `cfn test` or boto3.
    ///
    /// Like Lambda, it calls EKS with each request's callerCredentials only.
    Serve {
        #[arg(long, default_value_t = 3001)]
        port: u16,
        /// EKS endpoint to call instead of AWS (the standard AWS_ENDPOINT_URL_EKS is honoured too).
        #[arg(long, env = "PIA_EKS_ENDPOINT")]
        endpoint_url: Option<String>,
    },
    /// Build the submission package (schema.json, .rpdk-config, inputs/, handler.zip) for a private registration.
    Package(submission::PackageArgs),
    /// Check that Lambda's provided.al2023 can load a `bootstrap` (architecture, glibc, libraries; debug build).
    ///
    /// Exits 0 when it can, 1 when it cannot, 2 when the file cannot be read.
    CheckBootstrap(submission::CheckBootstrapArgs),
    /// Register the type privately (RegisterType, wait for DescribeTypeRegistration, SetTypeDefaultVersion).
    Register {
        /// The name to register under; `AWS::` is reserved, e.g. Acme::EKS::PodIdentityAssociation.
        #[arg(long)]
        type_name: String,
        /// The uploaded package (`pia package`, then e.g. `aws s3 cp`): s3://bucket/key.
        #[arg(long)]
        package_url: String,
        /// The role CloudFormation assumes to run the handlers (see the schema's handler permissions).
        #[arg(long)]
        execution_role_arn: Option<String>,
        #[arg(long, requires = "log_role_arn")]
        log_group_name: Option<String>,
        #[arg(long, requires = "log_group_name")]
        log_role_arn: Option<String>,
        /// Keep the current default version.
        #[arg(long)]
        no_set_default: bool,
        /// CloudFormation endpoint to call instead of AWS (AWS_ENDPOINT_URL_CLOUDFORMATION is honoured too).
        #[arg(long)]
        endpoint_url: Option<String>,
        /// Seconds between DescribeTypeRegistration calls.
        #[arg(long, default_value_t = 5)]
        poll_seconds: u64,
        /// How to print the result: text, or JSON with TypeArn, TypeVersionArn and IsDefaultVersion.
        #[arg(long, value_enum, default_value_t = output::Output::Text)]
        output: output::Output,
    },
    /// Run the emulated EKS Pod Identity world (EKS, EKS Auth, IAM, STS, agent, webhook) on 127.0.0.1 until interrupted.
    Emulator(emulator::EmulatorArgs),
    /// Pods of the running emulator on demand (`pia pod exec NAMESPACE/SERVICE_ACCOUNT -- COMMAND`).
    #[command(subcommand)]
    Pod(pod::PodCommand),
    /// IAM trust policies for pod identity: generate, check (with plain-words fixes), create the role.
    #[command(subcommand)]
    Trust(trust::TrustCommand),
    /// Print a completion script for a shell, e.g. `pia completions bash > ~/.local/share/bash-completion/completions/pia`.
    Completions { shell: clap_complete::Shell },
    /// CloudFormation stacks: deploy a template, delete, detect drift, watching the events live (emulator or AWS).
    #[command(subcommand)]
    Stack(stack::StackCommand),
}

#[derive(Debug, Error)]
pub enum CliError {
    #[error("cannot read {what}: {source}")]
    Read { what: String, source: std::io::Error },
    #[error("{0}")]
    Config(String),
    #[error("cannot start: {0}")]
    Start(String),
    #[error("{0}")]
    Demo(String),
    #[error("{0}")]
    Call(String),
}

pub fn main() -> ExitCode {
    // A closed pipe (`pia … | head -1`) ends the process quietly, as it ends `cat`, instead of a panic at the next
    // print. Sockets are unaffected: the standard library sends on them with MSG_NOSIGNAL.
    sigpipe::reset();
    let cli = Cli::parse();
    pia_provider::logging::init(pia_provider::logging::LogStyle::Terminal { verbosity: cli.verbose });
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}

/// Exit codes every subcommand shares: done, failed, bad usage or input (clap's own code for usage errors).
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_BAD_INPUT: u8 = 2;

impl CliError {
    /// What the user gave is wrong (2), or what was asked could not be done (1).
    fn exit_code(&self) -> u8 {
        match self {
            Self::Read { .. } | Self::Config(_) => EXIT_BAD_INPUT,
            Self::Start(_) | Self::Demo(_) | Self::Call(_) => EXIT_FAILED,
        }
    }
}

async fn run(command: Command) -> Result<ExitCode, CliError> {
    match command {
        Command::Demo => demo::run().await,
        Command::Whoami { output } => whoami::run(output).await,
        Command::Bench(args) => bench::run(args).await,
        Command::Invoke(args) => invoke::run(args).await,
        Command::Serve { port, endpoint_url } => {
            let provider = Provider::new(eks_client::base_config_for(endpoint_url).await);
            let (address, serve) = invoke_server::bind(provider, SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
                .await
                .map_err(|e| CliError::Start(e.to_string()))?;
            println!("Lambda Invoke API on http://{address} (any function name)");
            tokio::select! {
                served = serve => served.map_err(|e| CliError::Start(e.to_string()))?,
                _ = tokio::signal::ctrl_c() => {}
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Package(args) => Ok(submission::package(args)),
        Command::CheckBootstrap(args) => Ok(submission::check_bootstrap(args)),
        Command::Register {
            type_name,
            package_url,
            execution_role_arn,
            log_group_name,
            log_role_arn,
            no_set_default,
            endpoint_url,
            poll_seconds,
            output,
        } => {
            let type_name = crate::package::registration_type_name(Some(&type_name))
                .map_err(|e| CliError::Config(e.to_string()))?;
            let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
            if let Some(url) = endpoint_url {
                loader = loader.endpoint_url(url);
            }
            let client = aws_sdk_cloudformation::Client::new(&loader.load().await);
            let registration = crate::registration::Registration {
                type_name,
                package_url,
                execution_role_arn,
                log_group_name,
                log_role_arn,
                set_default: !no_set_default,
            };
            let polling = crate::registration::Polling {
                interval: std::time::Duration::from_secs(poll_seconds),
                ..Default::default()
            };
            let registered = crate::registration::register(&client, &registration, polling)
                .await
                .map_err(|e| CliError::Config(e.to_string()))?;
            match output {
                output::Output::Text => {
                    println!("registered {}", registered.type_version_arn);
                    if registered.is_default {
                        println!("default version set");
                    }
                }
                output::Output::Json => println!(
                    "{:#}",
                    serde_json::json!({
                        "TypeArn": registered.type_arn,
                        "TypeVersionArn": registered.type_version_arn,
                        "IsDefaultVersion": registered.is_default,
                    })
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Emulator(args) => emulator::run(args).await,
        Command::Pod(command) => pod::run(command).await,
        Command::Trust(command) => Ok(trust::run(command).await),
        Command::Stack(command) => Ok(stack::run(command).await),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "pia",
                &mut std::io::stdout(),
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn read_input(file: Option<&std::path::Path>) -> Result<Vec<u8>, CliError> {
    match file {
        Some(path) if path.as_os_str() != "-" => std::fs::read(path).map_err(|source| CliError::Read {
            what: path.display().to_string(),
            source,
        }),
        _ => {
            let mut buffer = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buffer)
                .map_err(|source| CliError::Read {
                    what: "standard input".into(),
                    source,
                })?;
            Ok(buffer)
        }
    }
}
