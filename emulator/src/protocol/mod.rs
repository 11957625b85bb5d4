//! The wire formats that the services speak, beneath the services so that each can answer in its own.

pub(crate) mod json;
pub(crate) mod kubernetes;
pub(crate) mod query;
pub(crate) mod rest_json;
