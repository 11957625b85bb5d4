//! CloudFormation resource provider for `AWS::EKS::PodIdentityAssociation`: what the Lambda `bootstrap` runs.
//!
//! - [`protocol`]: the handler request/response wire format;
//! - [`schema`]: validation driven by the resource schema;
//! - [`eks_client`]: the handlers' EKS interface over aws-sdk-eks;
//! - [`provider`]: one invocation end to end, shared by [`lambda`] and the `pia` command's local servers;
//! - [`logging`]: structured logs that never carry a secret.
//!
//! The handlers themselves live in the `pia-handlers` crate; the `pia` command, the emulator and the trust tooling
//! in crates of their own, none of which this one depends on.

pub mod eks_client;
pub mod lambda;
pub mod logging;
pub mod protocol;
pub mod provider;
pub mod schema;

pub use provider::Provider;

/// A static musl build (`PIA_LAMBDA_TARGET=x86_64-unknown-linux-musl`) brings its own allocator: musl's is slow under
/// the many small allocations of JSON and the AWS SDK. The shipped glibc build keeps glibc's.
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
