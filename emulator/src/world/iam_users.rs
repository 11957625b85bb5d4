//! IAM's users and the permission policies they hold. Users come from the configuration, as their access keys do:
//! the configuration is the source of truth for who may sign requests.

use std::collections::BTreeMap;

use super::iam_policies::InlinePolicies;
use crate::ids::user_id;

/// An IAM user.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct User {
    pub account_id: String,
    pub name: String,
    /// `AIDA…`.
    pub user_id: String,
    pub inline_policies: InlinePolicies,
    /// Managed policy ARNs, in attachment order.
    pub attached_policies: Vec<String>,
}

impl User {
    pub fn new(account_id: &str, name: &str) -> Self {
        Self {
            account_id: account_id.to_owned(),
            name: name.to_owned(),
            user_id: user_id(account_id, name),
            inline_policies: InlinePolicies::new(),
            attached_policies: Vec::new(),
        }
    }
}

/// Users by account and name (names are unique in an account whatever their case, as in IAM).
#[derive(Debug, Default)]
pub(crate) struct UserRegistry {
    users: BTreeMap<(String, String), User>,
}

impl UserRegistry {
    pub fn insert(&mut self, user: User) {
        self.users
            .insert((user.account_id.clone(), user.name.to_ascii_lowercase()), user);
    }

    pub fn get(&self, account_id: &str, name: &str) -> Option<&User> {
        self.users.get(&(account_id.to_owned(), name.to_ascii_lowercase()))
    }
}
