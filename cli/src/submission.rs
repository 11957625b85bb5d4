//! `pia package` and `pia check-bootstrap`: the submission package `cfn submit` would upload, and the check that
//! Lambda's provided.al2023 can load a `bootstrap`, with a warning for a debug build.
//!
//! Exit codes: 0 done (the bootstrap loads); 1 Lambda could not load the bootstrap; 2 bad usage or input (an
//! unreadable file, a malformed type name).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use serde_json::json;

use crate::lambda_binary::{self, LambdaBinary};
use crate::output::Output;
use crate::package::{self, PackageError};
use crate::{EXIT_BAD_INPUT, EXIT_FAILED};

/// Where `cargo zigbuild` puts the release `bootstrap` for provided.al2023 on x86_64.
const RELEASE_BOOTSTRAP: &str = "target/x86_64-unknown-linux-gnu/release/bootstrap";

#[derive(Args)]
pub struct PackageArgs {
    /// The name to register under; `AWS::` is reserved, e.g. Acme::EKS::PodIdentityAssociation.
    #[arg(long)]
    type_name: String,
    /// The `bootstrap` built for provided.al2023 (as `cfn submit`, PIA_BOOTSTRAP names a prebuilt one); refused if
    /// Lambda could not load it (not an x86_64 or arm64 ELF, a glibc newer than 2.34, a library Lambda lacks).
    #[arg(long, env = "PIA_BOOTSTRAP", default_value = RELEASE_BOOTSTRAP)]
    bootstrap: PathBuf,
    /// Where to write the package; defaults to <type-name-hyphenated>.zip.
    #[arg(long, short)]
    output_file: Option<PathBuf>,
    /// How to print the result.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    output: Output,
}

#[derive(Args)]
pub struct CheckBootstrapArgs {
    /// The `bootstrap` to check.
    #[arg(env = "PIA_BOOTSTRAP", default_value = RELEASE_BOOTSTRAP)]
    bootstrap: PathBuf,
    /// How to print the result.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    output: Output,
}

pub fn package(args: PackageArgs) -> ExitCode {
    let built = package::registration_type_name(Some(&args.type_name))
        .and_then(|type_name| package::build(Path::new("."), &type_name, &args.bootstrap).map(|p| (type_name, p)));
    let (type_name, package) = match built {
        Ok(built) => built,
        Err(error) => return failed(&error, &args.bootstrap),
    };
    let output_file = args
        .output_file
        .unwrap_or_else(|| PathBuf::from(format!("{}.zip", package::hyphenated(&type_name))));
    if let Err(error) = std::fs::write(&output_file, &package.zip) {
        eprintln!("error: cannot write {}: {error}", output_file.display());
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    if let Some(warning) = package.bootstrap.warning() {
        eprintln!("warning: {}: {warning}", args.bootstrap.display());
    }
    match args.output {
        Output::Text => println!(
            "{} ({} bytes) for {type_name}: bootstrap for {}, {}; provided.al2023 can load it",
            output_file.display(),
            package.zip.len(),
            package.bootstrap.architecture,
            glibc_text(&package.bootstrap)
        ),
        Output::Json => println!(
            "{:#}",
            json!({
                "Package": output_file.display().to_string(),
                "Bytes": package.zip.len(),
                "TypeName": type_name,
                "Bootstrap": bootstrap_json(&args.bootstrap, &package.bootstrap),
            })
        ),
    }
    ExitCode::SUCCESS
}

pub fn check_bootstrap(args: CheckBootstrapArgs) -> ExitCode {
    let bytes = match std::fs::read(&args.bootstrap) {
        Ok(bytes) => bytes,
        Err(source) => {
            let error = PackageError::Read {
                path: args.bootstrap.display().to_string(),
                source,
            };
            return failed(&error, &args.bootstrap);
        }
    };
    match lambda_binary::check(&bytes) {
        Ok(binary) => {
            if let Some(warning) = binary.warning() {
                eprintln!("warning: {}: {warning}", args.bootstrap.display());
            }
            match args.output {
                Output::Text => println!(
                    "{}: bootstrap for {}, {}; provided.al2023 can load it",
                    args.bootstrap.display(),
                    binary.architecture,
                    glibc_text(&binary)
                ),
                Output::Json => println!("{:#}", bootstrap_json(&args.bootstrap, &binary)),
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            match args.output {
                Output::Text => eprintln!("error: {}: {error}", args.bootstrap.display()),
                Output::Json => println!(
                    "{:#}",
                    json!({"Path": args.bootstrap.display().to_string(), "Loadable": false, "Problem": error.to_string()})
                ),
            }
            ExitCode::from(EXIT_FAILED)
        }
    }
}

/// Prints why, with how to build the bootstrap when it is missing; 1 when Lambda could not load it, else 2.
fn failed(error: &PackageError, bootstrap: &Path) -> ExitCode {
    eprintln!("error: {error}");
    match error {
        PackageError::Read { source, path }
            if source.kind() == std::io::ErrorKind::NotFound && Path::new(path) == bootstrap =>
        {
            eprintln!(
                "  build it first: {} (or name a built one with --bootstrap or PIA_BOOTSTRAP)",
                lambda_binary::RELEASE_BUILD
            );
            ExitCode::from(EXIT_BAD_INPUT)
        }
        PackageError::Bootstrap { .. } => ExitCode::from(EXIT_FAILED),
        _ => ExitCode::from(EXIT_BAD_INPUT),
    }
}

fn glibc_text(binary: &LambdaBinary) -> String {
    binary
        .glibc
        .map_or("static".to_owned(), |version| format!("glibc {version}+"))
}

fn bootstrap_json(path: &Path, binary: &LambdaBinary) -> serde_json::Value {
    json!({
        "Path": path.display().to_string(),
        "Loadable": true,
        "Architecture": binary.architecture,
        "Glibc": binary.glibc.map(|version| version.to_string()),
        "DebugInfo": binary.debug_info,
        "Warning": binary.warning(),
    })
}
