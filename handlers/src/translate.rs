//! Translation between the resource model and EKS's types: the models CloudFormation sees for EKS's answers,
//! and the association a model's identifiers address.

use crate::arn::{AssociationArn, is_association_id};
use crate::eks::{Association, AssociationSummary};
use crate::error::HandlerError;
use crate::model::{ResourceModel, tags_from_map};
use crate::scope::Scope;
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

/// The association a Read, Update or Delete addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target<'a> {
    pub cluster_name: String,
    pub association_id: String,
    /// The AssociationArn the request named, if it named one.
    pub association_arn: Option<&'a str>,
}

/// The association a model identifies, in this request's scope. The ARN, the primary identifier, wins; Cloud
/// Control and resource import may send nothing else. An ARN of another partition, region or account is NotFound.
pub fn identify<'a>(model: &'a ResourceModel, scope: &Scope) -> Result<Target<'a>, HandlerError> {
    if let Some(text) = model.association_arn.as_deref() {
        let arn: AssociationArn = text.parse()?;
        scope.check(&arn)?;
        return Ok(Target {
            cluster_name: cluster_name(arn.cluster_name())?.to_owned(),
            association_id: arn.association_id().to_owned(),
            association_arn: Some(text),
        });
    }
    match (model.cluster_name.as_deref(), model.association_id.as_deref()) {
        (Some(cluster), Some(id)) if is_association_id(id) => Ok(Target {
            cluster_name: cluster_name(cluster)?.to_owned(),
            association_id: id.to_owned(),
            association_arn: None,
        }),
        (Some(_), Some(_)) => Err(HandlerError::InvalidRequest(
            "AssociationId must be `a-` followed by 17 lower-case letters or digits".into(),
        )),
        _ => Err(HandlerError::InvalidRequest(
            "the request does not identify an association: AssociationArn is required".into(),
        )),
    }
}

impl Target<'_> {
    /// The association EKS describes must be the one named: EKS addresses associations by cluster and id within
    /// the caller's account, so an ARN of another account would otherwise read (or change) a local namesake.
    pub fn confirm(&self, association: &Association) -> Result<(), HandlerError> {
        match self.association_arn {
            Some(arn) if arn != association.association_arn => Err(HandlerError::OutOfScope {
                association_arn: arn.to_owned(),
                elsewhere: format!(
                    "another account than the caller's ({})",
                    account_of(&association.association_arn)
                ),
            }),
            _ => Ok(()),
        }
    }

    pub fn not_found(&self) -> HandlerError {
        HandlerError::NotFound {
            cluster_name: self.cluster_name.clone(),
            association_id: self.association_id.clone(),
        }
    }
}

fn account_of(arn: &str) -> String {
    arn.parse::<AssociationArn>()
        .map_or_else(|_| "unknown".to_owned(), |arn| arn.account_id().to_owned())
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
