//! Every problem of a configuration at once, each named by its key path (`clusters[0].region`), found with the
//! parsers the rest of the project uses: region names and ARNs of `pia-core`, policy documents of `pia-trust`.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use pia_core::arn::{ArnParts, RoleArn, is_account_id};
use pia_trust::PolicyDocument;
use serde_json::Value;

use super::EmulatorConfig;
use crate::tokens;

/// What is wrong at one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The key path, e.g. `roles[1].trust_policy`.
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// The longest delay of `role_propagation_seconds` and `association_propagation_seconds`, a day.
const MAX_PROPAGATION_SECONDS: f64 = 86_400.0;

#[derive(Default)]
struct Problems(Vec<ConfigProblem>);

impl Problems {
    fn add(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.0.push(ConfigProblem {
            key: key.into(),
            message: message.into(),
        });
    }

    fn account(&mut self, key: String, account_id: &str) {
        if !is_account_id(account_id) {
            self.add(key, format!("{account_id:?} is not an account id (12 digits)"));
        }
    }

    fn role_arn(&mut self, key: String, arn: &str) {
        if let Err(error) = arn.parse::<RoleArn>() {
            self.add(key, error.to_string());
        }
    }

    fn policy(&mut self, key: String, document: &Value) {
        if let Err(error) = PolicyDocument::from_value(document) {
            self.add(key, error.to_string());
        }
    }

    fn policies(&mut self, key: &str, managed_policy_arns: &[String], inline_policies: &BTreeMap<String, Value>) {
        for (index, arn) in managed_policy_arns.iter().enumerate() {
            let is_policy = ArnParts::split(arn)
                .is_some_and(|parts| parts.service == "iam" && parts.resource.starts_with("policy/"));
            if !is_policy {
                self.add(
                    format!("{key}.managed_policy_arns[{index}]"),
                    format!("{arn:?} is not an IAM policy ARN"),
                );
            }
        }
        for (name, document) in inline_policies {
            self.policy(format!("{key}.inline_policies.{name}"), document);
        }
    }
}

impl EmulatorConfig {
    /// Every problem of the configuration, in key order; empty when it can be used.
    pub fn problems(&self) -> Vec<ConfigProblem> {
        let mut problems = Problems::default();
        let mut names = HashSet::new();
        for (index, cluster) in self.clusters.iter().enumerate() {
            let key = |field: &str| format!("clusters[{index}].{field}");
            let valid_name = (1..=100).contains(&cluster.name.len())
                && cluster.name.starts_with(|c: char| c.is_ascii_alphanumeric())
                && cluster
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !valid_name {
                problems.add(key("name"), format!("{:?} is not a cluster name (1 to 100 letters, digits, - and _, beginning with a letter or digit)", cluster.name));
            } else if !names.insert(cluster.name.as_str()) {
                problems.add(
                    key("name"),
                    format!("{:?} is the name of an earlier cluster too", cluster.name),
                );
            }
            problems.account(key("account_id"), &cluster.account_id);
            if !pia_core::is_region_name(&cluster.region) {
                problems.add(key("region"), format!("{:?} is not a region name", cluster.region));
            } else if pia_core::partition_of_region(&cluster.region) != cluster.partition {
                problems.add(
                    key("partition"),
                    format!(
                        "{:?} is not the partition of {} ({})",
                        cluster.partition,
                        cluster.region,
                        pia_core::partition_of_region(&cluster.region)
                    ),
                );
            }
            if let Some(issuer) = &cluster.oidc_issuer
                && !issuer.starts_with("https://")
            {
                problems.add(key("oidc_issuer"), format!("{issuer:?} is not an https:// URL"));
            }
            if let Some(pem) = &cluster.signing_key_pem
                && let Err(error) = tokens::check_pem(pem)
            {
                problems.add(key("signing_key_pem"), error.to_string());
            }
        }
        for (index, role) in self.roles.iter().enumerate() {
            problems.role_arn(format!("roles[{index}].arn"), &role.arn);
            problems.policy(format!("roles[{index}].trust_policy"), &role.trust_policy);
            problems.policies(
                &format!("roles[{index}]"),
                &role.managed_policy_arns,
                &role.inline_policies,
            );
        }
        for (index, key) in self.access_keys.iter().enumerate() {
            for (field, value) in [
                ("access_key_id", &key.access_key_id),
                ("secret_access_key", &key.secret_access_key),
                ("user_name", &key.user_name),
            ] {
                if value.is_empty() {
                    problems.add(format!("access_keys[{index}].{field}"), "must not be empty");
                }
            }
            problems.account(format!("access_keys[{index}].account_id"), &key.account_id);
        }
        for (index, user) in self.users.iter().enumerate() {
            if user.user_name.is_empty() {
                problems.add(format!("users[{index}].user_name"), "must not be empty");
            }
            problems.account(format!("users[{index}].account_id"), &user.account_id);
            problems.policies(
                &format!("users[{index}]"),
                &user.managed_policy_arns,
                &user.inline_policies,
            );
        }
        problems.role_arn("node_role_arn".into(), &self.node_role_arn);
        for (key, seconds) in [
            ("role_propagation_seconds", self.role_propagation_seconds),
            ("association_propagation_seconds", self.association_propagation_seconds),
        ] {
            if !(0.0..=MAX_PROPAGATION_SECONDS).contains(&seconds) {
                problems.add(key, format!("{seconds} is not between 0 and {MAX_PROPAGATION_SECONDS}"));
            }
        }
        if !(self.callback_time_compression >= 1.0 && self.callback_time_compression.is_finite()) {
            problems.add(
                "callback_time_compression",
                format!("{} is not a number of at least 1", self.callback_time_compression),
            );
        }
        if self.max_associations_per_cluster == 0 {
            problems.add("max_associations_per_cluster", "must be at least 1");
        }
        if let Err(message) = self.connection_limits.validate() {
            problems.add("connection_limits", message);
        }
        for (index, fault) in self.faults.iter().enumerate() {
            if let Err(message) = fault.fault() {
                problems.add(format!("faults[{index}].fault"), message);
            }
            if fault.operation.is_empty() {
                problems.add(
                    format!("faults[{index}].operation"),
                    "an operation name, or * for every one",
                );
            }
        }
        for (key, rate) in self.chaos.iter().flat_map(|chaos| chaos.bad_rates()) {
            problems.add(
                format!("chaos.{key}"),
                format!("{rate} is not a probability between 0 and 1"),
            );
        }
        problems.0
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_default_configuration_has_no_problem() {
        assert_eq!(EmulatorConfig::default().problems(), Vec::new());
    }

    #[test]
    fn every_problem_is_named_by_its_key() {
        let config: EmulatorConfig = serde_json::from_value(json!({
            "clusters": [{"name": "a", "region": "us-east-1"}, {"name": "a", "region": "mars-1", "account_id": "12"}],
            "roles": [{"arn": "arn:aws:iam::111122223333:user/x", "trust_policy": {"Statement": "nope"},
                       "managed_policy_arns": ["AdministratorAccess"]}],
            "node_role_arn": "eks-node",
            "callback_time_compression": 0.5,
        }))
        .unwrap();
        let keys: Vec<String> = config.problems().into_iter().map(|p| p.key).collect();
        assert_eq!(
            keys,
            [
                "clusters[1].name",
                "clusters[1].account_id",
                "clusters[1].region",
                "roles[0].arn",
                "roles[0].trust_policy",
                "roles[0].managed_policy_arns[0]",
                "node_role_arn",
                "callback_time_compression",
            ]
        );
    }
}
