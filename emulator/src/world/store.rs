//! The world under its lock, and its durable copy: what every service's handlers share.
//!
//! Reads and writes go to the in-memory [`State`]; its mutators journal the rows they change. When the
//! guard of [`Store::state`] is dropped, still holding the lock, those rows are written to the state
//! database in one transaction, so no other request sees a change before it is on disk. If the commit
//! fails, memory is reloaded from the database (the change is undone) and the request being served is
//! marked unsaved (see [`saving`]): the dispatcher then answers a 5xx instead of the handler's answer.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::database::{Database, DatabaseError};
use super::identities::{IssuedCredentials, SessionRequest};
use super::journal::Row;
use super::state::State;
use crate::config::EmulatorConfig;
use crate::ids::stable_role_id;

/// Why the state file cannot be used.
#[derive(Debug)]
pub(crate) struct StateFileError {
    pub path: PathBuf,
    pub message: String,
}

/// A change made while serving a request could not be saved, and was undone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unsaved;

tokio::task_local! {
    /// Set when a change made by the request this task serves could not be saved.
    static UNSAVED: Cell<bool>;
}

/// Runs `request` (one request's handling); `Err` if a change it made could not be saved (it was
/// undone, and the answer must say so).
pub(crate) async fn saving<F: Future>(request: F) -> Result<F::Output, Unsaved> {
    UNSAVED
        .scope(Cell::new(false), async {
            let output = request.await;
            if UNSAVED.with(Cell::get) {
                Err(Unsaved)
            } else {
                Ok(output)
            }
        })
        .await
}

pub(crate) struct Store {
    inner: Mutex<Inner>,
}

struct Inner {
    state: State,
    /// The durable copy, with a `state_file`.
    database: Option<Database>,
}

/// The world, locked; dropping it saves what changed (see the module's documentation).
pub(crate) struct StateGuard<'a>(MutexGuard<'a, Inner>);

impl Deref for StateGuard<'_> {
    type Target = State;

    fn deref(&self) -> &State {
        &self.0.state
    }
}

impl DerefMut for StateGuard<'_> {
    fn deref_mut(&mut self) -> &mut State {
        &mut self.0.state
    }
}

impl Drop for StateGuard<'_> {
    fn drop(&mut self) {
        self.0.save_changes();
    }
}

impl Inner {
    /// Writes the journaled rows; if that fails, undoes the change and marks the request unsaved.
    fn save_changes(&mut self) {
        let rows = self.state.take_changes();
        let Some(database) = &mut self.database else {
            return;
        };
        if rows.is_empty() {
            return;
        }
        let Err(error) = database.write(&self.state, &rows) else {
            return;
        };
        tracing::error!(%error, "cannot save a change to the state database; it is undone");
        if let Err(error) = database.reload(&mut self.state) {
            tracing::error!(%error, "cannot reload the state database: memory may hold the unsaved change");
        }
        // Outside a request (the in-process API) the log line is all there is.
        let _ = UNSAVED.try_with(|unsaved| unsaved.set(true));
    }
}

impl Store {
    /// The world of `config`, with the saved world of its state file added (saved clusters and roles
    /// win over configured ones of the same name); the configured clusters and roles are then saved,
    /// so that a database that cannot be written fails the start.
    pub fn open(config: &EmulatorConfig) -> Result<Self, StateFileError> {
        let mut state = State::new(config);
        let configured = state.take_changes();
        let database = match &config.state_file {
            None => None,
            Some(path) => Some(
                open_database(path, &mut state, &configured).map_err(|error| StateFileError {
                    path: path.clone(),
                    message: error.to_string(),
                })?,
            ),
        };
        Ok(Self {
            inner: Mutex::new(Inner { state, database }),
        })
    }

    /// The world, locked; a change made through it is saved when the guard is dropped.
    pub fn state(&self) -> StateGuard<'_> {
        // A panicking handler leaves data that is still consistent enough for an emulator.
        StateGuard(self.inner.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Issues temporary credentials for a session of `role_arn` (EKS Auth's AssumeRoleForPodIdentity).
    /// All `session_tags` are transitive (as EKS Pod Identity's are); `session_policy` bounds what the session may
    /// do (an association's `policy`). The role need not be known to IAM; its unique id comes from the registry
    /// when it is.
    pub fn issue_role_session(
        &self,
        role_arn: &str,
        session_name: &str,
        session_tags: BTreeMap<String, String>,
        duration: Duration,
        session_policy: Option<String>,
    ) -> IssuedCredentials {
        let mut state = self.state();
        let role_id = state
            .roles
            .get(role_arn)
            .map_or_else(|| stable_role_id(role_arn), |role| role.role_id.clone());
        let transitive_tag_keys: BTreeSet<String> = session_tags.keys().cloned().collect();
        state.identities.issue_session(SessionRequest {
            role_arn,
            role_id: &role_id,
            session_name,
            session_tags,
            transitive_tag_keys,
            duration,
            session_policy,
            session_policy_arns: Vec::new(),
        })
    }
}

fn open_database(path: &Path, state: &mut State, configured: &BTreeSet<Row>) -> Result<Database, DatabaseError> {
    let mut database = Database::open(path)?;
    database.prune_sessions()?;
    database.load_into(state)?;
    // What loading put in memory is saved already.
    state.take_changes();
    database.constrain()?;
    let mut changes = configured.clone();
    // No stack operation outlives the process that ran it.
    state.stacks.end_interrupted(crate::clock::now_epoch_seconds());
    changes.append(&mut state.take_changes());
    database.write(state, &changes)?;
    Ok(database)
}
