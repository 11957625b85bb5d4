//! The resource types that stacks and Cloud Control manage, behind one interface. A type either runs a resource
//! provider's handlers over the handler protocol (as CloudFormation runs a registered type's function; this is how
//! `AWS::EKS::PodIdentityAssociation` is served, by this project's own provider), or is one of the emulated
//! services' own resources (IAM roles and policies, EKS clusters and add-ons), made through those services' actions with the caller's
//! identity, so that their rules and IAM authorization apply exactly as to a direct call.

mod caller;
mod eks_addon;
mod eks_cluster;
pub(crate) mod handler_protocol;
mod iam;
mod registry;
mod schema;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

pub use handler_protocol::HandlerInvoker;
pub(crate) use registry::Registry;
pub(crate) use schema::TypeSchema;

use crate::context::RequestContext;
use crate::world::identities::IssuedCredentials;
use crate::world::store::Store;
use handler_protocol::{Action, Operation};

/// Why an operation on a resource failed: a handler error code and CloudFormation's status reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub(crate) struct Failure {
    pub code: String,
    pub message: String,
}

impl Failure {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }
}

/// Who acts and where: the caller (for the emulated services' own resources), credentials for handlers (a session
/// acting as the caller, as CloudFormation passes them), and the stack's tags.
#[derive(Debug, Clone)]
pub(crate) struct Scope {
    pub context: RequestContext,
    pub credentials: IssuedCredentials,
    pub account_id: String,
    pub region: String,
    pub partition: &'static str,
    pub stack_id: Option<String>,
    pub stack_name: Option<String>,
    pub stack_tags: BTreeMap<String, String>,
    pub system_tags: BTreeMap<String, String>,
    /// Callback delays are divided by this (1: real time).
    pub time_compression: f64,
}

/// A resource as a type made it: its physical id (what `Ref` gives) and its whole model (what `Fn::GetAtt` reads).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Made {
    pub physical_id: String,
    pub model: Value,
}

/// One page of a LIST: the models, and the token of the next page if there is one.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Page {
    pub models: Vec<Value>,
    pub next_token: Option<String>,
}

/// A resource type the emulator can manage.
#[derive(Clone)]
pub(crate) enum ResourceType {
    /// A registered provider, run over the handler protocol.
    Handlers {
        type_name: String,
        schema: TypeSchema,
        invoker: Arc<dyn HandlerInvoker>,
    },
    IamRole,
    IamManagedPolicy,
    IamPolicy,
    EksCluster,
    EksAddon,
    /// `AWS::CDK::Metadata`: what CDK records about an app; CloudFormation keeps it and nothing else.
    CdkMetadata,
}

impl ResourceType {
    pub fn schema(&self) -> TypeSchema {
        match self {
            ResourceType::Handlers { schema, .. } => schema.clone(),
            ResourceType::IamRole => iam::role_schema(),
            ResourceType::IamManagedPolicy => iam::managed_policy_schema(),
            ResourceType::IamPolicy => iam::policy_schema(),
            ResourceType::EksCluster => eks_cluster::schema(),
            ResourceType::EksAddon => eks_addon::schema(),
            ResourceType::CdkMetadata => TypeSchema::new(&[], &[], &[]),
        }
    }

    pub async fn create(
        &self,
        store: &Store,
        scope: &Scope,
        logical_id: &str,
        desired: &Value,
    ) -> Result<Made, Failure> {
        match self {
            ResourceType::Handlers {
                type_name,
                schema,
                invoker,
            } => {
                let operation = Operation {
                    action: Action::Create,
                    type_name,
                    scope,
                    logical_id,
                    desired: desired.clone(),
                    previous: None,
                };
                let model = handler_protocol::run(invoker.as_ref(), operation).await?;
                Ok(Made {
                    physical_id: schema.primary_identifier_of(&model),
                    model,
                })
            }
            ResourceType::IamRole => iam::create_role(store, scope, logical_id, desired),
            ResourceType::IamManagedPolicy => iam::create_managed_policy(store, scope, logical_id, desired),
            ResourceType::IamPolicy => iam::create_policy(store, scope, logical_id, desired),
            ResourceType::EksCluster => eks_cluster::create(store, scope, logical_id, desired),
            ResourceType::EksAddon => eks_addon::create(store, scope, desired),
            ResourceType::CdkMetadata => Ok(Made {
                physical_id: crate::ids::new_uuid(),
                model: desired.clone(),
            }),
        }
    }

