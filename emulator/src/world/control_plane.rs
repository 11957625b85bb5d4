//! What an ACTIVE EKS cluster's control plane is, as DescribeCluster reports it beyond the cluster's name and
//! identity: its IAM role, certificate authority, VPC, Kubernetes network, logging and access configuration.
//! Made once with the cluster, kept with it (serde, in the wire's names and shapes), answered as is.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair, KeyUsagePurpose, PKCS_RSA_SHA256,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ids::new_ec2_id;

/// How long a cluster's CA certificate is valid: EKS's are issued for ten years.
const CA_VALIDITY: Duration = Duration::from_secs(10 * 365 * 86_400);
/// The service CIDR EKS picks when the VPC does not overlap it and none is asked for.
const SERVICE_IPV4_CIDR: &str = "10.100.0.0/16";
/// The control plane log types, all off unless enabled (as a new cluster has them).
const LOG_TYPES: [&str; 5] = ["api", "audit", "authenticator", "controllerManager", "scheduler"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ControlPlane {
    pub role_arn: String,
    pub certificate_authority: CertificateAuthority,
    pub resources_vpc_config: VpcConfig,
    pub kubernetes_network_config: KubernetesNetworkConfig,
    pub logging: Logging,
    pub access_config: AccessConfig,
}

/// `data`: base64 of the PEM certificate, as kubeconfig's `certificate-authority-data` takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateAuthority {
    pub data: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VpcConfig {
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
    pub cluster_security_group_id: String,
    pub vpc_id: String,
    pub endpoint_public_access: bool,
    pub endpoint_private_access: bool,
    pub public_access_cidrs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KubernetesNetworkConfig {
    pub service_ipv4_cidr: String,
    pub ip_family: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Logging {
    pub cluster_logging: Vec<LogSetup>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogSetup {
    pub types: Vec<String>,
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessConfig {
    pub bootstrap_cluster_creator_admin_permissions: bool,
    pub authentication_mode: String,
}

impl ControlPlane {
    /// A new control plane in `account` of `partition`, created `created_at`: a new VPC with two subnets, a new
    /// certificate authority, public endpoint, default networking, logging off, access entries and aws-auth.
    pub fn new(partition: &str, account_id: &str, created_at: SystemTime) -> Self {
        Self {
            role_arn: format!("arn:{partition}:iam::{account_id}:role/eksClusterRole"),
            certificate_authority: CertificateAuthority {
                data: new_certificate_authority(created_at),
            },
            resources_vpc_config: VpcConfig {
                subnet_ids: vec![new_ec2_id("subnet"), new_ec2_id("subnet")],
                security_group_ids: Vec::new(),
                cluster_security_group_id: new_ec2_id("sg"),
                vpc_id: new_ec2_id("vpc"),
                endpoint_public_access: true,
                endpoint_private_access: false,
                public_access_cidrs: vec!["0.0.0.0/0".to_owned()],
            },
            kubernetes_network_config: KubernetesNetworkConfig {
                service_ipv4_cidr: SERVICE_IPV4_CIDR.to_owned(),
                ip_family: "ipv4".to_owned(),
            },
            logging: Logging {
                cluster_logging: vec![LogSetup {
                    types: LOG_TYPES.iter().map(|t| (*t).to_owned()).collect(),
                    enabled: false,
                }],
            },
            access_config: AccessConfig {
                bootstrap_cluster_creator_admin_permissions: true,
                authentication_mode: "API_AND_CONFIG_MAP".to_owned(),
            },
        }
    }
}

/// A new self-signed CA certificate as EKS issues them (RSA 2048, SHA-256, `CN=kubernetes`, ten years from the
/// cluster's creation, a CA that signs certificates), as base64 of its PEM. Key generation fails only when the
/// system's random source does: then the error is logged and the data left empty.
fn new_certificate_authority(created_at: SystemTime) -> String {
    match self_signed_ca(created_at) {
        Ok(pem) => STANDARD.encode(pem),
        Err(error) => {
            tracing::error!(%error, "cannot generate the cluster's certificate authority");
            String::new()
        }
    }
}

fn self_signed_ca(created_at: SystemTime) -> Result<String, rcgen::Error> {
    // The key signs this one certificate and is then dropped: nothing else is issued by the emulated CA.
    let key = KeyPair::generate_for(&PKCS_RSA_SHA256)?;
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, "kubernetes");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::KeyCertSign,
    ];
    params.not_before = offset_date_time(created_at);
    params.not_after = offset_date_time(created_at + CA_VALIDITY);
    Ok(params.self_signed(&key)?.pem())
}

fn offset_date_time(time: SystemTime) -> OffsetDateTime {
    let seconds = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}
