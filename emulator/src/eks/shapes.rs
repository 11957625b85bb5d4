//! Request and response bodies, named and cased as in EKS's service model.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::world::control_plane::ControlPlane;
use crate::world::eks::{Association, AssociationSummary};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct CreateAssociationRequest {
    pub namespace: Option<String>,
    pub service_account: Option<String>,
    pub role_arn: Option<String>,
    pub client_request_token: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
    pub disable_session_tags: Option<bool>,
    pub target_role_arn: Option<String>,
    pub policy: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UpdateAssociationRequest {
    pub role_arn: Option<String>,
    pub client_request_token: Option<String>,
    pub disable_session_tags: Option<bool>,
    pub target_role_arn: Option<String>,
    pub policy: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct TagResourceRequest {
    pub tags: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Serialize)]
pub(super) struct AssociationOutput<'a> {
    pub association: &'a Association,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ListAssociationsOutput {
    pub associations: Vec<AssociationSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Serialize)]
pub(super) struct TagsOutput<'a> {
    pub tags: &'a BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
pub(super) struct ClusterOutput<'a> {
    pub cluster: ClusterShape<'a>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ClusterShape<'a> {
    pub name: &'a str,
    pub arn: &'a str,
    pub created_at: f64,
    pub version: &'a str,
    pub endpoint: &'a str,
    pub status: &'static str,
    pub platform_version: &'static str,
    pub identity: Identity<'a>,
    pub tags: &'a BTreeMap<String, String>,
    #[serde(flatten)]
    pub control_plane: &'a ControlPlane,
}

#[derive(Debug, Serialize)]
pub(super) struct Identity<'a> {
    pub oidc: Oidc<'a>,
}

#[derive(Debug, Serialize)]
pub(super) struct Oidc<'a> {
    pub issuer: &'a str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ListClustersOutput<'a> {
    pub clusters: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}
