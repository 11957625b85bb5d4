//! IAM's data: roles, by account and name. The same registry serves IAM's API, EKS's role checks and
//! the trust policies that STS and EKS Auth evaluate.

use std::collections::BTreeMap;
use std::ops::Bound;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::iam_policies::InlinePolicies;
use super::journal::{Journal, Row};
use crate::clock::now_epoch_seconds;
use crate::ids::{new_role_id, role_account_and_name, stable_role_id};

/// IAM's default and smallest maximum session duration of a role, in seconds.
pub(crate) const DEFAULT_MAX_SESSION_DURATION: u32 = 3600;

/// An IAM role, as IAM's GetRole describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Role {
    /// `arn:{partition}:iam::{account}:role{path}{name}`.
    pub arn: String,
    pub account_id: String,
    /// `/` or `/a/b/`.
    pub path: String,
    pub name: String,
    /// `AROA…`.
    pub role_id: String,
    /// The trust policy, parsed (a JSON string for documents that do not parse).
    pub trust_policy: Value,
    /// The trust policy as it was given, which IAM returns (URL-encoded).
    pub trust_policy_document: String,
    pub description: Option<String>,
    pub max_session_duration: u32,
    /// Epoch seconds.
    pub created_at: f64,
    /// In the order given.
    pub tags: Vec<(String, String)>,
    /// Managed policy ARNs, in attachment order.
    pub attached_policies: Vec<String>,
    /// Inline permission policies (PutRolePolicy).
    #[serde(default)]
    pub inline_policies: InlinePolicies,
    /// Epoch seconds from which EKS sees the role (IAM propagation); 0: from the start.
    #[serde(default)]
    pub visible_to_eks_at: f64,
}

impl Role {
    /// A role made from its ARN alone (the in-process [`crate::Emulator::put_role`] and the config).
    pub(crate) fn from_arn(arn: &str, trust_policy: Value) -> Self {
        let (account_id, name) = role_account_and_name(arn);
        let resource = pia_core::arn::ArnParts::split(arn).map_or("", |parts| parts.resource);
        let path = resource
            .strip_prefix("role")
            .and_then(|rest| rest.strip_suffix(name))
            .filter(|path| path.starts_with('/') && path.ends_with('/'))
            .unwrap_or("/");
        Self {
            arn: arn.to_owned(),
            account_id: account_id.to_owned(),
            path: path.to_owned(),
            name: name.to_owned(),
            role_id: stable_role_id(arn),
            trust_policy_document: policy_text(&trust_policy),
            trust_policy,
            description: None,
            max_session_duration: DEFAULT_MAX_SESSION_DURATION,
            created_at: now_epoch_seconds(),
            tags: Vec::new(),
            attached_policies: Vec::new(),
            inline_policies: InlinePolicies::new(),
            visible_to_eks_at: 0.0,
        }
    }

    /// A role created through IAM's CreateRole.
    pub(crate) fn new(partition: &str, account_id: &str, path: &str, name: &str, document: &str) -> Self {
        let arn = format!("arn:{partition}:iam::{account_id}:role{path}{name}");
        Self {
            role_id: new_role_id(),
            trust_policy: parse_policy(document),
            trust_policy_document: document.to_owned(),
            ..Self::from_arn(&arn, Value::Null)
        }
    }

    pub(crate) fn set_trust_policy(&mut self, document: &str) {
        self.trust_policy = parse_policy(document);
        self.trust_policy_document = document.to_owned();
    }
}

