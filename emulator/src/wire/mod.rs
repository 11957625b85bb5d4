//! The wire layer: the accept loop, and the dispatcher that tells the APIs on the one port apart, checks
//! signatures, applies injected faults, counts calls and hands each request to its service.

pub(crate) mod dispatch;
mod fault_response;
mod kubernetes_auth;
mod operation;
mod presigned;
pub(crate) mod server;
pub(crate) mod shared;
mod sigv4;
