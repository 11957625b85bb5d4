//! The one call of each cluster's Kubernetes API that pods need from outside: TokenRequest
//! (`POST /api/v1/namespaces/{namespace}/serviceaccounts/{name}/token`, `authentication.k8s.io/v1`), with which the
//! kubelet gets a pod's projected service-account token, and `pia pod exec` a token for any pod of the running
//! emulator.
//!
//! Each cluster's API is served under `/kubernetes/{cluster}` on the emulator's port, not at the `https://…eks…`
//! endpoint DescribeCluster reports: that name does not resolve here, and serving TLS for it would need the
//! cluster's CA key, which the emulator drops once the CA certificate is made. A kubeconfig `server` of
//! `http://127.0.0.1:PORT/kubernetes/CLUSTER` reaches it.
//!
//! Requests are authenticated by the wire layer as EKS authenticates them (a `k8s-aws-v1.` bearer: a presigned STS
//! GetCallerIdentity for the cluster) and reach the handler with the caller in the [`RequestContext`]. Any IAM
//! principal of the cluster's account may ask (as the cluster creator's admin access lets it); service accounts
//! and pods exist as soon as they are named, as the emulator keeps no Kubernetes objects.

mod token_request;

use std::sync::Arc;

use axum::Router;
use axum::routing::post;

use crate::world::store::Store;

/// The path parameter that names the cluster.
pub(crate) const CLUSTER_PARAMETER: &str = "cluster";
const TOKEN_REQUEST: &str = "/kubernetes/{cluster}/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token";

/// The API server URL of a cluster of the emulator at `endpoint` (its `http://127.0.0.1:PORT`), for a kubeconfig's
/// `server` or a TokenRequest.
pub fn api_server(endpoint: &str, cluster: &str) -> String {
    format!("{}/kubernetes/{cluster}", endpoint.trim_end_matches('/'))
}

/// The Kubernetes API routes, without state; the dispatcher serves them behind its bearer-token authentication.
pub(crate) fn routes() -> Router<Arc<Store>> {
    Router::new().route(TOKEN_REQUEST, post(token_request::create))
}
