//! The request being decided; its condition keys are looked up without regard to case.

use std::collections::BTreeMap;

use super::principal::RequestPrincipal;

/// What is asked: a principal, an action, optionally a resource, and the request's condition keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    pub principal: RequestPrincipal,
    /// Such as `sts:AssumeRole`.
    pub action: String,
    /// The resource ARN. `None` for trust policies, whose resource is the role itself; statements'
    /// `Resource` elements are then not tested.
    pub resource: Option<String>,
    /// Lower-cased key → (key as given, values).
    keys: BTreeMap<String, (String, Vec<String>)>,
}

impl RequestContext {
    pub fn new(principal: RequestPrincipal, action: impl Into<String>) -> Self {
        Self {
            principal,
            action: action.into(),
            resource: None,
            keys: BTreeMap::new(),
        }
    }

    /// Adds one value to `key` (a second call makes the key multi-valued). Keys are case-insensitive.
    pub fn with_value(mut self, key: &str, value: impl Into<String>) -> Self {
        self.keys
            .entry(key.to_ascii_lowercase())
            .or_insert_with(|| (key.to_owned(), Vec::new()))
            .1
            .push(value.into());
        self
    }

    /// Sets all the values of `key`, replacing any it had; an empty list behaves as an absent key.
    pub fn with_values<I, V>(mut self, key: &str, values: I) -> Self
    where
        I: IntoIterator<Item = V>,
        V: Into<String>,
    {
        self.keys.insert(
            key.to_ascii_lowercase(),
            (key.to_owned(), values.into_iter().map(Into::into).collect()),
        );
        self
    }

    pub fn with_resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self
    }

    /// The values of `key` (any case), if the request has it.
    pub fn values(&self, key: &str) -> Option<&[String]> {
        self.keys
            .get(&key.to_ascii_lowercase())
            .map(|(_, values)| values.as_slice())
    }

    /// Every key (as given) and its values.
    pub fn keys(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.keys
            .values()
            .map(|(name, values)| (name.as_str(), values.as_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::test_support::pods;

    #[test]
    fn context_keys_are_case_insensitive() {
        let request = RequestContext::new(pods(), "sts:AssumeRole")
            .with_value("aws:TagKeys", "a")
            .with_value("AWS:TAGKEYS", "b");
        assert_eq!(
            request.values("aws:tagkeys"),
            Some(&["a".to_owned(), "b".to_owned()][..])
        );
        let replaced = request.with_values("aws:TagKeys", Vec::<String>::new());
        assert_eq!(replaced.values("aws:TagKeys"), Some(&[][..]));
        assert_eq!(replaced.keys().count(), 1);
    }
}
