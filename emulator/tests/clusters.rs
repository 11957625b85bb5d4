//! DescribeCluster through the real aws-sdk-eks client: an ACTIVE cluster has everything a kubeconfig and the
//! tools that read clusters need (endpoint, certificate authority, role, VPC, networking, logging, access).

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::*;
use pia_emulator::ClusterConfig;
use x509_parser::pem::parse_x509_pem;

async fn describe(eks: &aws_sdk_eks::Client, name: &str) -> aws_sdk_eks::types::Cluster {
    eks.describe_cluster()
        .name(name)
        .send()
        .await
        .expect("DescribeCluster answers")
        .cluster
        .expect("the output has a cluster")
}

/// The certificate authority's data: base64 of a PEM certificate, self-signed by a 2048-bit RSA CA named
/// `kubernetes` as EKS's are, valid from about now for ten years. Returns the PEM's DER, to compare.
fn check_certificate_authority(data: &str) -> Vec<u8> {
    let pem = STANDARD.decode(data).expect("base64");
    assert!(pem.starts_with(b"-----BEGIN CERTIFICATE-----"), "PEM in the base64");
    let (_, pem) = parse_x509_pem(&pem).expect("one PEM certificate");
    let cert = pem.parse_x509().expect("an X.509 certificate");
    assert_eq!(cert.subject().to_string(), "CN=kubernetes");
    assert_eq!(cert.issuer(), cert.subject(), "self-signed");
    cert.verify_signature(None).expect("signed by its own key");
    assert!(cert.is_ca());
    let usage = cert.key_usage().expect("well-formed").expect("key usage present").value;
    assert!(usage.key_cert_sign() && usage.digital_signature() && usage.key_encipherment());
    let years = (cert.validity().not_after.timestamp() - cert.validity().not_before.timestamp()) / (365 * 86_400);
    assert_eq!(years, 10);
    assert!(cert.validity().is_valid(), "valid now");
    let x509_parser::public_key::PublicKey::RSA(rsa) = cert.public_key().parsed().expect("a key") else {
        panic!("an RSA key");
    };
    assert_eq!(rsa.key_size(), 2048);
    pem.contents
}

#[tokio::test]
async fn an_active_cluster_describes_what_kubeconfig_and_tools_need() {
    let emu = start().await;
    let eks = client(&emu);
    let cluster = describe(&eks, CLUSTER).await;

    let ca = cluster
        .certificate_authority()
        .and_then(|c| c.data())
        .expect("certificateAuthority.data");
    let der = check_certificate_authority(ca);
    assert_eq!(
        cluster.role_arn(),
        Some(format!("arn:aws:iam::{ACCOUNT}:role/eksClusterRole").as_str())
    );

    let vpc = cluster.resources_vpc_config().expect("resourcesVpcConfig");
    assert!(vpc.vpc_id().is_some_and(|id| id.starts_with("vpc-")));
    assert!(vpc.subnet_ids().len() >= 2, "EKS needs subnets in two zones");
    assert!(vpc.subnet_ids().iter().all(|id| id.starts_with("subnet-")));
    assert!(vpc.cluster_security_group_id().is_some_and(|id| id.starts_with("sg-")));
    assert!(vpc.endpoint_public_access());
    assert!(!vpc.endpoint_private_access());
    assert_eq!(vpc.public_access_cidrs(), ["0.0.0.0/0"]);

    let network = cluster.kubernetes_network_config().expect("kubernetesNetworkConfig");
    assert_eq!(network.service_ipv4_cidr(), Some("10.100.0.0/16"));
    assert_eq!(network.ip_family().map(|f| f.as_str()), Some("ipv4"));

    let logging = cluster.logging().expect("logging").cluster_logging();
    assert_eq!(logging.len(), 1);
    assert_eq!(logging[0].enabled(), Some(false));
    let types: Vec<&str> = logging[0].types().iter().map(|t| t.as_str()).collect();
    assert_eq!(
        types,
        ["api", "audit", "authenticator", "controllerManager", "scheduler"]
    );

    let access = cluster.access_config().expect("accessConfig");
    assert_eq!(
        access.authentication_mode().map(|m| m.as_str()),
        Some("API_AND_CONFIG_MAP")
    );
    assert_eq!(access.bootstrap_cluster_creator_admin_permissions(), Some(true));

    // The same answer every time; each cluster its own CA and VPC.
    assert_eq!(describe(&eks, CLUSTER).await, cluster);
    emu.add_cluster(ClusterConfig::new("other"));
    let other = describe(&eks, "other").await;
    let other_der = check_certificate_authority(other.certificate_authority().and_then(|c| c.data()).unwrap());
    assert_ne!(other_der, der);
    assert_ne!(other.resources_vpc_config().unwrap().vpc_id(), vpc.vpc_id());
}
