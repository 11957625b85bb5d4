//! STS's data, who signs requests: long-term access keys of IAM users (from the config, or made with
//! [`crate::Emulator::issue_access_key`]) and temporary session credentials issued for assumed roles
//! (by STS AssumeRole, and by EKS Auth through [`crate::world::store::Store::issue_role_session`]).
//!
//! Key formats follow AWS: `AKIA…` for users, `ASIA…` for sessions (20 characters), 40-character
//! secrets, session tokens that must travel in `X-Amz-Security-Token`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::journal::{Journal, Row};
use crate::clock::epoch_seconds;
use crate::context::CallerIdentity;
use crate::ids::{new_secret, new_session_key_id, new_session_token, new_user_key_id, role_account_and_name, user_id};

/// Temporary credentials as handed out for a role session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    pub expiration: SystemTime,
    /// `arn:aws:sts::ACCOUNT:assumed-role/ROLE_NAME/SESSION`.
    pub assumed_role_arn: String,
    /// `AROA…:SESSION`.
    pub assumed_role_id: String,
}

/// A long-term key of an IAM user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UserKey {
    pub secret_access_key: String,
    pub account_id: String,
    pub user_name: String,
    pub user_id: String,
}

impl UserKey {
    pub fn arn(&self) -> String {
        format!("arn:aws:iam::{}:user/{}", self.account_id, self.user_name)
    }
}

/// Temporary credentials of a role session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Session {
    pub secret_access_key: String,
    pub session_token: String,
    /// Epoch seconds.
    pub expiration: u64,
    pub account_id: String,
    /// The role's ARN, `arn:aws:iam::ACCOUNT:role/PATH/NAME`.
    pub role_arn: String,
    pub session_name: String,
    pub assumed_role_arn: String,
    pub assumed_role_id: String,
    pub session_tags: BTreeMap<String, String>,
    /// Tags that pass on to sessions this session assumes (role chaining).
    pub transitive_tag_keys: BTreeSet<String>,
    /// A session of an IAM user (STS GetSessionToken), not of a role: it acts as the user, and roles
    /// it assumes are not chained.
    #[serde(default)]
    pub user_session: bool,
    /// The inline session policy (STS AssumeRole's `Policy`, or an association's `policy`): it bounds what the
    /// role's own policies allow.
    #[serde(default)]
    pub session_policy: Option<String>,
    /// Managed session policies (AssumeRole's `PolicyArns`).
    #[serde(default)]
    pub session_policy_arns: Vec<String>,
}

impl Session {
    pub fn expired(&self, now: SystemTime) -> bool {
        epoch_seconds(now) >= self.expiration
    }

    pub fn expiration_time(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.expiration)
    }
}

/// What an access key id stands for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Key<'a> {
    User(&'a UserKey),
    Session(&'a Session),
}

impl Key<'_> {
    pub fn secret_access_key(&self) -> &str {
        match self {
            Key::User(user) => &user.secret_access_key,
            Key::Session(session) => &session.secret_access_key,
        }
    }

    /// The token that requests signed with a session key must carry; `None` for a user's key.
    pub fn session_token(&self) -> Option<&str> {
        match self {
            Key::User(_) => None,
            Key::Session(session) => Some(&session.session_token),
        }
    }

    pub fn identity(&self) -> CallerIdentity {
        match self {
            Key::User(user) => CallerIdentity {
                arn: user.arn(),
                account_id: user.account_id.clone(),
                user_id: user.user_id.clone(),
                session_tags: BTreeMap::new(),
            },
            Key::Session(session) => CallerIdentity {
                arn: session.assumed_role_arn.clone(),
                account_id: session.account_id.clone(),
                user_id: session.assumed_role_id.clone(),
                session_tags: session.session_tags.clone(),
            },
        }
    }
}

/// What a new role session is for.
#[derive(Debug, Clone)]
pub(crate) struct SessionRequest<'a> {
    pub role_arn: &'a str,
    /// The role's unique id (`AROA…`).
    pub role_id: &'a str,
    pub session_name: &'a str,
    pub session_tags: BTreeMap<String, String>,
    pub transitive_tag_keys: BTreeSet<String>,
    pub duration: Duration,
    pub session_policy: Option<String>,
    pub session_policy_arns: Vec<String>,
}

/// Every access key the emulator knows. User keys come from the configuration (and the in-process
/// API) and are never saved; sessions are.
#[derive(Debug, Default)]
pub(crate) struct Identities {
    users: BTreeMap<String, UserKey>,
    sessions: BTreeMap<String, Session>,
    /// (expiration, access key id) of every session: the oldest are forgotten first.
    by_expiration: BTreeSet<(u64, String)>,
    /// The session rows changed since the last commit.
    journal: Journal,
    /// The caller's access key → the session handed to handlers for it, reused while it lasts (not saved).
    handler_sessions: BTreeMap<String, String>,
}

