//! The domain facts of EKS Pod Identity, written once and used by the handlers, the trust tooling and the emulator:
//! the ARNs involved (cluster, role, association) and the partition a region belongs to ([`arn`]), the service
//! principal and the session tags EKS Auth sets ([`pod_identity`]). Types only: no I/O, no AWS SDK.

pub mod arn;
pub mod pod_identity;

pub use arn::{ArnError, AssociationArn, ClusterArn, RoleArn, is_region_name, partition_of_region};
