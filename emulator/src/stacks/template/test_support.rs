//! What the tests share: a stack's pseudo parameters and resources that exist.

use std::collections::BTreeMap;

use serde_json::Value;

use super::intrinsics::{PseudoParameters, ResourceLookup, url_suffix};

pub(super) fn pseudo() -> PseudoParameters {
    PseudoParameters {
        account_id: "111122223333".to_owned(),
        region: "eu-west-1".to_owned(),
        partition: "aws".to_owned(),
        url_suffix: url_suffix("aws").to_owned(),
        stack_name: "demo".to_owned(),
        stack_id: "arn:aws:cloudformation:eu-west-1:111122223333:stack/demo/0f6c2e1a-0000-4000-8000-000000000000"
            .to_owned(),
        notification_arns: vec!["arn:aws:sns:eu-west-1:111122223333:events".to_owned()],
    }
}

/// Resources that exist: their physical ids and attributes.
#[derive(Default)]
pub(super) struct Created {
    resources: BTreeMap<String, (String, BTreeMap<String, Value>)>,
}

impl Created {
    pub(super) fn with(mut self, logical_id: &str, physical_id: &str, attributes: &[(&str, Value)]) -> Self {
        let attributes = attributes
            .iter()
            .map(|(name, value)| (name.to_string(), value.clone()))
            .collect();
        self.resources
            .insert(logical_id.to_owned(), (physical_id.to_owned(), attributes));
        self
    }
}

impl ResourceLookup for Created {
    fn physical_id(&self, logical_id: &str) -> Option<String> {
        self.resources.get(logical_id).map(|(id, _)| id.clone())
    }

    fn attribute(&self, logical_id: &str, name: &str) -> Option<Value> {
        self.resources.get(logical_id)?.1.get(name).cloned()
    }
}
