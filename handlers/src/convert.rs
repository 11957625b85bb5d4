//! Between the resource model and EKS's association.

use crate::arn::{AssociationArn, is_association_id};
use crate::eks::{Association, AssociationSummary};
use crate::error::HandlerError;
use crate::model::{ResourceModel, tags_from_map};
use crate::tags::without_reserved;

/// The model CloudFormation should see for an association, without AWS-owned tags.
pub fn model_from_association(association: Association) -> ResourceModel {
    ResourceModel {
        cluster_name: Some(association.cluster_name),
        role_arn: Some(association.role_arn),
        namespace: Some(association.namespace),
        service_account: Some(association.service_account),
        association_arn: Some(association.association_arn),
        association_id: Some(association.association_id),
        target_role_arn: association.target_role_arn.filter(|arn| !arn.is_empty()),
        policy: association.policy.filter(|policy| !policy.is_empty()),
        external_id: association.external_id.filter(|id| !id.is_empty()),
        disable_session_tags: association.disable_session_tags,
        tags: tags_from_map(&without_reserved(association.tags)),
    }
}

/// A List entry: the identifiers EKS returns in summaries.
pub fn model_from_summary(summary: AssociationSummary) -> ResourceModel {
    ResourceModel {
        cluster_name: Some(summary.cluster_name),
        namespace: Some(summary.namespace),
        service_account: Some(summary.service_account),
        association_arn: Some(summary.association_arn),
        association_id: Some(summary.association_id),
        ..ResourceModel::default()
    }
}

/// The longest EKS cluster name. Longer ones cannot exist, and would not even fit in a request URI (the SDK
/// panics on a URI longer than 64 KiB).
pub const MAX_CLUSTER_NAME_CHARS: usize = 100;

/// The (cluster, id) an existing association is addressed by. The ARN, the primary identifier, wins; Cloud Control
/// and resource import may send nothing else.
pub fn identify(model: &ResourceModel) -> Result<(&str, &str), HandlerError> {
    if let Some(arn) = model.association_arn.as_deref() {
        let arn = AssociationArn::parse(arn)?;
        return Ok((cluster_name(arn.cluster_name)?, arn.association_id));
    }
    match (model.cluster_name.as_deref(), model.association_id.as_deref()) {
        (Some(cluster), Some(id)) if is_association_id(id) => Ok((cluster_name(cluster)?, id)),
        (Some(_), Some(_)) => Err(HandlerError::InvalidRequest(
            "AssociationId must be `a-` followed by 17 lower-case letters or digits".into(),
        )),
        _ => Err(HandlerError::InvalidRequest(
            "the request does not identify an association: AssociationArn is required".into(),
        )),
    }
}

/// A cluster name that can address an EKS cluster: 1 to 100 characters.
pub fn cluster_name(name: &str) -> Result<&str, HandlerError> {
    if name.is_empty() || name.chars().count() > MAX_CLUSTER_NAME_CHARS {
        return Err(HandlerError::InvalidRequest(format!(
            "ClusterName must be 1 to {MAX_CLUSTER_NAME_CHARS} characters long"
        )));
    }
    Ok(name)
}

/// A property the schema requires, or a clear error naming it.
pub fn required<'a>(value: &'a Option<String>, property: &str) -> Result<&'a str, HandlerError> {
    value
        .as_deref()
        .ok_or_else(|| HandlerError::InvalidRequest(format!("required property {property} is missing")))
}
