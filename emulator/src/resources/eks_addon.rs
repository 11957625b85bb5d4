//! `AWS::EKS::Addon`: an add-on of an emulated cluster, such as `eks-pod-identity-agent`. Its
//! `PodIdentityAssociations` become associations in the add-on's namespace (`kube-system`) that the add-on owns
//! (`ownerArn`), made and removed with it.

use serde_json::{Value, json};

use super::{Failure, Made, Scope, TypeSchema};
use crate::authz::{Ask, authorize};
use crate::eks::owned::{OwnedAssociation, create_owned, delete_owned};
use crate::ids::new_uuid;
use crate::world::store::Store;

/// Where an add-on's service accounts live.
const ADDON_NAMESPACE: &str = "kube-system";

pub(super) fn schema() -> TypeSchema {
    TypeSchema::new(&["ClusterName", "AddonName"], &["ClusterName", "AddonName"], &["Arn"])
}

fn failure(error: crate::eks::error::ApiError) -> Failure {
    let code = match error.kind.name() {
        "ResourceNotFoundException" => "NotFound",
        "ResourceInUseException" => "AlreadyExists",
        "ResourceLimitExceededException" => "ServiceLimitExceeded",
        "AccessDeniedException" => "AccessDenied",
        _ => "InvalidRequest",
    };
    Failure::new(code, error.message)
}

/// `[{ServiceAccount, RoleArn}]`.
fn wanted(desired: &Value) -> Vec<(String, String)> {
    desired["PodIdentityAssociations"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| {
            (
                item["ServiceAccount"].as_str().unwrap_or_default().to_owned(),
                item["RoleArn"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn make_associations(store: &Store, scope: &Scope, cluster: &str, owner: &str, desired: &Value) -> Result<(), Failure> {
    let wanted = wanted(desired);
    for (_, role_arn) in &wanted {
        authorize(
            &store.state(),
            &scope.context,
            &Ask::new("iam:PassRole", role_arn.as_str()).with("iam:PassedToService", ["pods.eks.amazonaws.com"]),
        )
        .map_err(|denied| Failure::new("AccessDenied", denied.message))?;
    }
    let asked: Vec<OwnedAssociation<'_>> = wanted
        .iter()
        .map(|(service_account, role_arn)| OwnedAssociation {
            namespace: ADDON_NAMESPACE,
            service_account,
            role_arn,
        })
        .collect();
    create_owned(&mut store.state(), cluster, owner, &asked)
        .map(drop)
        .map_err(failure)
}

pub(super) fn create(store: &Store, scope: &Scope, desired: &Value) -> Result<Made, Failure> {
    let (Some(cluster), Some(addon)) = (desired["ClusterName"].as_str(), desired["AddonName"].as_str()) else {
        return Err(Failure::new(
            "InvalidRequest",
            "Properties ClusterName and AddonName are required.",
        ));
    };
    let mine = store
        .state()
        .clusters
        .get(cluster)
        .is_some_and(|found| found.account_id == scope.account_id && found.region == scope.region);
    if !mine {
        return Err(Failure::new(
            "NotFound",
            format!("No cluster found for name: {cluster}."),
        ));
    }
    let arn = format!(
        "arn:{}:eks:{}:{}:addon/{cluster}/{addon}/{}",
        scope.partition,
        scope.region,
        scope.account_id,
        new_uuid()
    );
    authorize(
        &store.state(),
        &scope.context,
        &Ask::new("eks:CreateAddon", arn.as_str()),
    )
    .map_err(|denied| Failure::new("AccessDenied", denied.message))?;
    make_associations(store, scope, cluster, &arn, desired)?;
    let mut model = desired.clone();
    model["Arn"] = json!(arn);
    Ok(Made {
        physical_id: format!("{cluster}|{addon}"),
        model,
    })
}

pub(super) fn update(
    store: &Store,
    scope: &Scope,
    current: &Made,
    desired: &Value,
    previous: &Value,
) -> Result<Made, Failure> {
    let cluster = desired["ClusterName"].as_str().unwrap_or_default();
    let arn = current.model["Arn"].as_str().unwrap_or_default().to_owned();
    authorize(
        &store.state(),
        &scope.context,
        &Ask::new("eks:UpdateAddon", arn.as_str()),
    )
    .map_err(|denied| Failure::new("AccessDenied", denied.message))?;
    if wanted(desired) != wanted(previous) {
        delete_owned(&mut store.state(), cluster, &arn);
        make_associations(store, scope, cluster, &arn, desired)?;
    }
    let mut model = desired.clone();
    model["Arn"] = json!(arn);
    Ok(Made {
        physical_id: current.physical_id.clone(),
        model,
    })
}

pub(super) fn delete(store: &Store, scope: &Scope, current: &Made) -> Result<(), Failure> {
    let arn = current.model["Arn"].as_str().unwrap_or_default();
    authorize(&store.state(), &scope.context, &Ask::new("eks:DeleteAddon", arn))
        .map_err(|denied| Failure::new("AccessDenied", denied.message))?;
    let cluster = current.physical_id.split('|').next().unwrap_or_default();
    delete_owned(&mut store.state(), cluster, arn);
    Ok(())
}

pub(super) fn read(store: &Store, current: &Made) -> Result<Value, Failure> {
    let cluster = current.physical_id.split('|').next().unwrap_or_default();
    let arn = current.model["Arn"].as_str().unwrap_or_default();
    let state = store.state();
    let found = state
        .clusters
        .get(cluster)
        .ok_or_else(|| Failure::new("NotFound", format!("No cluster found for name: {cluster}.")))?;
    let owned: Vec<Value> = found
        .associations()
        .filter(|association| association.owner_arn.as_deref() == Some(arn))
        .map(|association| json!({"ServiceAccount": association.service_account, "RoleArn": association.role_arn}))
        .collect();
    let mut model = current.model.clone();
    if owned.is_empty() {
        if let Some(object) = model.as_object_mut() {
            object.remove("PodIdentityAssociations");
        }
    } else {
        model["PodIdentityAssociations"] = Value::Array(owned);
    }
    Ok(model)
}
