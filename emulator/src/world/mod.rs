//! The data layer: each service's data apart from its wire, the world that holds them all, and the
//! state database. Nothing here knows a request, a protocol or a service's rules.

pub(crate) mod cloudformation;
pub(crate) mod control_plane;
mod database;
pub(crate) mod eks;
pub(crate) mod eks_auth;
pub(crate) mod iam;
pub(crate) mod iam_policies;
pub(crate) mod iam_users;
pub(crate) mod identities;
pub(crate) mod journal;
pub(crate) mod stacks;
pub(crate) mod state;
pub(crate) mod store;
