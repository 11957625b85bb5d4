//! The emulated IAM (query protocol, API version 2010-05-08): roles and the managed policies attached to
//! them. Its roles are the role registry that EKS checks, so a role created here can be used in
//! CreatePodIdentityAssociation at once (real IAM takes a few seconds to propagate).
//!
//! Roles live in the caller's account. Managed policies: any AWS-managed policy ARN
//! (`arn:aws:iam::aws:policy/…`) can be attached; customer-managed policies do not exist here.

mod params;
mod policies;
mod roles;

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
];

pub(crate) fn handle(store: &Store, action: &str, params: &Params, context: &RequestContext) -> IamResult {
    let account = context.caller.account_id.as_str();
    let partition = pia_core::arn::ArnParts::split(&context.caller.arn).map_or("aws", |parts| parts.partition);
    match action {
        "CreateRole" => roles::create_role(store, params, partition, account),
        "GetRole" => roles::get_role(store, params, account),
        "UpdateAssumeRolePolicy" => roles::update_assume_role_policy(store, params, account),
        "DeleteRole" => roles::delete_role(store, params, account),
        "ListRoles" => roles::list_roles(store, params, account),
        "AttachRolePolicy" => policies::attach_role_policy(store, params, partition, account),
        "DetachRolePolicy" => policies::detach_role_policy(store, params, account),
        "ListAttachedRolePolicies" => policies::list_attached_role_policies(store, params, account),
        _ => Err(QueryError::new(
            400,
            "InvalidAction",
            format!("Could not find operation {action} for version 2010-05-08"),
        )),
    }
}
