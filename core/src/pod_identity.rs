//! What EKS Pod Identity is made of, as EKS and EKS Auth name it.

/// The service principal a pod identity role's trust policy must allow.
pub const PRINCIPAL: &str = "pods.eks.amazonaws.com";

/// The session tags EKS Auth sets on every role session of a pod (unless the association disables session tags),
/// in the order EKS documents them.
pub const SESSION_TAG_KEYS: [&str; 6] = [
    "eks-cluster-arn",
    "eks-cluster-name",
    "kubernetes-namespace",
    "kubernetes-service-account",
    "kubernetes-pod-name",
    "kubernetes-pod-uid",
];
