//! Associations that an EKS add-on owns (its `podIdentityAssociations`): made and removed with the add-on, under
//! the same rules as any association, with `ownerArn` naming the add-on; the association API may read them but not
//! change them.

use super::error::{ApiError, ErrorKind};
use super::roles::check_role;
use super::validate;
use crate::clock::now_epoch_seconds;
use crate::ids::new_association_id;
use crate::world::eks::Association;
use crate::world::state::State as World;

/// One association an add-on asks for.
pub(crate) struct OwnedAssociation<'a> {
    pub namespace: &'a str,
    pub service_account: &'a str,
    pub role_arn: &'a str,
}

/// Makes the associations of the add-on `owner_arn` in `cluster_name`: all of them, or none (the first refusal).
pub(crate) fn create_owned(
    world: &mut World,
    cluster_name: &str,
    owner_arn: &str,
    wanted: &[OwnedAssociation<'_>],
) -> Result<Vec<Association>, ApiError> {
    let World {
        clusters,
        roles,
        settings,
        ..
    } = world;
    let cluster = clusters
        .get_mut(cluster_name)
        .ok_or_else(|| ApiError::cluster_not_found(cluster_name))?;
    for (index, one) in wanted.iter().enumerate() {
        validate::namespace(one.namespace)?;
        validate::service_account(one.service_account)?;
        check_role(roles, settings, cluster, one.role_arn)?;
        let repeated = wanted[..index]
            .iter()
            .any(|earlier| earlier.service_account == one.service_account);
        if let Some(existing) = cluster.id_for(one.namespace, one.service_account).map(str::to_owned) {
            return Err(ApiError::new(
                ErrorKind::ResourceInUse,
                format!("Association already exists: {existing}"),
            )
            .with_cluster(cluster_name));
        }
        if repeated {
            return Err(ApiError::invalid_parameter(format!(
                "The service account {} is named twice in podIdentityAssociations.",
                one.service_account
            )));
        }
    }
    if cluster.len() + wanted.len() > settings.max_associations_per_cluster {
        return Err(ApiError::new(
            ErrorKind::ResourceLimitExceeded,
            format!(
                "Cluster {cluster_name} has reached its limit of {} Pod Identity associations.",
                settings.max_associations_per_cluster
            ),
        ));
    }
    let now = now_epoch_seconds();
    let mut made = Vec::new();
    for one in wanted {
        let mut association_id = new_association_id();
        while cluster.association(&association_id).is_some() {
            association_id = new_association_id();
        }
        let association = Association {
            cluster_name: cluster.name.clone(),
            namespace: one.namespace.to_owned(),
            service_account: one.service_account.to_owned(),
            role_arn: one.role_arn.to_owned(),
            association_arn: cluster.association_arn(&association_id),
            association_id: association_id.clone(),
            tags: Default::default(),
            created_at: now,
            modified_at: now,
            owner_arn: Some(owner_arn.to_owned()),
            disable_session_tags: false,
            target_role_arn: None,
            external_id: cluster.external_id(one.namespace, one.service_account, false),
            policy: None,
            seq: 0,
        };
        cluster.propagate(&association_id, None, now, settings.association_propagation_seconds);
        made.push(cluster.insert(association).clone());
    }
    Ok(made)
}

/// Removes every association `owner_arn` owns in `cluster_name`.
pub(crate) fn delete_owned(world: &mut World, cluster_name: &str, owner_arn: &str) {
    let Some(cluster) = world.clusters.get_mut(cluster_name) else {
        return;
    };
    let owned: Vec<String> = cluster
        .associations()
        .filter(|association| association.owner_arn.as_deref() == Some(owner_arn))
        .map(|association| association.association_id.clone())
        .collect();
    for id in owned {
        cluster.remove(&id);
    }
}

/// Refuses to change an association an add-on owns, through the association API.
pub(super) fn refuse_owned(association: &Association) -> Result<(), ApiError> {
    match &association.owner_arn {
        Some(owner) => Err(ApiError::new(
            ErrorKind::InvalidRequest,
            format!(
                "The Pod Identity association {} is owned by {owner}: change it through its owner.",
                association.association_id
            ),
        )
        .with_cluster(&association.cluster_name)),
        None => Ok(()),
    }
}
