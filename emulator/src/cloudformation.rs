//! The emulated CloudFormation registry (query protocol, API version 2010-05-15), the three calls a private
//! registration makes: RegisterType, DescribeTypeRegistration and SetTypeDefaultVersion.
//!
//! A registration reports IN_PROGRESS on its first DescribeTypeRegistration, as the real registry does for
//! minutes, then COMPLETE, so that a client's wait loop is exercised. The package itself is not fetched, and
//! SetTypeDefaultVersion only checks that the version exists: no call served reads a type's default.

use crate::context::RequestContext;
use crate::protocol::query::{Params, QueryError, Xml};
use crate::world::cloudformation::Registry;
use crate::world::store::Store;

/// The actions served.
pub(crate) const ACTIONS: &[&str] = &["RegisterType", "DescribeTypeRegistration", "SetTypeDefaultVersion"];

/// Namespaces CloudFormation keeps for itself.
const RESERVED_NAMESPACES: &[&str] = &["AWS", "Alexa", "AMZN", "Amazon", "ASK", "Custom", "Dev"];

pub(crate) fn handle(
    store: &Store,
    action: &str,
    params: &Params,
    context: &RequestContext,
) -> Result<Option<String>, QueryError> {
    let mut state = store.state();
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
    let token = registry.register(type_arn);
    let mut xml = Xml::new();
    xml.leaf("RegistrationToken", &token);
    Ok(Some(xml.finish()))
}

fn describe_type_registration(registry: &mut Registry, params: &Params) -> Result<Option<String>, QueryError> {
    let token = required(params, "RegistrationToken")?;
    let progress = registry.poll(token).ok_or_else(|| {
        QueryError::new(
            404,
            "CFNRegistryException",
            format!("Registration token {token} not found"),
        )
    })?;
    let status = if progress.complete { "COMPLETE" } else { "IN_PROGRESS" };
    let mut xml = Xml::new();
    xml.leaf("ProgressStatus", status).leaf(
        "Description",
        if status == "COMPLETE" {
            "Deployment is currently in DEPLOY_STAGE of status COMPLETED"
        } else {
            "Deployment is currently in DEPLOY_STAGE of status IN_PROGRESS"
        },
    );
    xml.leaf("TypeArn", progress.type_arn);
    if progress.complete {
        xml.leaf("TypeVersionArn", progress.type_version_arn);
    }
    Ok(Some(xml.finish()))
}

fn set_type_default_version(registry: &Registry, params: &Params) -> Result<Option<String>, QueryError> {
    let arn = required(params, "Arn")?;
    let (type_arn, _) = arn
        .rsplit_once('/')
        .ok_or_else(|| QueryError::new(404, "TypeNotFoundException", format!("Type {arn} not found")))?;
    if !registry.has_version(type_arn, arn) {
        return Err(QueryError::new(
            404,
            "TypeNotFoundException",
            format!("Type version {arn} not found"),
        ));
    }
    Ok(None)
}

fn required<'p>(params: &'p Params, name: &str) -> Result<&'p str, QueryError> {
    params
        .get(name)
        .filter(|value| !value.is_empty())
        .ok_or_else(|| QueryError::validation(None, name, "Member must not be null"))
}
