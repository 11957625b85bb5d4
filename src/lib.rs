//! CloudFormation resource provider for `AWS::EKS::PodIdentityAssociation`.
//!
//! - [`protocol`]: the handler request/response wire format;
//! - [`schema`]: validation driven by the resource schema;
//! - [`eks_client`]: the handlers' EKS interface over aws-sdk-eks;
//! - [`provider`]: one invocation end to end, shared by [`lambda`], [`invoke_server`] and [`cli`].
//!
//! The handlers themselves live in the `pia-handlers` crate, the emulator in `pia-emulator`.

pub mod cli;
pub mod eks_client;
pub mod invoke_server;
pub mod lambda;
pub mod lambda_binary;
pub mod logging;
pub mod package;
pub mod protocol;
pub mod provider;
pub mod registration;
pub mod schema;

pub use provider::Provider;

/// A static musl build (`PIA_LAMBDA_TARGET=x86_64-unknown-linux-musl`) brings its own allocator, for every binary of
/// this crate: musl's is slow under the many small allocations of JSON and the AWS SDK. The shipped glibc build
/// keeps glibc's.
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
