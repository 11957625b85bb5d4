//! CloudFormation stacks: the template layer (`template`).

pub(crate) mod template;