/// Sessions are forgotten this long after they expire (until then they answer ExpiredToken).
pub(crate) const FORGET_EXPIRED_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Sessions forgotten at most per session issued, so that issuing costs the same whatever the history.
const FORGET_AT_MOST: usize = 16;

impl Identities {
    /// Adds (or replaces) a user's long-term key.
    pub fn add_user_key(&mut self, access_key_id: &str, secret_access_key: &str, account_id: &str, user_name: &str) {
        self.users.insert(
            access_key_id.to_owned(),
            UserKey {
                secret_access_key: secret_access_key.to_owned(),
                account_id: account_id.to_owned(),
                user_name: user_name.to_owned(),
                user_id: user_id(account_id, user_name),
            },
        );
    }

    /// Makes a new long-term key for a user: (access key id, secret).
    pub fn new_user_key(&mut self, account_id: &str, user_name: &str) -> (String, String) {
        let mut access_key_id = new_user_key_id();
        while self.get(&access_key_id).is_some() {
            access_key_id = new_user_key_id();
        }
        let secret = new_secret();
        self.add_user_key(&access_key_id, &secret, account_id, user_name);
        (access_key_id, secret)
    }

    /// Puts back a saved session (it is not a change).
    pub fn restore_session(&mut self, access_key_id: String, session: Session) {
        self.by_expiration.insert((session.expiration, access_key_id.clone()));
        self.sessions.insert(access_key_id, session);
    }

    /// Forgets every session (to load the saved ones again).
    pub fn forget_sessions(&mut self) {
        self.sessions.clear();
        self.by_expiration.clear();
        self.journal.take();
    }

    /// The session of an access key id.
    /// The credentials handed to handlers for the caller `caller_key`, if they last at least `for_at_least` more.
    pub fn handler_session(&self, caller_key: &str, for_at_least: Duration) -> Option<IssuedCredentials> {
        let access_key_id = self.handler_sessions.get(caller_key)?;
        let session = self.sessions.get(access_key_id)?;
        let left = session
            .expiration_time()
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        (left >= for_at_least).then(|| IssuedCredentials {
            access_key_id: access_key_id.clone(),
            secret_access_key: session.secret_access_key.clone(),
            session_token: session.session_token.clone(),
            expiration: session.expiration_time(),
            assumed_role_arn: session.assumed_role_arn.clone(),
            assumed_role_id: session.assumed_role_id.clone(),
        })
    }

    /// Remembers the credentials handed to handlers for the caller `caller_key`.
    pub fn remember_handler_session(&mut self, caller_key: &str, issued: &IssuedCredentials) {
        self.handler_sessions
            .insert(caller_key.to_owned(), issued.access_key_id.clone());
    }

    pub fn session(&self, access_key_id: &str) -> Option<&Session> {
        self.sessions.get(access_key_id)
    }

    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// The rows changed since the last call.
    pub fn take_changes(&mut self) -> BTreeSet<Row> {
        self.journal.take()
    }

    /// Adds a new session under a fresh access key id, forgetting a few long-expired ones.
    fn add_session(&mut self, session: Session) -> IssuedCredentials {
        let forget_before = epoch_seconds(SystemTime::now()).saturating_sub(FORGET_EXPIRED_AFTER.as_secs());
        for _ in 0..FORGET_AT_MOST {
            if self
                .by_expiration
                .first()
                .is_none_or(|(expiration, _)| *expiration > forget_before)
            {
                break;
            }
            let Some((_, access_key_id)) = self.by_expiration.pop_first() else {
                break;
            };
            self.sessions.remove(&access_key_id);
            self.journal.record(Row::Session(access_key_id));
        }
        let mut access_key_id = new_session_key_id();
        while self.get(&access_key_id).is_some() {
            access_key_id = new_session_key_id();
        }
        let issued = IssuedCredentials {
            access_key_id: access_key_id.clone(),
            secret_access_key: session.secret_access_key.clone(),
            session_token: session.session_token.clone(),
            expiration: session.expiration_time(),
            assumed_role_arn: session.assumed_role_arn.clone(),
            assumed_role_id: session.assumed_role_id.clone(),
        };
        self.journal.record(Row::Session(access_key_id.clone()));
        self.by_expiration.insert((session.expiration, access_key_id.clone()));
        self.sessions.insert(access_key_id, session);
        issued
    }

