//! The provider end to end: handlers over the wire against the emulated EKS, the real `bootstrap` under a Lambda
//! Runtime API, and the resource schema. One test binary, so that CI links it once. (Chaos, hostile input and
//! timeouts stay binaries of their own: they drain the AWS SDK's process-wide retry quota on purpose.)

mod handlers;
mod lambda;
mod permissions;
mod schema;
mod stacks;
mod tls;
