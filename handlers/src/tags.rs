//! Tag sets and the minimal changes between them.

use std::collections::BTreeMap;

pub type TagMap = BTreeMap<String, String>;

/// Keys beginning with `aws:` (any case) belong to AWS: callers may not set them and Read must not report them.
pub fn is_reserved(key: &str) -> bool {
    key.get(..4).is_some_and(|prefix| prefix.eq_ignore_ascii_case("aws:"))
}

/// The tags an association should carry: stack tags, overridden by the template's own, without reserved keys.
/// CloudFormation's system tags (`aws:cloudformation:*`) are not sent: EKS refuses `aws:` keys from callers.
pub fn resource_tags(model_tags: &TagMap, stack_tags: &TagMap) -> TagMap {
    stack_tags
        .iter()
        .chain(model_tags)
        .filter(|(key, _)| !is_reserved(key))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

/// Tags as Read reports them: without the ones AWS owns, which would otherwise show as drift.
pub fn without_reserved(tags: TagMap) -> TagMap {
    tags.into_iter().filter(|(key, _)| !is_reserved(key)).collect()
}

/// The Untag and Tag calls an update needs.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TagChanges {
    pub to_remove: Vec<String>,
    pub to_set: TagMap,
}

/// Removes only what this stack set before and no longer wants (tags others added stay), and sets only what
/// the association does not already carry.
pub fn diff(previous: &TagMap, desired: &TagMap, actual: &TagMap) -> TagChanges {
    TagChanges {
        to_remove: previous
            .keys()
            .filter(|key| !desired.contains_key(*key) && actual.contains_key(*key))
            .cloned()
            .collect(),
        to_set: desired
            .iter()
            .filter(|(key, value)| actual.get(*key) != Some(value))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect(),
    }
}

/// Applies changes to a tag set, as EKS will once the calls succeed.
pub fn apply(mut tags: TagMap, changes: &TagChanges) -> TagMap {
    for key in &changes.to_remove {
        tags.remove(key);
    }
    tags.extend(changes.to_set.iter().map(|(key, value)| (key.clone(), value.clone())));
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> TagMap {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn reserved_keys_are_recognised_in_any_case() {
        assert!(is_reserved("aws:cloudformation:stack-name"));
        assert!(is_reserved("AWS:x"));
        assert!(is_reserved("Aws:"));
        assert!(!is_reserved("aws"));
        assert!(!is_reserved("team"));
        assert!(!is_reserved("éé"));
    }

    #[test]
    fn template_tags_override_stack_tags_and_reserved_are_dropped() {
        let merged = resource_tags(
            &tags(&[("team", "a"), ("aws:x", "1")]),
            &tags(&[("team", "stack"), ("env", "prod"), ("aws:cloudformation:stack-id", "s")]),
        );
        assert_eq!(merged, tags(&[("env", "prod"), ("team", "a")]));
    }

    #[test]
    fn diff_changes_only_what_differs() {
        let previous = tags(&[("keep", "1"), ("change", "old"), ("drop", "x")]);
        let desired = tags(&[("keep", "1"), ("change", "new"), ("add", "y")]);
        let actual = tags(&[("keep", "1"), ("change", "old"), ("drop", "x"), ("foreign", "z")]);
        let changes = diff(&previous, &desired, &actual);
        assert_eq!(changes.to_remove, vec!["drop".to_string()]);
        assert_eq!(changes.to_set, tags(&[("add", "y"), ("change", "new")]));
        assert_eq!(
            apply(actual, &changes),
            tags(&[("add", "y"), ("change", "new"), ("foreign", "z"), ("keep", "1")])
        );
    }

    #[test]
    fn no_changes_when_nothing_differs() {
        let same = tags(&[("a", "1")]);
        assert_eq!(diff(&same, &same, &same), TagChanges::default());
        // Absent and empty are alike: nothing to do.
        assert_eq!(
            diff(&TagMap::new(), &TagMap::new(), &TagMap::new()),
            TagChanges::default()
        );
        // A removed tag that is already gone needs no Untag call.
        assert_eq!(diff(&same, &TagMap::new(), &TagMap::new()), TagChanges::default());
    }
}