    pub fn get(&self, access_key_id: &str) -> Option<Key<'_>> {
        if let Some(user) = self.users.get(access_key_id) {
            return Some(Key::User(user));
        }
        self.sessions.get(access_key_id).map(Key::Session)
    }

    /// Issues temporary credentials for a role session, valid from now for `request.duration`.
    pub fn issue_session(&mut self, request: SessionRequest<'_>) -> IssuedCredentials {
        let now = SystemTime::now();
        let (account_id, role_name) = role_account_and_name(request.role_arn);
        let partition = pia_core::arn::ArnParts::split(request.role_arn).map_or("aws", |parts| parts.partition);
        let assumed_role_arn = format!(
            "arn:{partition}:sts::{account_id}:assumed-role/{role_name}/{}",
            request.session_name
        );
        let assumed_role_id = format!("{}:{}", request.role_id, request.session_name);
        let expiration = epoch_seconds(now) + request.duration.as_secs();
        let session = Session {
            secret_access_key: new_secret(),
            session_token: new_session_token(),
            expiration,
            account_id: account_id.to_owned(),
            role_arn: request.role_arn.to_owned(),
            session_name: request.session_name.to_owned(),
            assumed_role_arn,
            assumed_role_id,
            session_tags: request.session_tags,
            transitive_tag_keys: request.transitive_tag_keys,
            user_session: false,
            session_policy: request.session_policy,
            session_policy_arns: request.session_policy_arns,
        };
        self.add_session(session)
    }

    /// Temporary credentials that act as the user `user` (STS GetSessionToken).
    pub fn issue_user_session(&mut self, user: &CallerIdentity, duration: Duration) -> IssuedCredentials {
        let session = Session {
            secret_access_key: new_secret(),
            session_token: new_session_token(),
            expiration: epoch_seconds(SystemTime::now()) + duration.as_secs(),
            account_id: user.account_id.clone(),
            role_arn: user.arn.clone(),
            session_name: String::new(),
            assumed_role_arn: user.arn.clone(),
            assumed_role_id: user.user_id.clone(),
            session_tags: BTreeMap::new(),
            transitive_tag_keys: BTreeSet::new(),
            user_session: true,
            session_policy: None,
            session_policy_arns: Vec::new(),
        };
        self.add_session(session)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(tags: &[(&str, &str)]) -> SessionRequest<'static> {
        SessionRequest {
            role_arn: "arn:aws:iam::111122223333:role/team/app-role",
            role_id: "AROAEXAMPLEEXAMPLE12",
            session_name: "s1",
            session_tags: tags.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            transitive_tag_keys: BTreeSet::new(),
            duration: Duration::from_secs(900),
            session_policy: None,
            session_policy_arns: Vec::new(),
        }
    }

    #[test]
    fn sessions_look_like_sts_sessions() {
        let mut ids = Identities::default();
        let issued = ids.issue_session(request(&[("team", "a")]));
        assert!(issued.access_key_id.starts_with("ASIA"));
        assert_eq!(issued.access_key_id.len(), 20);
        assert_eq!(issued.secret_access_key.len(), 40);
        assert_eq!(
            issued.assumed_role_arn,
            "arn:aws:sts::111122223333:assumed-role/app-role/s1"
        );
        assert_eq!(issued.assumed_role_id, "AROAEXAMPLEEXAMPLE12:s1");
        let key = ids.get(&issued.access_key_id).unwrap();
        assert_eq!(key.secret_access_key(), issued.secret_access_key);
        assert_eq!(key.session_token(), Some(issued.session_token.as_str()));
        let identity = key.identity();
        assert_eq!(identity.arn, issued.assumed_role_arn);
        assert_eq!(identity.account_id, "111122223333");
        assert_eq!(identity.session_tags["team"], "a");
        let Key::Session(session) = key else {
            panic!("a session")
        };
        assert!(!session.expired(SystemTime::now()));
        assert!(session.expired(SystemTime::now() + Duration::from_secs(901)));
    }

    #[test]
    fn user_keys_have_stable_user_ids() {
        let mut ids = Identities::default();
        let (akid, secret) = ids.new_user_key("444455556666", "bob");
        assert!(akid.starts_with("AKIA") && akid.len() == 20, "{akid}");
        let identity = ids.get(&akid).unwrap().identity();
        assert_eq!(identity.arn, "arn:aws:iam::444455556666:user/bob");
        assert_eq!(identity.user_id, user_id("444455556666", "bob"));
        assert!(identity.user_id.starts_with("AIDA") && identity.user_id.len() == 21);
        assert_eq!(ids.get(&akid).unwrap().secret_access_key(), secret);
        assert_eq!(ids.get(&akid).unwrap().session_token(), None);
        assert_ne!(user_id("444455556666", "alice"), identity.user_id);
        assert!(ids.get("AKIANOPE").is_none());
    }
}
