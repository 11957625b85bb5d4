//! An emulated EKS Pod Identity world on loopback, for tests and local runs.
//!
//! On one port ([`Emulator::endpoint`], for `AWS_ENDPOINT_URL`): the EKS control plane API for Pod
//! Identity associations (and tagging, DescribeCluster), IAM roles, STS GetCallerIdentity and
//! AssumeRole, and EKS Auth, each speaking its service's wire protocol so that unmodified AWS SDK
//! clients work against it. Requests must be SigV4-signed with a known access key (by default
//! [`config::DEFAULT_ACCESS_KEY_ID`] / [`config::DEFAULT_SECRET_ACCESS_KEY`], no session token), as AWS
//! checks them. Calls are counted and logged, faults can be injected per operation, and the world can
//! be kept in a state file across runs.
//!
//! ```no_run
//! # async fn demo() -> Result<(), pia_emulator::EmulatorError> {
//! let emulator = pia_emulator::Emulator::start(pia_emulator::EmulatorConfig::default()).await?;
//! let endpoint = emulator.endpoint(); // give it to the SDK as endpoint_url
//! # Ok(()) }
//! ```
//!
//! The server runs in a tokio task; it stops on [`Emulator::shutdown`] or when the last [`Emulator`]
//! handle is dropped.
//!
//! The modules stand in layers, each importing only those below it:
//! - the top: [`Emulator`] (`emulator`) and the Pod Identity [`agent`], which runs beside it;
//! - the wire (`wire`): the accept loop and the dispatcher (routing, SigV4, faults, call counts);
//! - the services, each answering its API's operations: `eks`, `iam`, `sts`, [`eks_auth`],
//!   `cloudformation`, `cloudcontrol` (over the `resources` stacks manage too), the clusters' [`kubernetes`] API
//!   (TokenRequest), and the pod identity [`webhook`];
//! - authorization (`authz`): the caller's IAM policies decide each request;
//! - the wire formats the services speak (`protocol`: query XML, rest-json errors);
//! - the data (`world`): each service's data apart from its wire, the world under its lock, the state file;
//! - the ground: [`config`] (with every listener's connection limits), the request context, identifiers, times, error kinds, faults and call counts,
//!   trust policy evaluation and the clusters' service-account [`tokens`].
//!
//! [`lambda_runtime_api`] stands apart: the Lambda Runtime API, for running the provider's function.

pub mod agent;
mod authz;
mod calls;
pub mod clients;
mod clock;
mod cloudcontrol;
mod cloudformation;
pub mod config;
mod connection_limits;
mod context;
mod eks;
pub mod eks_auth;
mod emulator;
mod error_kind;
mod faults;
mod iam;
mod ids;
pub mod kubernetes;
pub mod lambda_runtime_api;
mod protocol;
mod resources;
mod stacks;
mod sts;
pub mod tokens;
mod trust;
pub mod webhook;
mod wire;
mod world;

/// The accept loop of every listener, for serving a router on the emulator's own server stack (the benchmark's floor).
pub use wire::server::serve;

pub use config::{
    AccessKeyConfig, ClusterConfig, ConnectionLimits, DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCOUNT_ID, DEFAULT_CLUSTER,
    DEFAULT_MAX_ASSOCIATIONS_PER_CLUSTER, DEFAULT_PARTITION, DEFAULT_REGION, DEFAULT_SECRET_ACCESS_KEY,
    DEFAULT_USER_NAME, EmulatorConfig, RoleConfig, pod_identity_trust_policy,
};
pub use context::CallerIdentity;
pub use eks::error::{ROLE_DOES_NOT_EXIST, TRUST_POLICY_INVALID};
pub use emulator::{Emulator, EmulatorError};
pub use error_kind::ErrorKind;
pub use faults::{ChaosConfig, Fault};
pub use resources::HandlerInvoker;
/// A template's pod identity associations, resolved without deploying it.
pub use stacks::template::associations::{
    InvalidTemplate, StackPlace, TemplateAssociation, TemplateRole, TemplateValue, pod_identity_associations,
};
pub use world::eks::Association;
pub use world::iam::Role;
pub use world::identities::IssuedCredentials;
