//! Tag sets and the minimal changes between them.

use std::collections::BTreeMap;

use crate::error::HandlerError;
use crate::model::Tag;

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

/// The model's tags as a map. A key given twice, or a key beginning with `aws:`, is refused and named: collapsing
/// the one or dropping the other would silently make the association differ from the template.
pub fn model_tags(tags: Option<&[Tag]>) -> Result<TagMap, HandlerError> {
    let mut map = TagMap::new();
    for tag in tags.unwrap_or_default() {
        if is_reserved(&tag.key) {
            return Err(HandlerError::InvalidRequest(format!(
                "Tags: key {:?} begins with `aws:`, which is reserved for AWS",
                shown(&tag.key)
            )));
        }
        if map.insert(tag.key.clone(), tag.value.clone()).is_some() {
            return Err(HandlerError::InvalidRequest(format!(
                "Tags: key {:?} is given more than once",
                shown(&tag.key)
            )));
        }
    }
    Ok(map)
}

/// A key as a message quotes it: hostile input must not make the message long.
fn shown(key: &str) -> String {
    key.chars().take(128).collect()
}

/// The Untag and Tag calls an update needs.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TagChanges {
    pub to_remove: Vec<String>,
    pub to_set: TagMap,
}

/// What turns the tags the association carries into the desired ones: the desired set is the whole truth (model
/// tags and stack tags), so any other key is removed, except the `aws:` ones, which belong to AWS.
pub fn diff(desired: &TagMap, actual: &TagMap) -> TagChanges {
    TagChanges {
        to_remove: actual
            .keys()
            .filter(|key| !desired.contains_key(*key) && !is_reserved(key))
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
    fn diff_makes_the_association_carry_exactly_the_desired_tags() {
        let desired = tags(&[("keep", "1"), ("change", "new"), ("add", "y")]);
        let actual = tags(&[("keep", "1"), ("change", "old"), ("drop", "x"), ("aws:owner", "z")]);
        let changes = diff(&desired, &actual);
        assert_eq!(changes.to_remove, vec!["drop".to_string()]);
        assert_eq!(changes.to_set, tags(&[("add", "y"), ("change", "new")]));
        assert_eq!(
            apply(actual, &changes),
            tags(&[("add", "y"), ("aws:owner", "z"), ("change", "new"), ("keep", "1")])
        );
    }

    #[test]
    fn no_changes_when_nothing_differs() {
        let same = tags(&[("a", "1")]);
        assert_eq!(diff(&same, &same), TagChanges::default());
        // Absent and empty are alike: nothing to do.
        assert_eq!(diff(&TagMap::new(), &TagMap::new()), TagChanges::default());
    }

    #[test]
    fn duplicate_and_reserved_model_keys_are_refused_by_name() {
        let tag = |key: &str, value: &str| Tag {
            key: key.into(),
            value: value.into(),
        };
        let error = model_tags(Some(&[tag("team", "a"), tag("team", "b")])).unwrap_err();
        assert_eq!(error.to_string(), "Tags: key \"team\" is given more than once");
        let error = model_tags(Some(&[tag("aws:cloudformation:stack-name", "s")])).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("\"aws:cloudformation:stack-name\" begins with `aws:`")
        );
        assert_eq!(model_tags(Some(&[tag("team", "a")])).unwrap(), tags(&[("team", "a")]));
        assert_eq!(model_tags(None).unwrap(), TagMap::new());
    }
}
