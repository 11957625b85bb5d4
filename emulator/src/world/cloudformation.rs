//! CloudFormation's data: the registry's private types, their versions and their registrations.

use std::collections::BTreeMap;

use crate::ids::new_uuid;

#[derive(Debug, Default)]
pub(crate) struct Registry {
    registrations: BTreeMap<String, Registration>,
    /// Type ARN → its versions, oldest first.
    types: BTreeMap<String, Vec<String>>,
}

#[derive(Debug)]
struct Registration {
    type_arn: String,
    type_version_arn: String,
    /// DescribeTypeRegistration calls still answered IN_PROGRESS.
    pending_polls: u32,
}

/// A registration as one DescribeTypeRegistration finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Progress<'a> {
    pub complete: bool,
    pub type_arn: &'a str,
    pub type_version_arn: &'a str,
}

impl Registry {
    /// Adds the next version of a type and a registration of it, which reports IN_PROGRESS on its first
    /// poll (as the real registry does for minutes) and COMPLETE after; returns the registration token.
    pub fn register(&mut self, type_arn: String) -> String {
        let versions = self.types.entry(type_arn.clone()).or_default();
        let type_version_arn = format!("{type_arn}/{:08}", versions.len() + 1);
        versions.push(type_version_arn.clone());
        let token = new_uuid();
        self.registrations.insert(
            token.clone(),
            Registration {
                type_arn,
                type_version_arn,
                pending_polls: 1,
            },
        );
        token
    }

    /// The registration of a token, using up one IN_PROGRESS answer; `None` for an unknown token.
    pub fn poll(&mut self, token: &str) -> Option<Progress<'_>> {
        let registration = self.registrations.get_mut(token)?;
        let complete = registration.pending_polls == 0;
        registration.pending_polls = registration.pending_polls.saturating_sub(1);
        Some(Progress {
            complete,
            type_arn: &registration.type_arn,
            type_version_arn: &registration.type_version_arn,
        })
    }

    /// Whether `version_arn` is a registered version of the type `type_arn`.
    pub fn has_version(&self, type_arn: &str, version_arn: &str) -> bool {
        self.types
            .get(type_arn)
            .is_some_and(|versions| versions.iter().any(|version| version == version_arn))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registration_completes_on_its_second_poll() {
        let mut registry = Registry::default();
        let token = registry.register("arn:t".to_owned());
        let first = registry.poll(&token).unwrap();
        assert_eq!((first.complete, first.type_version_arn), (false, "arn:t/00000001"));
        assert!(registry.poll(&token).unwrap().complete);
        assert!(registry.poll("nope").is_none());
        registry.register("arn:t".to_owned());
        assert!(registry.has_version("arn:t", "arn:t/00000002"));
        assert!(!registry.has_version("arn:t", "arn:t/00000003"));
    }
}
