//! The submission package `cfn submit` would upload: schema.json, .rpdk-config, inputs/ and handler.zip (the
//! Lambda code: `bootstrap`), renamed consistently when the type is registered privately under another name.

use std::io::{Cursor, Write};
use std::path::Path;

use serde_json::Value;
use thiserror::Error;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::lambda_binary::{self, LambdaBinary};
use pia_provider::schema::RESOURCE_SCHEMA;

/// Namespaces CloudFormation keeps for itself: a private registration must choose another first segment.
const RESERVED_NAMESPACES: &[&str] = &["AWS", "Alexa", "AMZN", "Amazon", "ASK", "Custom", "Dev"];

#[derive(Debug, Error)]
pub enum PackageError {
    #[error("type name {0:?} is not of the form Organization::Service::Resource (2–64 letters or digits each)")]
    BadTypeName(String),
    #[error(
        "the {namespace}:: namespace is reserved; register privately under your own, e.g. --type-name Acme::EKS::PodIdentityAssociation"
    )]
    ReservedNamespace { namespace: String },
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path} is not valid JSON: {source}")]
    Json { path: String, source: serde_json::Error },
    #[error("{path}: {source}")]
    Bootstrap {
        path: String,
        source: crate::lambda_binary::LambdaBinaryError,
    },
    #[error("cannot write the package: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("cannot write the package: {0}")]
    Write(#[from] std::io::Error),
}

/// The name to register under: `requested`, or the schema's own, checked as the registry checks it.
pub fn registration_type_name(requested: Option<&str>) -> Result<String, PackageError> {
    let schema: Value = serde_json::from_str(RESOURCE_SCHEMA).map_err(|source| PackageError::Json {
        path: "schema".into(),
        source,
    })?;
    let name = requested.or(schema["typeName"].as_str()).unwrap_or_default();
    let segments: Vec<&str> = name.split("::").collect();
    let well_formed = segments.len() == 3
        && segments
            .iter()
            .all(|s| (2..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()));
    if !well_formed {
        return Err(PackageError::BadTypeName(name.to_owned()));
    }
    if let Some(namespace) = RESERVED_NAMESPACES
        .iter()
        .find(|ns| segments[0].eq_ignore_ascii_case(ns))
    {
        return Err(PackageError::ReservedNamespace {
            namespace: (*namespace).to_owned(),
        });
    }
    Ok(name.to_owned())
}

/// `Acme::EKS::PodIdentityAssociation` → `acme-eks-podidentityassociation`, the CLI's file naming.
pub fn hyphenated(type_name: &str) -> String {
    type_name
        .split("::")
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join("-")
}

/// A submission package, and what its `bootstrap` needs from Lambda.
#[derive(Debug)]
pub struct Package {
    pub zip: Vec<u8>,
    pub bootstrap: LambdaBinary,
}

/// Builds the package for `type_name` from the project at `root` and a built `bootstrap`.
pub fn build(root: &Path, type_name: &str, bootstrap: &Path) -> Result<Package, PackageError> {
    let mut schema: Value = serde_json::from_str(RESOURCE_SCHEMA).map_err(|source| PackageError::Json {
        path: "schema".into(),
        source,
    })?;
    schema["typeName"] = Value::String(type_name.to_owned());
    let mut settings: Value = read_json(&root.join(".rpdk-config"))?;
    settings["typeName"] = Value::String(type_name.to_owned());

    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    let mut package = ZipWriter::new(Cursor::new(Vec::new()));
    package.start_file("schema.json", options)?;
    package.write_all(serde_json::to_string_pretty(&schema).unwrap_or_default().as_bytes())?;
    package.start_file(".rpdk-config", options)?;
    package.write_all(serde_json::to_string_pretty(&settings).unwrap_or_default().as_bytes())?;

    let mut inputs: Vec<_> = std::fs::read_dir(root.join("inputs"))
        .map_err(|source| PackageError::Read {
            path: "inputs/".into(),
            source,
        })?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    inputs.sort();
    for input in inputs {
        let text = read(&input)?;
        let name = input.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        package.start_file(format!("inputs/{name}"), options)?;
        package.write_all(&text)?;
    }

    package.start_file("handler.zip", options.compression_method(CompressionMethod::Stored))?;
    let bootstrap_bytes = read(bootstrap)?;
    let binary = lambda_binary::check(&bootstrap_bytes).map_err(|source| PackageError::Bootstrap {
        path: bootstrap.display().to_string(),
        source,
    })?;
    package.write_all(&handler_zip(&bootstrap_bytes)?)?;
    package.start_file(".cfn_metadata.json", options)?;
    package.write_all(br#"{"plugin-name": "rust", "plugin-tool-version": "0.1.0"}"#)?;
    Ok(Package {
        zip: package.finish()?.into_inner(),
        bootstrap: binary,
    })
}

/// The Lambda code package: `bootstrap` at the root, executable.
fn handler_zip(bootstrap: &[u8]) -> Result<Vec<u8>, PackageError> {
    let mut handler = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .unix_permissions(0o755);
    handler.start_file("bootstrap", options)?;
    handler.write_all(bootstrap)?;
    Ok(handler.finish()?.into_inner())
}

fn read(path: &Path) -> Result<Vec<u8>, PackageError> {
    std::fs::read(path).map_err(|source| PackageError::Read {
        path: path.display().to_string(),
        source,
    })
}

fn read_json(path: &Path) -> Result<Value, PackageError> {
    serde_json::from_slice(&read(path)?).map_err(|source| PackageError::Json {
        path: path.display().to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_and_malformed_names_are_refused() {
        assert!(matches!(
            registration_type_name(None),
            Err(PackageError::ReservedNamespace { .. })
        ));
        assert!(matches!(
            registration_type_name(Some("custom::EKS::X1")),
            Err(PackageError::ReservedNamespace { .. })
        ));
        assert!(matches!(
            registration_type_name(Some("Acme::EKS")),
            Err(PackageError::BadTypeName(_))
        ));
        assert!(matches!(
            registration_type_name(Some("Acme::E::Thing")),
            Err(PackageError::BadTypeName(_))
        ));
        assert!(matches!(
            registration_type_name(Some("Acme::EKS::Pod-Identity")),
            Err(PackageError::BadTypeName(_))
        ));
        assert_eq!(
            registration_type_name(Some("Acme::EKS::PodIdentityAssociation")).unwrap(),
            "Acme::EKS::PodIdentityAssociation"
        );
        assert_eq!(
            hyphenated("Acme::EKS::PodIdentityAssociation"),
            "acme-eks-podidentityassociation"
        );
    }
}
