//! The state file: the world (clusters with their associations and idempotency tokens, IAM roles,
//! access keys and sessions) as JSON, loaded at start and rewritten after every change. Writes go to
//! a temporary file beside it that is then renamed over it, so a reader never sees half a file.
//!
//! Behaviour switches (check_roles, quotas, …) are not saved: they come from the config of each run.
//! The file holds secrets (access keys, session credentials, the clusters' service-account signing
//! keys): it is for local emulation only.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::eks::{Association, Cluster, IdempotencyRecord};
use super::iam::{Role, RoleRegistry};
use super::identities::Identities;
use super::state::State;
use crate::config::ClusterConfig;

/// Bumped when the format changes incompatibly.
const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct Snapshot {
    format_version: u32,
    clusters: Vec<ClusterSnapshot>,
    roles: Vec<Role>,
    identities: Identities,
}

#[derive(Debug, Serialize, Deserialize)]
struct ClusterSnapshot {
    name: String,
    account_id: String,
    region: String,
    partition: String,
    arn: String,
    created_at: f64,
    version: String,
    endpoint: String,
    oidc_issuer: String,
    /// The service-account issuer key, so that tokens minted before a restart stay valid.
    #[serde(default)]
    signing_key_pem: Option<String>,
    tags: BTreeMap<String, String>,
    create_tokens: Vec<(String, IdempotencyRecord)>,
    update_tokens: Vec<(String, String, String)>,
    /// (list position, association), in list order.
    associations: Vec<(u64, Association)>,
    next_seq: u64,
}

impl From<&Cluster> for ClusterSnapshot {
    fn from(cluster: &Cluster) -> Self {
        let mut create_tokens: Vec<(String, IdempotencyRecord)> = cluster
            .create_tokens
            .iter()
            .map(|(token, record)| (token.clone(), record.clone()))
            .collect();
        create_tokens.sort_by(|a, b| a.0.cmp(&b.0));
        let mut update_tokens: Vec<(String, String, String)> = cluster
            .update_tokens
            .iter()
            .map(|((id, token), fingerprint)| (id.clone(), token.clone(), fingerprint.clone()))
            .collect();
        update_tokens.sort();
        Self {
            name: cluster.name.clone(),
            account_id: cluster.account_id.clone(),
            region: cluster.region.clone(),
            partition: cluster.partition.clone(),
            arn: cluster.arn.clone(),
            created_at: cluster.created_at,
            version: cluster.version.clone(),
            endpoint: cluster.endpoint.clone(),
            oidc_issuer: cluster.oidc_issuer.clone(),
            signing_key_pem: cluster.signing_key.private_key_pem().ok(),
            tags: cluster.tags.clone(),
            create_tokens,
            update_tokens,
            associations: cluster.associations().map(|a| (a.seq, a.clone())).collect(),
            next_seq: cluster.next_seq(),
        }
    }
}

impl ClusterSnapshot {
    fn into_cluster(self) -> Cluster {
        let mut cluster = Cluster::new(&ClusterConfig {
            name: self.name,
            account_id: self.account_id,
            region: self.region,
            partition: self.partition,
            signing_key_pem: self.signing_key_pem,
            ..ClusterConfig::new("")
        });
        cluster.arn = self.arn;
        cluster.created_at = self.created_at;
        cluster.version = self.version;
        cluster.endpoint = self.endpoint;
        cluster.oidc_issuer = self.oidc_issuer;
        cluster.tags = self.tags;
        cluster.create_tokens = self.create_tokens.into_iter().collect();
        cluster.update_tokens = self
            .update_tokens
            .into_iter()
            .map(|(id, token, fingerprint)| ((id, token), fingerprint))
            .collect();
        for (seq, association) in self.associations {
            cluster.restore(seq, association);
        }
        cluster.restore_next_seq(self.next_seq);
        cluster
    }
}

/// The world as JSON.
pub(crate) fn save(state: &State) -> Vec<u8> {
    let snapshot = Snapshot {
        format_version: FORMAT_VERSION,
        clusters: state.clusters.values().map(ClusterSnapshot::from).collect(),
        roles: state.roles.iter().cloned().collect(),
        identities: state.identities.clone(),
    };
    serde_json::to_vec_pretty(&snapshot).unwrap_or_default()
}

/// Replaces the world of `state` (clusters, roles) by the saved one, and adds the saved access keys
/// and sessions to the configured keys (which win over saved keys of the same id).
pub(crate) fn load(state: &mut State, bytes: &[u8]) -> Result<(), String> {
    let snapshot: Snapshot = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    if snapshot.format_version != FORMAT_VERSION {
        return Err(format!(
            "format version {} (this emulator reads {FORMAT_VERSION})",
            snapshot.format_version
        ));
    }
    state.clusters = snapshot
        .clusters
        .into_iter()
        .map(|c| (c.name.clone(), c.into_cluster()))
        .collect();
    let mut roles = RoleRegistry::default();
    for role in snapshot.roles {
        roles.insert(role);
    }
    state.roles = roles;
    let configured = std::mem::replace(&mut state.identities, snapshot.identities);
    state.identities.merge(configured);
    Ok(())
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state.json".to_owned());
    let temp = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    // It holds secrets: readable by its owner only.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&temp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temp);
    })
}
