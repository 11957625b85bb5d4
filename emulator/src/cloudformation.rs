//! The emulated CloudFormation registry (query protocol, API version 2010-05-15), the three calls a private
//! registration makes: RegisterType, DescribeTypeRegistration and SetTypeDefaultVersion.
//!
//! A registration reports IN_PROGRESS on its first DescribeTypeRegistration, as the real registry does for
//! minutes, then COMPLETE, so that a client's wait loop is exercised. The package itself is not fetched.

use std::collections::BTreeMap;

use crate::Shared;
use crate::dispatch::RequestContext;
use crate::query::{Params, QueryError, Xml};
use crate::state::new_uuid;

/// Namespaces CloudFormation keeps for itself.
const RESERVED_NAMESPACES: &[&str] = &["AWS", "Alexa", "AMZN", "Amazon", "ASK", "Custom", "Dev"];

#[derive(Debug, Default)]
pub struct Registry {
    registrations: BTreeMap<String, Registration>,
    /// Type ARN → its versions (oldest first) and the default one.
    types: BTreeMap<String, TypeRecord>,
}

#[derive(Debug)]
struct Registration {
    type_arn: String,
    type_version_arn: String,
    /// DescribeTypeRegistration calls still answered IN_PROGRESS.
    pending_polls: u32,
}

#[derive(Debug, Default)]
struct TypeRecord {
    versions: Vec<String>,
    default_version: Option<String>,
}

pub(crate) fn handle(
    shared: &Shared,
    action: &str,
    params: &Params,
    context: &RequestContext,
) -> Result<Option<String>, QueryError> {
    let mut state = shared.state();
    let registry = &mut state.cloudformation;
    match action {
        "RegisterType" => register_type(registry, params, context),
        "DescribeTypeRegistration" => describe_type_registration(registry, params),
        "SetTypeDefaultVersion" => set_type_default_version(registry, params),
        _ => Err(QueryError::new(
            400,
            "InvalidAction",
            format!("Could not find operation {action} for version 2010-05-15"),
        )),
    }
}

fn register_type(
    registry: &mut Registry,
    params: &Params,
    context: &RequestContext,
) -> Result<Option<String>, QueryError> {
    let kind = params.get("Type").unwrap_or("RESOURCE");
    if kind != "RESOURCE" {
        return Err(QueryError::validation(
            Some(kind),
            "type",
            "this emulator registers RESOURCE types only",
        ));
    }
    let type_name = required(params, "TypeName")?;
    let segments: Vec<&str> = type_name.split("::").collect();
    let well_formed = segments.len() == 3
        && segments
            .iter()
            .all(|s| (2..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()));
    if !well_formed {
        return Err(QueryError::validation(
            Some(type_name),
            "typeName",
            "Member must satisfy regular expression pattern: [A-Za-z0-9]{2,64}::[A-Za-z0-9]{2,64}::[A-Za-z0-9]{2,64}",
        ));
    }
    if RESERVED_NAMESPACES
        .iter()
        .any(|ns| segments[0].eq_ignore_ascii_case(ns))
    {
        return Err(QueryError::new(
            400,
            "CFNRegistryException",
            format!("Type name {type_name} uses a reserved namespace"),
        ));
    }
    let package = required(params, "SchemaHandlerPackage")?;
    if !package.starts_with("s3://") && !package.starts_with("https://") {
        return Err(QueryError::new(
            400,
            "CFNRegistryException",
            format!("SchemaHandlerPackage {package} is not an S3 URL"),
        ));
    }
    let region = context.region.as_deref().unwrap_or("us-east-1");
    let type_arn = format!(
        "arn:aws:cloudformation:{region}:{}:type/resource/{}",
        context.caller.account_id,
        type_name.replace("::", "-")
    );
    let record = registry.types.entry(type_arn.clone()).or_default();
    let type_version_arn = format!("{type_arn}/{:08}", record.versions.len() + 1);
    record.versions.push(type_version_arn.clone());
    if record.default_version.is_none() {
        // The first version of a type becomes its default, as in the registry.
        record.default_version = Some(type_version_arn.clone());
    }
    let token = new_uuid();
    registry.registrations.insert(
        token.clone(),
        Registration {
            type_arn,
            type_version_arn,
            pending_polls: 1,
        },
    );
    let mut xml = Xml::new();
    xml.leaf("RegistrationToken", &token);
    Ok(Some(xml.finish()))
}

fn describe_type_registration(registry: &mut Registry, params: &Params) -> Result<Option<String>, QueryError> {
    let token = required(params, "RegistrationToken")?;
    let registration = registry.registrations.get_mut(token).ok_or_else(|| {
        QueryError::new(
            404,
            "CFNRegistryException",
            format!("Registration token {token} not found"),
        )
    })?;
    let status = if registration.pending_polls > 0 {
        registration.pending_polls -= 1;
        "IN_PROGRESS"
    } else {
        "COMPLETE"
    };
    let mut xml = Xml::new();
    xml.leaf("ProgressStatus", status).leaf(
        "Description",
        if status == "COMPLETE" {
            "Deployment is currently in DEPLOY_STAGE of status COMPLETED"
        } else {
            "Deployment is currently in DEPLOY_STAGE of status IN_PROGRESS"
        },
    );
    xml.leaf("TypeArn", &registration.type_arn);
    if status == "COMPLETE" {
        xml.leaf("TypeVersionArn", &registration.type_version_arn);
    }
    Ok(Some(xml.finish()))
}

fn set_type_default_version(registry: &mut Registry, params: &Params) -> Result<Option<String>, QueryError> {
    let arn = required(params, "Arn")?;
    let (type_arn, _) = arn
        .rsplit_once('/')
        .ok_or_else(|| QueryError::new(404, "TypeNotFoundException", format!("Type {arn} not found")))?;
    let record = registry
        .types
        .get_mut(type_arn)
        .filter(|record| record.versions.iter().any(|version| version == arn))
        .ok_or_else(|| QueryError::new(404, "TypeNotFoundException", format!("Type version {arn} not found")))?;
    record.default_version = Some(arn.to_owned());
    Ok(None)
}

fn required<'p>(params: &'p Params, name: &str) -> Result<&'p str, QueryError> {
    params
        .get(name)
        .filter(|value| !value.is_empty())
        .ok_or_else(|| QueryError::validation(None, name, "Member must not be null"))
}

impl Registry {
    /// The default version of a type, for tests.
    pub fn default_version(&self, type_arn: &str) -> Option<&str> {
        self.types
            .get(type_arn)
            .and_then(|record| record.default_version.as_deref())
    }
}