    pub async fn update(
        &self,
        store: &Store,
        scope: &Scope,
        logical_id: &str,
        current: &Made,
        desired: &Value,
        previous: &Value,
    ) -> Result<Made, Failure> {
        match self {
            ResourceType::Handlers {
                type_name,
                schema,
                invoker,
            } => {
                // The desired model carries the identifier and read-only values of the resource being updated.
                let mut desired = desired.clone();
                schema.carry_read_only(&current.model, &mut desired);
                let operation = Operation {
                    action: Action::Update,
                    type_name,
                    scope,
                    logical_id,
                    desired,
                    previous: Some(previous.clone()),
                };
                let model = handler_protocol::run(invoker.as_ref(), operation).await?;
                Ok(Made {
                    physical_id: schema.primary_identifier_of(&model),
                    model,
                })
            }
            ResourceType::IamRole => iam::update_role(store, scope, current, desired, previous),
            ResourceType::IamManagedPolicy => iam::update_managed_policy(store, scope, current, desired, previous),
            ResourceType::IamPolicy => iam::update_policy(store, scope, current, desired, previous),
            ResourceType::EksCluster => eks_cluster::update(store, scope, current, desired),
            ResourceType::EksAddon => eks_addon::update(store, scope, current, desired, previous),
            ResourceType::CdkMetadata => Ok(Made {
                physical_id: current.physical_id.clone(),
                model: desired.clone(),
            }),
        }
    }

    /// Deletes the resource; one that is already gone counts as deleted, as CloudFormation has it.
    pub async fn delete(&self, store: &Store, scope: &Scope, logical_id: &str, current: &Made) -> Result<(), Failure> {
        match self {
            ResourceType::Handlers { type_name, invoker, .. } => {
                let operation = Operation {
                    action: Action::Delete,
                    type_name,
                    scope,
                    logical_id,
                    desired: current.model.clone(),
                    previous: None,
                };
                match handler_protocol::run(invoker.as_ref(), operation).await {
                    Ok(_) => Ok(()),
                    Err(failure) if failure.code == "NotFound" => Ok(()),
                    Err(failure) => Err(failure),
                }
            }
            ResourceType::IamRole => iam::delete_role(store, scope, current),
            ResourceType::IamManagedPolicy => iam::delete_managed_policy(store, scope, current),
            ResourceType::IamPolicy => iam::delete_policy(store, scope, current),
            ResourceType::EksCluster => eks_cluster::delete(store, scope, current),
            ResourceType::EksAddon => eks_addon::delete(store, scope, current),
            ResourceType::CdkMetadata => Ok(()),
        }
    }

    /// The resource's model as it is now (drift detection's actual properties); NotFound when it is gone.
    pub async fn read(&self, store: &Store, scope: &Scope, logical_id: &str, current: &Made) -> Result<Value, Failure> {
        match self {
            ResourceType::Handlers { type_name, invoker, .. } => {
                let operation = Operation {
                    action: Action::Read,
                    type_name,
                    scope,
                    logical_id,
                    desired: current.model.clone(),
                    previous: None,
                };
                handler_protocol::run(invoker.as_ref(), operation).await
            }
            // A read is the caller's IAM call too (what CloudFormation's IAM handlers need to read).
            ResourceType::IamRole => {
                iam::allow_read(
                    store,
                    scope,
                    "iam:GetRole",
                    &iam::role_arn(store, scope, &current.physical_id),
                )?;
                iam::read_role(store, scope, current)
            }
            ResourceType::IamManagedPolicy => {
                iam::allow_read(store, scope, "iam:GetPolicy", &current.physical_id)?;
                iam::read_managed_policy(store, current)
            }
            ResourceType::IamPolicy => iam::read_policy(store, current),
            ResourceType::EksCluster => eks_cluster::read(store, current),
            ResourceType::EksAddon => eks_addon::read(store, current),
            ResourceType::CdkMetadata => Ok(current.model.clone()),
        }
    }

    /// The page after `next_token` of the resources matching `model` (for a provider: what its LIST handler takes,
    /// e.g. the cluster of associations); the emulated services' own types have no LIST here.
    pub async fn list(&self, scope: &Scope, model: &Value, next_token: Option<&str>) -> Result<Page, Failure> {
        match self {
            ResourceType::Handlers { type_name, invoker, .. } => {
                let operation = Operation {
                    action: Action::List,
                    type_name,
                    scope,
                    logical_id: "",
                    desired: model.clone(),
                    previous: None,
                };
                handler_protocol::list_page(invoker.as_ref(), operation, next_token).await
            }
            ResourceType::IamRole
            | ResourceType::IamManagedPolicy
            | ResourceType::IamPolicy
            | ResourceType::EksCluster
            | ResourceType::EksAddon
            | ResourceType::CdkMetadata => Err(Failure::new(
                "InvalidRequest",
                "the emulated services' own resource types cannot be listed",
            )),
        }
    }
}
