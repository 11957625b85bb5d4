//! The resource types an emulator knows: the emulated services' own (IAM), and the providers registered with
//! [`crate::Emulator::register_handlers`], each with its schema.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;

use super::{HandlerInvoker, ResourceType, TypeSchema};

#[derive(Default)]
pub(crate) struct Registry {
    handlers: Mutex<BTreeMap<String, ResourceType>>,
}

impl Registry {
    /// Serves `schema`'s type (its `typeName`) by running `invoker`'s handlers; replaces an earlier registration.
    pub fn register(&self, schema: &Value, invoker: Arc<dyn HandlerInvoker>) -> Option<String> {
        let type_name = schema["typeName"].as_str()?.to_owned();
        let registered = ResourceType::Handlers {
            type_name: type_name.clone(),
            schema: TypeSchema::from_schema(schema),
            invoker,
        };
        self.handlers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(type_name.clone(), registered);
        Some(type_name)
    }

    /// The type `type_name`, if the emulator can manage it.
    pub fn get(&self, type_name: &str) -> Option<ResourceType> {
        match type_name {
            "AWS::IAM::Role" => Some(ResourceType::IamRole),
            "AWS::IAM::ManagedPolicy" => Some(ResourceType::IamManagedPolicy),
            "AWS::IAM::Policy" => Some(ResourceType::IamPolicy),
            "AWS::EKS::Cluster" => Some(ResourceType::EksCluster),
            "AWS::EKS::Addon" => Some(ResourceType::EksAddon),
            "AWS::CDK::Metadata" => Some(ResourceType::CdkMetadata),
            other => self
                .handlers
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(other)
                .cloned(),
        }
    }
}