/// A policy document as given: a JSON value, or a string holding one.
fn policy_text(policy: &Value) -> String {
    match policy {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn parse_policy(document: &str) -> Value {
    serde_json::from_str(document).unwrap_or_else(|_| Value::String(document.to_owned()))
}

/// The emulated IAM's roles, by account and name (names are unique in an account whatever their case
/// or path, as in IAM), listed in name order.
#[derive(Debug, Default)]
pub(crate) struct RoleRegistry {
    roles: BTreeMap<(String, String), Role>,
    /// The rows changed since the last commit.
    journal: Journal,
}

fn role_key(account_id: &str, name: &str) -> (String, String) {
    (account_id.to_owned(), name.to_ascii_lowercase())
}

fn role_row((account_id, name): &(String, String)) -> Row {
    Row::Role {
        account_id: account_id.clone(),
        name: name.clone(),
    }
}

impl RoleRegistry {
    /// Adds a role with this trust policy, or replaces the trust policy of the role with this ARN.
    pub fn put(&mut self, arn: &str, trust_policy: Value) {
        let (account_id, name) = role_account_and_name(arn);
        let key = role_key(account_id, name);
        self.journal.record(role_row(&key));
        match self.roles.get_mut(&key) {
            Some(role) if role.arn == arn => {
                role.trust_policy_document = policy_text(&trust_policy);
                role.trust_policy = trust_policy;
            }
            _ => {
                self.roles.insert(key, Role::from_arn(arn, trust_policy));
            }
        }
    }

    /// Adds a role; one of the same name in the account is replaced.
    pub fn insert(&mut self, role: Role) {
        let key = role_key(&role.account_id, &role.name);
        self.journal.record(role_row(&key));
        self.roles.insert(key, role);
    }

    pub fn delete(&mut self, arn: &str) -> Option<Role> {
        let (account_id, name) = role_account_and_name(arn);
        let key = role_key(account_id, name);
        if self.roles.get(&key)?.arn != arn {
            return None;
        }
        self.journal.record(role_row(&key));
        self.roles.remove(&key)
    }

    /// The role with exactly this ARN.
    pub fn get(&self, arn: &str) -> Option<&Role> {
        let (account_id, name) = role_account_and_name(arn);
        self.roles
            .get(&role_key(account_id, name))
            .filter(|role| role.arn == arn)
    }

    pub fn get_mut(&mut self, arn: &str) -> Option<&mut Role> {
        let (account_id, name) = role_account_and_name(arn);
        let key = role_key(account_id, name);
        self.journal.record(role_row(&key));
        self.roles.get_mut(&key).filter(|role| role.arn == arn)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Role> {
        self.roles.values()
    }

    pub fn by_name(&self, account_id: &str, name: &str) -> Option<&Role> {
        self.roles.get(&role_key(account_id, name))
    }

    pub fn by_name_mut(&mut self, account_id: &str, name: &str) -> Option<&mut Role> {
        let key = role_key(account_id, name);
        self.journal.record(role_row(&key));
        self.roles.get_mut(&key)
    }

    pub fn remove_by_name(&mut self, account_id: &str, name: &str) -> Option<Role> {
        let key = role_key(account_id, name);
        self.journal.record(role_row(&key));
        self.roles.remove(&key)
    }

    /// The rows changed since the last call.
    pub fn take_changes(&mut self) -> std::collections::BTreeSet<Row> {
        self.journal.take()
    }

    /// The roles of an account in name order, starting after the (lower-cased) name `after`.
    pub fn in_account<'a>(&'a self, account_id: &str, after: Option<&str>) -> impl Iterator<Item = &'a Role> + 'a {
        let start = match after {
            Some(name) => Bound::Excluded(role_key(account_id, name)),
            None => Bound::Included(role_key(account_id, "")),
        };
        let account = account_id.to_owned();
        self.roles
            .range((start, Bound::Unbounded))
            .take_while(move |((role_account, _), _)| *role_account == account)
            .map(|(_, role)| role)
    }

    pub fn count_in_account(&self, account_id: &str) -> usize {
        self.in_account(account_id, None).count()
    }

    /// The trust policy of a role EKS can see at `now` (epoch seconds): a new role reaches EKS only once IAM has
    /// propagated it.
    pub fn visible_to_eks(&self, arn: &str, now: f64) -> Option<&Value> {
        self.get(arn)
            .filter(|role| role.visible_to_eks_at <= now)
            .map(|role| &role.trust_policy)
    }
}
