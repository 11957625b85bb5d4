//! CloudFormation stacks: the template layer (`template`), the engine that deploys a template's resources
//! (`engine`), and the stack actions of CloudFormation's API (`api`).

pub(crate) mod api;
mod drift;
pub(crate) mod engine;
pub(crate) mod template;
