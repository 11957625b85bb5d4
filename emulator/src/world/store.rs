//! The world under its lock, and the state file it is kept in: what every service's handlers share.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::identities::{IssuedCredentials, SessionRequest};
use super::persist;
use super::state::State;
use crate::config::EmulatorConfig;
use crate::ids::stable_role_id;

/// Why the state file cannot be used.
#[derive(Debug)]
pub(crate) struct StateFileError {
    pub path: PathBuf,
    pub message: String,
}

pub(crate) struct Store {
    state: Mutex<State>,
    /// Where the world is saved after each change, if anywhere.
    state_file: Option<PathBuf>,
    /// Orders state file writes, so that the last change is the one on disk.
    persist_lock: Mutex<()>,
}

/// Locks, ignoring poisoning: a panicking handler leaves data that is still consistent enough for an
/// emulator.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Store {
    /// The world of `config`, replaced by the one in its state file if that exists; the file is then
    /// written at once, so that a file that cannot be written fails the start.
    pub fn open(config: &EmulatorConfig) -> Result<Self, StateFileError> {
        let mut state = State::new(config);
        let Some(path) = &config.state_file else {
            return Ok(Self::new(state, None));
        };
        let failed = |message: String| StateFileError {
            path: path.clone(),
            message,
        };
        match std::fs::read(path) {
            Ok(bytes) => persist::load(&mut state, &bytes).map_err(failed)?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(failed(error.to_string())),
        }
        let bytes = persist::save(&state);
        persist::write_atomically(path, &bytes).map_err(|error| failed(error.to_string()))?;
        Ok(Self::new(state, Some(path.clone())))
    }

    fn new(state: State, state_file: Option<PathBuf>) -> Self {
        Self {
            state: Mutex::new(state),
            state_file,
            persist_lock: Mutex::new(()),
        }
    }

    pub fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Issues temporary credentials for a session of `role_arn` (EKS Auth's AssumeRoleForPodIdentity).
    /// All `session_tags` are transitive (as EKS Pod Identity's are). The role need not be known to
    /// IAM; its unique id comes from the registry when it is.
    pub fn issue_role_session(
        &self,
        role_arn: &str,
        session_name: &str,
        session_tags: BTreeMap<String, String>,
        duration: Duration,
    ) -> IssuedCredentials {
        let issued = {
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
                session_policy: None,
                session_policy_arns: Vec::new(),
            })
        };
        self.persist();
        issued
    }

    /// Writes the world to the state file (if there is one), atomically; errors are logged.
    pub fn persist(&self) {
        let Some(path) = &self.state_file else {
            return;
        };
        let _order = lock(&self.persist_lock);
        let bytes = persist::save(&self.state());
        if let Err(error) = persist::write_atomically(path, &bytes) {
            tracing::warn!(path = %path.display(), %error, "cannot write the state file");
        }
    }

    /// [`Store::persist`] off the async threads; returns when the file is written.
    pub async fn persist_async(self: &Arc<Self>) {
        if self.state_file.is_none() {
            return;
        }
        let store = self.clone();
        let _ = tokio::task::spawn_blocking(move || store.persist()).await;
    }
}
