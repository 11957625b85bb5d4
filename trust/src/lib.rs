//! IAM trust policies for EKS Pod Identity.
//!
//! The most common reason pods get no credentials is a role whose trust policy is wrong. This crate
//! - models IAM policy documents ([`policy`]): every legal form, errors that name the element at fault;
//! - generates the trust policies pod identity needs ([`generate`]);
//! - evaluates a request against a policy the way IAM does ([`evaluate()`]), for the emulated EKS Auth and
//!   the emulated control plane's role check as much as for the checker;
//! - checks a role's trust policy against an association and says what to change ([`check`]);
//! - creates or updates the role with aws-sdk-iam, idempotently, merging into an existing trust policy and
//!   undoing a half-made change ([`roles`]);
//! - diffs policies line by line, to show a change before it is made ([`diff`]).
//!
//! ```
//! use pia_trust::{PolicyDocument, RequestContext, RequestPrincipal, Decision, evaluate};
//!
//! let policy = PolicyDocument::parse(r#"{"Version": "2012-10-17", "Statement": {
//!     "Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": "sts:AssumeRole"}}"#)?;
//! let request = RequestContext::new(RequestPrincipal::Service("pods.eks.amazonaws.com".into()), "sts:AssumeRole")
//!     .with_value("aws:SourceAccount", "111122223333");
//! assert_eq!(evaluate(&policy, &request).decision, Decision::Allow);
//! # Ok::<(), pia_trust::PolicyError>(())
//! ```

pub use pia_core::arn;
pub mod check;
pub mod diff;
pub mod evaluate;
pub mod generate;
pub mod policy;
pub mod roles;

pub use arn::{ArnError, ClusterArn, RoleArn};
pub use check::{CheckError, CheckInput, Finding, Severity, TargetRoleInput, TrustReport, check_trust};
pub use evaluate::{AwsPrincipal, Decision, Evaluation, RequestContext, RequestPrincipal, evaluate};
pub use generate::{
    GenerateError, ServiceAccountScope, pod_identity_trust_policy, scoped_pod_identity_trust_policy,
    target_role_trust_policy,
};
pub use policy::{PolicyDocument, PolicyError};
pub use roles::{ExistingPolicy, RoleError, RoleOutcome, RolePlan, RoleSpec, apply_role_plan, ensure_role, plan_role};
