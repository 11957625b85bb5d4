//! Placeholder while the crate is written.
pub mod arn;
