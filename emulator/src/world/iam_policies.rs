//! IAM's permission policies: customer managed policies (by ARN), the AWS managed policies whose documents this
//! emulator carries, and the documents that every policy kind resolves to when a request is authorized.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::journal::{Journal, Row};
use crate::clock::now_epoch_seconds;
use crate::ids::new_policy_id;

/// A customer managed policy, as IAM's GetPolicy describes it (one version: the default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManagedPolicy {
    /// `arn:{partition}:iam::{account}:policy{path}{name}`.
    pub arn: String,
    pub account_id: String,
    pub name: String,
    /// `/` or `/a/b/`.
    pub path: String,
    /// `ANPA…`.
    pub policy_id: String,
    pub description: Option<String>,
    /// The default version's document, as given.
    pub document: String,
    /// Epoch seconds.
    pub created_at: f64,
}

impl ManagedPolicy {
    pub fn new(partition: &str, account_id: &str, path: &str, name: &str, document: &str) -> Self {
        Self {
            arn: format!("arn:{partition}:iam::{account_id}:policy{path}{name}"),
            account_id: account_id.to_owned(),
            name: name.to_owned(),
            path: path.to_owned(),
            policy_id: new_policy_id(),
            description: None,
            document: document.to_owned(),
            created_at: now_epoch_seconds(),
        }
    }
}

/// The customer managed policies of every account, by ARN.
#[derive(Debug, Default)]
pub(crate) struct PolicyRegistry {
    policies: BTreeMap<String, ManagedPolicy>,
    /// The rows changed since the last commit.
    journal: Journal,
}

impl PolicyRegistry {
    pub fn insert(&mut self, policy: ManagedPolicy) {
        self.journal.record(Row::Policy(policy.arn.clone()));
        self.policies.insert(policy.arn.clone(), policy);
    }

    /// The rows changed since the last call.
    pub fn take_changes(&mut self) -> std::collections::BTreeSet<Row> {
        self.journal.take()
    }

    pub fn get(&self, arn: &str) -> Option<&ManagedPolicy> {
        self.policies.get(arn)
    }

    pub fn get_mut(&mut self, arn: &str) -> Option<&mut ManagedPolicy> {
        self.journal.record(Row::Policy(arn.to_owned()));
        self.policies.get_mut(arn)
    }

    pub fn remove(&mut self, arn: &str) -> Option<ManagedPolicy> {
        self.journal.record(Row::Policy(arn.to_owned()));
        self.policies.remove(arn)
    }

    /// The policies of an account, in ARN order.
    pub fn in_account<'a>(&'a self, account_id: &'a str) -> impl Iterator<Item = &'a ManagedPolicy> + 'a {
        self.policies
            .values()
            .filter(move |policy| policy.account_id == account_id)
    }

    /// The document of the managed policy `arn`: a customer's, or an AWS managed one this emulator carries. An AWS
    /// managed policy it does not carry has no document here, so it grants nothing.
    pub fn document(&self, arn: &str) -> Option<Value> {
        if let Some(policy) = self.policies.get(arn) {
            return serde_json::from_str(&policy.document).ok();
        }
        aws_managed_document(arn).cloned()
    }
}

/// The AWS managed policies whose documents are carried (`aws_managed_policies.json`), by name.
static AWS_MANAGED: LazyLock<BTreeMap<String, Value>> =
    LazyLock::new(|| serde_json::from_str(include_str!("aws_managed_policies.json")).unwrap_or_default());

/// The document of an AWS managed policy (`arn:{partition}:iam::aws:policy/{name}`), if it is one of those carried.
pub(crate) fn aws_managed_document(arn: &str) -> Option<&'static Value> {
    let parts = pia_core::arn::ArnParts::split(arn)?;
    if parts.service != "iam" || parts.account != "aws" {
        return None;
    }
    let name = parts.resource.strip_prefix("policy/")?;
    AWS_MANAGED.get(name.rsplit('/').next()?)
}

/// The inline policies of a role or a user: name → document as given.
pub type InlinePolicies = BTreeMap<String, String>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_carried_aws_managed_policies_are_policies() {
        assert!(AWS_MANAGED.len() >= 8);
        for (name, document) in AWS_MANAGED.iter() {
            assert!(pia_trust::PolicyDocument::from_value(document).is_ok(), "{name}");
        }
        assert!(aws_managed_document("arn:aws:iam::aws:policy/AdministratorAccess").is_some());
        assert!(aws_managed_document("arn:aws-cn:iam::aws:policy/AmazonEKSWorkerNodePolicy").is_some());
        assert!(aws_managed_document("arn:aws:iam::aws:policy/NoSuchPolicy").is_none());
        assert!(aws_managed_document("arn:aws:iam::111122223333:policy/AdministratorAccess").is_none());
    }
}
