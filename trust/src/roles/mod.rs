//! Creating the association's IAM role the way `eksctl create podidentityassociation` does, without
//! destroying what an existing role has:
//!
//! 1. [`plan_role`] reads only and checks every input before anything is written: the path, each
//!    permission policy's ARN and existence (GetPolicy), that the credentials are of the cluster's account.
//!    `GetRole`: absent (`NoSuchEntity`) → the role will be created with the pod identity trust policy;
//!    present → its trust policy is merged (the pod identity statement added, every other statement kept;
//!    nothing when it admits the cluster's pods already) or, with [`ExistingPolicy::Replace`], replaced.
//!    `ListAttachedRolePolicies` (all pages) → only missing permission policies will be attached; policies
//!    attached by other means are left alone.
//! 2. [`apply_role_plan`] makes the writes; when one fails, it undoes the earlier ones (a role it created is
//!    deleted again).
//!
//! A second run with the same input therefore writes nothing ("unchanged").

mod apply;
mod error;
mod merge;
mod outcome;
mod plan;
mod reads;

pub use apply::apply_role_plan;
pub use aws_sdk_iam::Client as IamClient;
pub use error::RoleError;
pub use outcome::RoleOutcome;
pub use plan::{ExistingPolicy, RoleChange, RolePlan, RoleSpec, plan_role};
pub use reads::{ExistingRole, fetch_role};

/// Plans and applies: the role as `spec` describes it, for credentials of `caller_account`.
pub async fn ensure_role(client: &IamClient, spec: &RoleSpec, caller_account: &str) -> Result<RoleOutcome, RoleError> {
    let plan = plan_role(client, spec, caller_account).await?;
    apply_role_plan(client, &plan).await
}
