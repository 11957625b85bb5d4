//! Every create and update path against the in-memory EKS: the outcome and exactly the EKS calls made. One test
//! binary for both.

mod create;
mod support;
mod update;
