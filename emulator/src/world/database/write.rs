//! Writing a change: each journaled row as memory now holds it, or deleted when memory no longer
//! does, all in one transaction. The cost is that of the rows changed, whatever the world's size.

use std::collections::BTreeSet;

use rusqlite::{Params, Transaction, TransactionBehavior, params};
use serde::Serialize;

use super::Database;
use super::records::ClusterRecord;
use crate::world::journal::Row;
use crate::world::state::State;

impl Database {
    /// Writes `rows` from `state` in one transaction; when this returns `Ok` the change is on disk.
    pub fn write(&mut self, state: &State, rows: &BTreeSet<Row>) -> rusqlite::Result<()> {
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        for row in rows {
            write_row(&transaction, state, row)?;
        }
        transaction.commit()
    }
}

fn write_row(tx: &Transaction<'_>, state: &State, row: &Row) -> rusqlite::Result<()> {
    match row {
        Row::Cluster(name) => match state.clusters.get(name) {
            Some(cluster) => run(
                tx,
                "INSERT INTO clusters (name, body) VALUES (?1, ?2)
                 ON CONFLICT (name) DO UPDATE SET body = excluded.body",
                params![name, json(&ClusterRecord::from(cluster))?],
            ),
            None => run(tx, "DELETE FROM clusters WHERE name = ?1", [name]),
        },
        Row::Association { cluster, id } => {
            match state.clusters.get(cluster).and_then(|c| c.association(id)) {
                Some(association) => run(
                    tx,
                    "INSERT INTO associations (cluster, association_id, namespace, service_account, seq, body)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (cluster, association_id) DO UPDATE SET body = excluded.body",
                    params![
                        cluster,
                        id,
                        association.namespace,
                        association.service_account,
                        // List positions stay far below i64::MAX.
                        i64::try_from(association.seq).unwrap_or(i64::MAX),
                        json(association)?
                    ],
                ),
                None => run(
                    tx,
                    "DELETE FROM associations WHERE cluster = ?1 AND association_id = ?2",
                    [cluster, id],
                ),
            }
        }
        Row::CreateToken { cluster, token } => match state.clusters.get(cluster).and_then(|c| c.create_token(token)) {
            Some(record) => run(
                tx,
                "INSERT INTO create_tokens (cluster, token, body) VALUES (?1, ?2, ?3)
                     ON CONFLICT (cluster, token) DO UPDATE SET body = excluded.body",
                params![cluster, token, json(record)?],
            ),
            None => run(
                tx,
                "DELETE FROM create_tokens WHERE cluster = ?1 AND token = ?2",
                [cluster, token],
            ),
        },
        Row::UpdateToken {
            cluster,
            association_id,
            token,
        } => match state
            .clusters
            .get(cluster)
            .and_then(|c| c.update_token(association_id, token))
        {
            Some(fingerprint) => run(
                tx,
                "INSERT INTO update_tokens (cluster, association_id, token, fingerprint) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (cluster, association_id, token) DO UPDATE SET fingerprint = excluded.fingerprint",
                params![cluster, association_id, token, fingerprint],
            ),
            None => run(
                tx,
                "DELETE FROM update_tokens WHERE cluster = ?1 AND association_id = ?2 AND token = ?3",
                [cluster, association_id, token],
            ),
        },
        Row::Role { account_id, name } => match state.roles.by_name(account_id, name) {
            // A role renamed only in case replaces the row: same key under NOCASE.
            Some(role) => run(
                tx,
                "INSERT INTO roles (account_id, name, arn, body) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (account_id, name) DO UPDATE
                 SET name = excluded.name, arn = excluded.arn, body = excluded.body",
                params![account_id, role.name, role.arn, json(role)?],
            ),
            None => run(
                tx,
                "DELETE FROM roles WHERE account_id = ?1 AND name = ?2",
                [account_id, name],
            ),
        },
        Row::Policy(arn) => match state.policies.get(arn) {
            Some(policy) => run(
                tx,
                "INSERT INTO policies (arn, body) VALUES (?1, ?2) ON CONFLICT (arn) DO UPDATE SET body = excluded.body",
                params![arn, json(policy)?],
            ),
            None => run(tx, "DELETE FROM policies WHERE arn = ?1", [arn]),
        },
        Row::Stack(id) => match state.stacks.get(id) {
            Some(stack) => run(
                tx,
                "INSERT INTO stacks (stack_id, body) VALUES (?1, ?2) ON CONFLICT (stack_id) DO UPDATE SET body = excluded.body",
                params![id, json(stack)?],
            ),
            None => run(tx, "DELETE FROM stacks WHERE stack_id = ?1", [id]),
        },
        Row::Session(access_key_id) => match state.identities.session(access_key_id) {
            Some(session) => run(
                tx,
                "INSERT INTO sessions (access_key_id, expiration, body) VALUES (?1, ?2, ?3)
                 ON CONFLICT (access_key_id) DO UPDATE SET expiration = excluded.expiration, body = excluded.body",
                params![
                    access_key_id,
                    i64::try_from(session.expiration).unwrap_or(i64::MAX),
                    json(session)?
                ],
            ),
            None => run(tx, "DELETE FROM sessions WHERE access_key_id = ?1", [access_key_id]),
        },
    }
}

fn run(tx: &Transaction<'_>, sql: &str, params: impl Params) -> rusqlite::Result<()> {
    tx.prepare_cached(sql)?.execute(params).map(drop)
}

fn json<T: Serialize>(value: &T) -> rusqlite::Result<String> {
    serde_json::to_string(value).map_err(|error| rusqlite::Error::ToSqlConversionFailure(Box::new(error)))
}
