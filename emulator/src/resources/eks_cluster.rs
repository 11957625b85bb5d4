//! `AWS::EKS::Cluster` as the emulated EKS's own resource: a cluster of the caller's account in the stack's region,
//! with its OIDC issuer, signing key and certificate authority, that associations, pods and EKS Auth can use at
//! once. The caller needs `eks:CreateCluster` / `eks:DeleteCluster` (and `iam:PassRole` on its RoleArn).

use serde_json::{Value, json};

use super::{Failure, Made, Scope, TypeSchema};
use crate::authz::{Ask, authorize};
use crate::config::ClusterConfig;
use crate::world::eks::Cluster;
use crate::world::store::Store;

pub(super) fn schema() -> TypeSchema {
    TypeSchema::new(
        &["Name"],
        &["Name", "RoleArn", "ResourcesVpcConfig", "KubernetesNetworkConfig"],
        &[
            "Arn",
            "Endpoint",
            "CertificateAuthorityData",
            "ClusterSecurityGroupId",
            "OpenIdConnectIssuerUrl",
            "Id",
        ],
    )
}

fn allow(store: &Store, scope: &Scope, action: &str, resource: &str) -> Result<(), Failure> {
    authorize(&store.state(), &scope.context, &Ask::new(action, resource))
        .map_err(|denied| Failure::new("AccessDenied", denied.message))
}

fn cluster_arn(scope: &Scope, name: &str) -> String {
    format!(
        "arn:{}:eks:{}:{}:cluster/{name}",
        scope.partition, scope.region, scope.account_id
    )
}

fn tags_of(desired: &Value) -> Vec<(String, String)> {
    desired["Tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|tag| {
            Some((
                tag["Key"].as_str()?.to_owned(),
                tag["Value"].as_str().unwrap_or_default().to_owned(),
            ))
        })
        .collect()
}

pub(super) fn create(store: &Store, scope: &Scope, logical_id: &str, desired: &Value) -> Result<Made, Failure> {
    let name = match desired["Name"].as_str() {
        Some(name) => name.to_owned(),
        None => super::iam::generated_name(scope, logical_id, 100),
    };
    let valid = !name.is_empty()
        && name.len() <= 100
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return Err(Failure::new(
            "InvalidRequest",
            format!(
                "The cluster name {name} is not valid: 1 to 100 letters, digits, - and _, starting with a letter or digit"
            ),
        ));
    }
    let Some(role_arn) = desired["RoleArn"].as_str() else {
        return Err(Failure::new("InvalidRequest", "Property RoleArn cannot be empty."));
    };
    allow(store, scope, "eks:CreateCluster", &cluster_arn(scope, &name))?;
    authorize(
        &store.state(),
        &scope.context,
        &Ask::new("iam:PassRole", role_arn).with("iam:PassedToService", ["eks.amazonaws.com"]),
    )
    .map_err(|denied| Failure::new("AccessDenied", denied.message))?;
    let mut state = store.state();
    if state.clusters.contains_key(&name) {
        return Err(Failure::new(
            "AlreadyExists",
            format!("Cluster already exists with name: {name}"),
        ));
    }
    let mut cluster = Cluster::new(&ClusterConfig {
        name: name.clone(),
        account_id: scope.account_id.clone(),
        region: scope.region.clone(),
        partition: scope.partition.to_owned(),
        ..ClusterConfig::new("")
    });
    cluster.control_plane.role_arn = role_arn.to_owned();
    if let Some(version) = desired["Version"].as_str() {
        cluster.version = version.to_owned();
    }
    *cluster.tags_mut() = tags_of(desired).into_iter().collect();
    let model = model(desired, &cluster);
    state.put_cluster(cluster);
    tracing::debug!(cluster = %name, "cluster created by a stack");
    Ok(Made {
        physical_id: name,
        model,
    })
}

/// The properties given, with the cluster's read-only attributes.
fn model(desired: &Value, cluster: &Cluster) -> Value {
    let mut model = desired.clone();
    model["Name"] = json!(cluster.name);
    model["Arn"] = json!(cluster.arn);
    model["Endpoint"] = json!(cluster.endpoint);
    model["Version"] = json!(cluster.version);
    model["CertificateAuthorityData"] = json!(cluster.control_plane.certificate_authority.data);
    model["ClusterSecurityGroupId"] = json!(cluster.control_plane.resources_vpc_config.cluster_security_group_id);
    model["OpenIdConnectIssuerUrl"] = json!(cluster.oidc_issuer);
    model["Id"] = json!(cluster.arn.rsplit('/').next().unwrap_or_default());
    model
}

pub(super) fn update(store: &Store, scope: &Scope, current: &Made, desired: &Value) -> Result<Made, Failure> {
    allow(
        store,
        scope,
        "eks:UpdateClusterVersion",
        &cluster_arn(scope, &current.physical_id),
    )?;
    let mut state = store.state();
    let cluster = state.clusters.get_mut(&current.physical_id).ok_or_else(|| {
        Failure::new(
            "NotFound",
            format!("No cluster found for name: {}.", current.physical_id),
        )
    })?;
    if let Some(version) = desired["Version"].as_str() {
        cluster.version = version.to_owned();
    }
    *cluster.tags_mut() = tags_of(desired).into_iter().collect();
    let model = model(desired, cluster);
    Ok(Made {
        physical_id: current.physical_id.clone(),
        model,
    })
}

pub(super) fn delete(store: &Store, scope: &Scope, current: &Made) -> Result<(), Failure> {
    allow(
        store,
        scope,
        "eks:DeleteCluster",
        &cluster_arn(scope, &current.physical_id),
    )?;
    store.state().remove_cluster(&current.physical_id);
    Ok(())
}

pub(super) fn read(store: &Store, current: &Made) -> Result<Value, Failure> {
    let state = store.state();
    let cluster = state.clusters.get(&current.physical_id).ok_or_else(|| {
        Failure::new(
            "NotFound",
            format!("No cluster found for name: {}.", current.physical_id),
        )
    })?;
    let mut model = model(&json!({}), cluster);
    model["RoleArn"] = json!(cluster.control_plane.role_arn);
    if !cluster.tags().is_empty() {
        model["Tags"] = cluster
            .tags()
            .iter()
            .map(|(key, value)| json!({"Key": key, "Value": value}))
            .collect();
    }
    Ok(model)
}
