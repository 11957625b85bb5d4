//! The emulated IAM (query protocol, API version 2010-05-08): roles and the managed policies attached to
//! them. Its roles are the role registry that EKS checks, so a role created here can be used in
//! CreatePodIdentityAssociation at once (real IAM takes a few seconds to propagate).
//!
//! Roles and customer managed policies live in the caller's account; roles carry inline policies too. Any AWS
//! managed policy ARN (`arn:aws:iam::aws:policy/…`) can be attached; those whose documents the emulator carries
//! grant what they grant on AWS, the others nothing. Every action is authorized first, on the role or policy it
//! names.

mod access;
mod inline;
mod managed;
mod params;
mod policies;
mod roles;

use crate::authz::authorize;
use crate::context::RequestContext;
use crate::protocol::query::{Params, QueryError};
use crate::world::store::Store;
use params::IamResult;

/// The actions served.
pub(crate) const ACTIONS: &[&str] = &[
    "CreateRole",
    "GetRole",
    "UpdateAssumeRolePolicy",
    "DeleteRole",
    "ListRoles",
    "AttachRolePolicy",
    "DetachRolePolicy",
    "ListAttachedRolePolicies",
    "PutRolePolicy",
    "GetRolePolicy",
    "DeleteRolePolicy",
    "ListRolePolicies",
    "CreatePolicy",
    "GetPolicy",
    "GetPolicyVersion",
    "DeletePolicy",
    "ListPolicies",
];

pub(crate) fn handle(store: &Store, action: &str, params: &Params, context: &RequestContext) -> IamResult {
    let account = context.caller.account_id.as_str();
    let partition = pia_core::arn::ArnParts::split(&context.caller.arn).map_or("aws", |parts| parts.partition);
    if ACTIONS.contains(&action) {
        let state = store.state();
        for ask in access::ask(&state, action, params, partition, account) {
            authorize(&state, context, &ask).map_err(|denied| QueryError::access_denied(denied.message))?;
        }
    }
    match action {
        "CreateRole" => roles::create_role(store, params, partition, account),
        "GetRole" => roles::get_role(store, params, account),
        "UpdateAssumeRolePolicy" => roles::update_assume_role_policy(store, params, account),
        "DeleteRole" => roles::delete_role(store, params, account),
        "ListRoles" => roles::list_roles(store, params, account),
        "AttachRolePolicy" => policies::attach_role_policy(store, params, partition, account),
        "DetachRolePolicy" => policies::detach_role_policy(store, params, account),
        "ListAttachedRolePolicies" => policies::list_attached_role_policies(store, params, account),
        "PutRolePolicy" => inline::put_role_policy(store, params, account),
        "GetRolePolicy" => inline::get_role_policy(store, params, account),
        "DeleteRolePolicy" => inline::delete_role_policy(store, params, account),
        "ListRolePolicies" => inline::list_role_policies(store, params, account),
        "CreatePolicy" => managed::create_policy(store, params, partition, account),
        "GetPolicy" => managed::get_policy(store, params),
        "GetPolicyVersion" => managed::get_policy_version(store, params),
        "DeletePolicy" => managed::delete_policy(store, params),
        "ListPolicies" => managed::list_policies(store, params, account),
        _ => Err(QueryError::new(
            400,
            "InvalidAction",
            format!("Could not find operation {action} for version 2010-05-08"),
        )),
    }
}
