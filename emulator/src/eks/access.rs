//! Which cluster a request reaches and whether the caller may: a request addresses the clusters of the caller's
//! own account in the region it is signed for (another account's or region's cluster of that name does not exist
//! for it, as on AWS), and the caller's policies must allow the action on the resource's ARN.

use std::collections::BTreeMap;

use super::error::{ApiError, ErrorKind};
use crate::authz::{Ask, authorize};
use crate::context::RequestContext;
use crate::world::eks::Cluster;
use crate::world::state::State as World;

/// The service principal EKS passes association roles to (`iam:PassedToService`).
pub(super) use crate::config::POD_IDENTITY_PRINCIPAL;

/// Where a request lands: the caller's account, the signed region and its partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Scope {
    pub partition: &'static str,
    pub region: String,
    pub account_id: String,
}

impl Scope {
    /// The scope of `context`; an unsigned request (signature checks off) reaches `fallback_region`.
    pub fn of(context: &RequestContext, fallback_region: &str) -> Self {
        let region = context.region.clone().unwrap_or_else(|| fallback_region.to_owned());
        Self {
            partition: pia_core::partition_of_region(&region),
            region,
            account_id: context.caller.account_id.clone(),
        }
    }

    pub fn cluster_arn(&self, name: &str) -> String {
        format!(
            "arn:{}:eks:{}:{}:cluster/{name}",
            self.partition, self.region, self.account_id
        )
    }

    pub fn association_arn(&self, cluster: &str, association_id: &str) -> String {
        format!(
            "arn:{}:eks:{}:{}:podidentityassociation/{cluster}/{association_id}",
            self.partition, self.region, self.account_id
        )
    }

    /// Whether `cluster` is the caller's: in its account and the signed region.
    pub fn holds(&self, cluster: &Cluster) -> bool {
        cluster.account_id == self.account_id && cluster.region == self.region
    }
}

/// The scope of a request for the cluster `name`: unsigned requests reach the cluster where it is.
pub(super) fn scope_for(world: &World, context: &RequestContext, name: &str) -> Scope {
    let fallback = world
        .clusters
        .get(name)
        .map_or(crate::config::DEFAULT_REGION, |cluster| cluster.region.as_str());
    Scope::of(context, fallback)
}

/// The caller's cluster `name`, or EKS's not-found error.
pub(super) fn own_cluster<'a>(
    clusters: &'a mut BTreeMap<String, Cluster>,
    scope: &Scope,
    name: &str,
) -> Result<&'a mut Cluster, ApiError> {
    clusters
        .get_mut(name)
        .filter(|cluster| scope.holds(cluster))
        .ok_or_else(|| ApiError::cluster_not_found(name))
}

/// Asks the caller's policies; a refusal is EKS's 403 `AccessDeniedException` in IAM's words.
pub(super) fn allow(world: &World, context: &RequestContext, ask: &Ask) -> Result<(), ApiError> {
    authorize(world, context, ask).map_err(|denied| ApiError::new(ErrorKind::AccessDenied, denied.message))
}

/// `iam:PassRole` on the role an association names, passed to EKS Pod Identity.
pub(super) fn allow_pass_role(world: &World, context: &RequestContext, role_arn: &str) -> Result<(), ApiError> {
    allow(
        world,
        context,
        &Ask::new("iam:PassRole", role_arn).with("iam:PassedToService", [POD_IDENTITY_PRINCIPAL]),
    )
}
