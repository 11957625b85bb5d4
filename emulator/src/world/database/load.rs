//! Reading the saved world into memory, at start and after a change that could not be saved.

use std::time::SystemTime;

use serde::de::DeserializeOwned;

use super::records::ClusterRecord;
use super::{Database, DatabaseError};
use crate::clock::epoch_seconds;
use crate::world::eks::{Association, IdempotencyRecord};
use crate::world::iam::{Role, RoleRegistry};
use crate::world::iam_policies::{ManagedPolicy, PolicyRegistry};
use crate::world::identities::{FORGET_EXPIRED_AFTER, Session};
use crate::world::stacks::{Stack, Stacks};
use crate::world::state::State;

impl Database {
    /// Adds the saved world to `state`: saved clusters replace configured ones of the same name, saved
    /// roles replace configured ones of the same name, saved sessions join the configured user keys.
    /// What it adds is journaled as changes; the caller drops those (they are saved already).
    pub fn load_into(&self, state: &mut State) -> Result<(), DatabaseError> {
        for (name, body) in self.select("SELECT name, body FROM clusters", two)? {
            let record: ClusterRecord = decode("clusters", &name, &body)?;
            state.clusters.insert(name, record.into_cluster());
        }
        for (cluster_name, id, seq, body) in self.select(
            "SELECT cluster, association_id, seq, body FROM associations ORDER BY cluster, seq",
            |row| {
                let seq: i64 = row.get(2)?;
                // Positions are written from u64 values; a negative one (a hand edit) sorts first.
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    u64::try_from(seq).unwrap_or(0),
                    row.get::<_, String>(3)?,
                ))
            },
        )? {
            let key = format!("{cluster_name}/{id}");
            let mut association: Association = decode("associations", &key, &body)?;
            let cluster = state
                .clusters
                .get_mut(&cluster_name)
                .ok_or_else(|| invalid("associations", &key, "its cluster is not saved"))?;
            if let Some(first) = cluster.id_for(&association.namespace, &association.service_account) {
                return Err(DatabaseError::DuplicateAssociation {
                    cluster: cluster_name,
                    first: first.to_owned(),
                    second: id,
                    namespace: association.namespace,
                    service_account: association.service_account,
                });
            }
            association.association_id = id;
            cluster.restore(seq, association);
        }
        for (cluster_name, token, body) in self.select("SELECT cluster, token, body FROM create_tokens", |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
            ))
        })? {
            let key = format!("{cluster_name}/{token}");
            let record: IdempotencyRecord = decode("create_tokens", &key, &body)?;
            let cluster = state
                .clusters
                .get_mut(&cluster_name)
                .ok_or_else(|| invalid("create_tokens", &key, "its cluster is not saved"))?;
            cluster.remember_create_token(token, record);
        }
        let update_tokens = self.select(
            "SELECT cluster, association_id, token, fingerprint FROM update_tokens",
            |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                ))
            },
        )?;
        for (cluster_name, association_id, token, fingerprint) in update_tokens {
            let cluster = state.clusters.get_mut(&cluster_name).ok_or_else(|| {
                invalid(
                    "update_tokens",
                    &format!("{cluster_name}/{association_id}/{token}"),
                    "its cluster is not saved",
                )
            })?;
            cluster.remember_update_token(association_id, token, fingerprint);
        }
        for (arn, body) in self.select("SELECT arn, body FROM roles", two)? {
            let role: Role = decode("roles", &arn, &body)?;
            state.roles.insert(role);
        }
        for (arn, body) in self.select("SELECT arn, body FROM policies", two)? {
            let policy: ManagedPolicy = decode("policies", &arn, &body)?;
            state.policies.insert(policy);
        }
        for (id, body) in self.select("SELECT stack_id, body FROM stacks", two)? {
            let stack: Stack = decode("stacks", &id, &body)?;
            state.stacks.insert(stack);
        }
        for (access_key_id, body) in self.select("SELECT access_key_id, body FROM sessions", two)? {
            let session: Session = decode("sessions", &access_key_id, &body)?;
            state.identities.restore_session(access_key_id, session);
        }
        Ok(())
    }

    /// Replaces the saved parts of `state` by what the database holds: undoes a change whose commit
    /// failed.
    pub fn reload(&self, state: &mut State) -> Result<(), DatabaseError> {
        state.clusters.clear();
        state.roles = RoleRegistry::default();
        state.policies = PolicyRegistry::default();
        state.stacks = Stacks::default();
        state.identities.forget_sessions();
        self.load_into(state)?;
        state.take_changes();
        Ok(())
    }

    /// Deletes the sessions that expired so long ago that the emulator forgets them.
    pub fn prune_sessions(&self) -> Result<(), DatabaseError> {
        let forget_before = epoch_seconds(SystemTime::now()).saturating_sub(FORGET_EXPIRED_AFTER.as_secs());
        self.connection.execute(
            "DELETE FROM sessions WHERE expiration <= ?1",
            [i64::try_from(forget_before).unwrap_or(i64::MAX)],
        )?;
        Ok(())
    }

    /// Every row `sql` selects, each read by `read`.
    fn select<T>(
        &self,
        sql: &str,
        read: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, DatabaseError> {
        let mut statement = self.connection.prepare(sql)?;
        let rows = statement.query_map([], read)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

fn two(row: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String)> {
    Ok((row.get(0)?, row.get(1)?))
}

fn decode<T: DeserializeOwned>(table: &'static str, key: &str, body: &str) -> Result<T, DatabaseError> {
    serde_json::from_str(body).map_err(|error| invalid(table, key, &error.to_string()))
}

fn invalid(table: &'static str, key: &str, message: &str) -> DatabaseError {
    DatabaseError::InvalidRow {
        table,
        key: key.to_owned(),
        message: message.to_owned(),
    }
}
