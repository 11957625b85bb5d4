//! CloudFormation templates, apart from any stack: parsing, parameters, conditions, rules, intrinsic
//! functions, resource order and outputs. Pure: everything outside the template (parameter store values,
//! exports, the resources that exist) comes in through arguments.
//!
//! A stack operation uses it in this order:
//! 1. [`Template::parse`] (JSON, or YAML with short-form tags and YAML 1.1's `yes`/`no`/`on`/`off`
//!    booleans; sections, limits and references checked, as ValidateTemplate does; [`summary`] is
//!    ValidateTemplate's answer). The API refuses a TemplateBody over [`MAX_TEMPLATE_BODY_BYTES`] first.
//!    Transforms are reported, not run.
//! 2. [`resolve_parameters`]: the caller's values over the defaults, constraints checked, Systems
//!    Manager types resolved through a lookup; each value tells whether it is NoEcho.
//! 3. [`evaluate_conditions`], then [`check_rules`].
//! 4. [`dependency_waves`]: the resources that exist under the conditions, in waves that may be created
//!    in parallel (deleted in reverse); a [`DependencyGraph`] for finer scheduling. It refuses a resource
//!    or output that names a resource conditioned out.
//! 5. For each resource, [`resolve`] its properties with an [`EvalContext`] whose [`ResourceLookup`]
//!    answers for the resources created so far.
//! 6. [`outputs`], once all resources exist.
//!
//! Every error is a [`TemplateError`] whose message is CloudFormation's.
//!
//! Apart from stacks, [`associations`] resolves a template's pod identity associations offline (the one part
//! of this layer the crate exports, for `pia trust check --template`).

// Parts of this layer (some accessors, the finer dependency graph) serve only tests and the parts of the stack API
// still to come.
#![cfg_attr(not(test), allow(dead_code))]

pub(crate) mod associations;
mod cidr;
mod conditions;
mod dependencies;
mod error;
mod intrinsics;
mod outputs;
mod parameters;
mod references;
mod rules;
mod sub;
mod summary;
#[allow(clippy::module_inception)]
mod template;
mod yaml;

#[cfg(test)]
mod examples_tests;
#[cfg(test)]
mod intrinsics_tests;
#[cfg(test)]
mod test_support;

// The stack engine and the API reach the layer through these (some only the tests, so far).
#[allow(unused_imports)]
pub(crate) use self::{
    conditions::{Conditions, evaluate_conditions},
    dependencies::{DependencyGraph, dependency_graph, dependency_waves},
    error::TemplateError,
    intrinsics::{EvalContext, NoResources, PseudoParameters, ResourceLookup, default_azs, resolve, url_suffix},
    outputs::{OutputDecl, ResolvedOutput, outputs},
    parameters::{ParameterDecl, ParameterType, ParameterValue, Parameters, resolve_parameters},
    rules::check_rules,
    summary::{CAPABILITY_IAM, CAPABILITY_NAMED_IAM, ParameterSummary, TemplateSummary, summary},
    template::{
        MAX_OUTPUTS, MAX_PARAMETERS, MAX_RESOURCES, MAX_TEMPLATE_BODY_BYTES, MAX_TEMPLATE_BYTES, ResourceDecl, Template,
    },
};
