//! The ARNs of EKS Pod Identity: the cluster's, the roles', the association's, and the partition a region belongs
//! to. The one place ARNs are split.
//!
//! Parsing is strict about the parts that matter (partition, account, region, resource type) and never panics;
//! anything else is an [`ArnError`] saying what is wrong.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use thiserror::Error;

/// Why a string is not the ARN that was expected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ArnError {
    #[error("{arn:?} is not an ARN: expected arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE")]
    NotAnArn { arn: String },
    #[error("{arn:?} is not an EKS cluster ARN: expected arn:PARTITION:eks:REGION:ACCOUNT:cluster/NAME")]
    NotAClusterArn { arn: String },
    #[error(
        "{arn:?} is not an IAM role ARN: expected arn:PARTITION:iam::ACCOUNT:role/NAME (optionally role/PATH/NAME)"
    )]
    NotARoleArn { arn: String },
    #[error("{arn:?} is not an IAM principal ARN: expected an account root, user, role or assumed-role ARN")]
    NotAPrincipalArn { arn: String },
    #[error("{account:?} is not an AWS account id: expected 12 digits")]
    InvalidAccountId { account: String },
    #[error(
        "AssociationArn `{arn}` is not a pod identity association ARN (arn:<partition>:eks:<region>:<account>:podidentityassociation/<cluster>/<id>): {reason}"
    )]
    NotAnAssociationArn { arn: String, reason: &'static str },
}

/// Whether `account` is an AWS account id (exactly 12 ASCII digits).
pub fn is_account_id(account: &str) -> bool {
    account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())
}

/// Checks an account id, for callers that take one from users.
pub fn validate_account_id(account: &str) -> Result<(), ArnError> {
    if is_account_id(account) {
        Ok(())
    } else {
        Err(ArnError::InvalidAccountId {
            account: account.to_owned(),
        })
    }
}

/// The six colon-separated parts of an ARN; the resource part keeps any further colons.
pub struct ArnParts<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

impl<'a> ArnParts<'a> {
    pub fn split(arn: &'a str) -> Option<Self> {
        let mut parts = arn.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        let partition = parts.next().filter(|p| !p.is_empty())?;
        let service = parts.next().filter(|s| !s.is_empty())?;
        let region = parts.next()?;
        let account = parts.next()?;
        let resource = parts.next()?;
        Some(Self {
            partition,
            service,
            region,
            account,
            resource,
        })
    }
}

/// `arn:{partition}:eks:{region}:{account}:cluster/{name}`, the value EKS sends as `aws:SourceArn`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClusterArn {
    partition: String,
    region: String,
    account_id: String,
    name: String,
}

impl ClusterArn {
    pub fn partition(&self) -> &str {
        &self.partition
    }
    pub fn region(&self) -> &str {
        &self.region
    }
    /// The account EKS sends as `aws:SourceAccount`.
    pub fn account_id(&self) -> &str {
        &self.account_id
    }
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl FromStr for ClusterArn {
    type Err = ArnError;

    fn from_str(arn: &str) -> Result<Self, ArnError> {
        let parts = ArnParts::split(arn).ok_or_else(|| ArnError::NotAnArn { arn: arn.to_owned() })?;
        let not_cluster = || ArnError::NotAClusterArn { arn: arn.to_owned() };
        if parts.service != "eks" || parts.region.is_empty() {
            return Err(not_cluster());
        }
        let name = parts.resource.strip_prefix("cluster/").ok_or_else(not_cluster)?;
        // Cluster names are 1-100 of [A-Za-z0-9_-], starting with a letter or digit; a slash would make
        // it another resource type, so refuse it rather than guess.
        if name.is_empty() || name.contains('/') || name.contains(':') {
            return Err(not_cluster());
        }
        validate_account_id(parts.account)?;
        Ok(Self {
            partition: parts.partition.to_owned(),
            region: parts.region.to_owned(),
            account_id: parts.account.to_owned(),
            name: name.to_owned(),
        })
    }
}

impl fmt::Display for ClusterArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:eks:{}:{}:cluster/{}",
            self.partition, self.region, self.account_id, self.name
        )
    }
}

impl Serialize for ClusterArn {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// `arn:{partition}:iam::{account}:role/{path}{name}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoleArn {
    partition: String,
    account_id: String,
    /// `/` or `/a/b/`, as IAM writes paths.
    path: String,
    name: String,
}

impl RoleArn {
    pub fn partition(&self) -> &str {
        &self.partition
    }
    pub fn account_id(&self) -> &str {
        &self.account_id
    }
    pub fn path(&self) -> &str {
        &self.path
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The ARN a session of this role has: `arn:{partition}:sts::{account}:assumed-role/{name}/{session}`
    /// (the path is not part of it).
    pub fn session_arn(&self, session_name: &str) -> String {
        format!(
            "arn:{}:sts::{}:assumed-role/{}/{}",
            self.partition, self.account_id, self.name, session_name
        )
    }
}

impl FromStr for RoleArn {
    type Err = ArnError;

    fn from_str(arn: &str) -> Result<Self, ArnError> {
        let parts = ArnParts::split(arn).ok_or_else(|| ArnError::NotAnArn { arn: arn.to_owned() })?;
        let not_role = || ArnError::NotARoleArn { arn: arn.to_owned() };
        if parts.service != "iam" || !parts.region.is_empty() {
            return Err(not_role());
        }
        let path_and_name = parts.resource.strip_prefix("role/").ok_or_else(not_role)?;
        let (path, name) = match path_and_name.rfind('/') {
            Some(slash) => (format!("/{}", &path_and_name[..=slash]), &path_and_name[slash + 1..]),
            None => ("/".to_owned(), path_and_name),
        };
        if name.is_empty() || path.contains("//") {
            return Err(not_role());
        }
        validate_account_id(parts.account)?;
        Ok(Self {
            partition: parts.partition.to_owned(),
            account_id: parts.account.to_owned(),
            path,
            name: name.to_owned(),
        })
    }
}

impl fmt::Display for RoleArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The path always starts and ends with `/`, so role/ + path without its leading slash + name.
        write!(
            f,
            "arn:{}:iam::{}:role{}{}",
            self.partition, self.account_id, self.path, self.name
        )
    }
}

impl Serialize for RoleArn {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The partition a region belongs to, by the region-name prefixes AWS assigns to each partition.
pub fn partition_of_region(region: &str) -> &'static str {
    const PREFIXES: [(&str, &str); 7] = [
        ("cn-", "aws-cn"),
        ("us-gov-", "aws-us-gov"),
        ("us-isob-", "aws-iso-b"),
        ("us-isof-", "aws-iso-f"),
        ("eu-isoe-", "aws-iso-e"),
        ("us-iso-", "aws-iso"),
        ("eusc-", "aws-eusc"),
    ];
    PREFIXES
        .iter()
        .find(|(prefix, _)| region.starts_with(prefix))
        .map_or("aws", |(_, partition)| partition)
}

/// Whether `region` is named as AWS names regions, by the pattern the SDKs' endpoint rules give each partition: a
/// geography of the partition, a name, a number (`us-east-1`, `cn-north-1`, `us-gov-west-1`, `eusc-de-east-1`).
/// `zz-nowhere-9` is not one.
pub fn is_region_name(region: &str) -> bool {
    const GEOGRAPHIES: [&str; 16] = [
        "us", "eu", "ap", "sa", "ca", "me", "af", "il", "mx", "cn", "us-gov", "us-iso", "us-isob", "us-isof",
        "eu-isoe", "eusc-de",
    ];
    let Some((rest, number)) = region.rsplit_once('-') else {
        return false;
    };
    let Some((geography, name)) = rest.rsplit_once('-') else {
        return false;
    };
    !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
        && !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && GEOGRAPHIES.contains(&geography)
}

/// `arn:{partition}:eks:{region}:{account}:podidentityassociation/{cluster}/{id}`, the primary identifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AssociationArn {
    partition: String,
    region: String,
    account_id: String,
    cluster_name: String,
    association_id: String,
}

impl AssociationArn {
    pub fn new(partition: &str, region: &str, account_id: &str, cluster_name: &str, association_id: &str) -> Self {
        Self {
            partition: partition.to_owned(),
            region: region.to_owned(),
            account_id: account_id.to_owned(),
            cluster_name: cluster_name.to_owned(),
            association_id: association_id.to_owned(),
        }
    }
    pub fn partition(&self) -> &str {
        &self.partition
    }
    pub fn region(&self) -> &str {
        &self.region
    }
    pub fn account_id(&self) -> &str {
        &self.account_id
    }
    pub fn cluster_name(&self) -> &str {
        &self.cluster_name
    }
    pub fn association_id(&self) -> &str {
        &self.association_id
    }
}

/// `a-` followed by 17 lower-case alphanumerics, the only form EKS accepts.
pub fn is_association_id(id: &str) -> bool {
    id.len() == 19 && id.starts_with("a-") && id[2..].bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

impl FromStr for AssociationArn {
    type Err = ArnError;

    fn from_str(arn: &str) -> Result<Self, ArnError> {
        let fail = |reason| ArnError::NotAnAssociationArn {
            arn: arn.to_owned(),
            reason,
        };
        let parts = ArnParts::split(arn).ok_or_else(|| fail("it does not have six colon-separated parts"))?;
        if !parts.partition.starts_with("aws") {
            return Err(fail("the partition must start with `aws`"));
        }
        if parts.service != "eks" {
            return Err(fail("the service must be `eks`"));
        }
        if parts.region.is_empty() {
            return Err(fail("the region is empty"));
        }
        if !is_account_id(parts.account) {
            return Err(fail("the account id must be 12 digits"));
        }
        let path = parts
            .resource
            .strip_prefix("podidentityassociation/")
            .ok_or_else(|| fail("the resource must start with `podidentityassociation/`"))?;
        let (cluster_name, association_id) = path
            .split_once('/')
            .ok_or_else(|| fail("the resource must be `podidentityassociation/<cluster>/<id>`"))?;
        if cluster_name.is_empty() {
            return Err(fail("the cluster name is empty"));
        }
        if !is_association_id(association_id) {
            return Err(fail(
                "the association id must be `a-` followed by 17 lower-case letters or digits",
            ));
        }
        Ok(Self::new(
            parts.partition,
            parts.region,
            parts.account,
            cluster_name,
            association_id,
        ))
    }
}

impl fmt::Display for AssociationArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:eks:{}:{}:podidentityassociation/{}/{}",
            self.partition, self.region, self.account_id, self.cluster_name, self.association_id
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_names_follow_the_partitions_patterns() {
        for region in [
            "us-east-1",
            "eu-west-3",
            "cn-northwest-1",
            "us-gov-west-1",
            "us-isob-east-1",
            "eusc-de-east-1",
        ] {
            assert!(is_region_name(region), "{region}");
        }
        for not_a_region in [
            "zz-nowhere-9",
            "us-east",
            "us-east-x",
            "east-1",
            "",
            "US-EAST-1",
            "us--1",
            "cn-1",
        ] {
            assert!(!is_region_name(not_a_region), "{not_a_region}");
        }
    }

    #[test]
    fn partitions_follow_region_prefixes() {
        for (region, partition) in [
            ("us-east-1", "aws"),
            ("eu-west-1", "aws"),
            ("cn-north-1", "aws-cn"),
            ("cn-northwest-1", "aws-cn"),
            ("us-gov-west-1", "aws-us-gov"),
            ("us-iso-east-1", "aws-iso"),
            ("us-isob-east-1", "aws-iso-b"),
            ("eusc-de-east-1", "aws-eusc"),
        ] {
            assert_eq!(partition_of_region(region), partition, "{region}");
        }
    }

    #[test]
    fn parses_every_partition() {
        for partition in ["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-eusc"] {
            let arn = format!("{partition}:eks:eu-west-1:111122223333:podidentityassociation/prod/a-abcdefghij0123456");
            let arn = format!("arn:{arn}");
            let parsed: AssociationArn = arn.parse().unwrap();
            assert_eq!(parsed.partition(), partition);
            assert_eq!(parsed.region(), "eu-west-1");
            assert_eq!(parsed.account_id(), "111122223333");
            assert_eq!(parsed.cluster_name(), "prod");
            assert_eq!(parsed.association_id(), "a-abcdefghij0123456");
            assert_eq!(parsed.to_string(), arn);
        }
    }

    #[test]
    fn rejects_malformed_arns_with_a_reason() {
        let cases = [
            ("", "six colon-separated parts"),
            (
                "arn::eks:us-east-1:111122223333:podidentityassociation/c/a-abcdefghij0123456",
                "six colon-separated parts",
            ),
            ("arn:aws:eks", "six colon-separated parts"),
            ("arn:aws:iam::111122223333:role/x", "service must be `eks`"),
            (
                "arn:gcp:eks:us-east-1:111122223333:podidentityassociation/c/a-abcdefghij0123456",
                "partition must start with `aws`",
            ),
            (
                "arn:aws:eks::111122223333:podidentityassociation/c/a-abcdefghij0123456",
                "region is empty",
            ),
            (
                "arn:aws:eks:us-east-1:1111:podidentityassociation/c/a-abcdefghij0123456",
                "12 digits",
            ),
            (
                "arn:aws:eks:us-east-1:111122223333:cluster/c",
                "podidentityassociation/",
            ),
            (
                "arn:aws:eks:us-east-1:111122223333:podidentityassociation/c",
                "podidentityassociation/<cluster>/<id>",
            ),
            (
                "arn:aws:eks:us-east-1:111122223333:podidentityassociation//a-abcdefghij0123456",
                "cluster name is empty",
            ),
            (
                "arn:aws:eks:us-east-1:111122223333:podidentityassociation/c/a-short",
                "17 lower-case",
            ),
            (
                "arn:aws:eks:us-east-1:111122223333:podidentityassociation/c/a-ABCDEFGHIJ0123456",
                "17 lower-case",
            ),
            (
                "arn:aws:eks:us-east-1:111122223333:podidentityassociation/c/a-abcdefghij0123456/x",
                "17 lower-case",
            ),
        ];
        for (arn, reason) in cases {
            let err = arn.parse::<AssociationArn>().unwrap_err();
            assert!(err.to_string().contains(reason), "{arn}: {err}");
        }
    }

    #[test]
    fn never_panics_on_multibyte_text() {
        assert!(
            "arn:aws:eks:é:111122223333:podidentityassociation/ü/a-ééééééééé"
                .parse::<AssociationArn>()
                .is_err()
        );
    }

    #[test]
    fn cluster_arns_round_trip_in_every_partition() {
        for arn in [
            "arn:aws:eks:us-east-1:111122223333:cluster/demo",
            "arn:aws-cn:eks:cn-north-1:111122223333:cluster/demo-2",
            "arn:aws-us-gov:eks:us-gov-west-1:111122223333:cluster/a_b",
        ] {
            let parsed: ClusterArn = arn.parse().unwrap();
            assert_eq!(parsed.to_string(), arn);
        }
        let parsed: ClusterArn = "arn:aws:eks:eu-west-1:111122223333:cluster/demo".parse().unwrap();
        assert_eq!(
            (parsed.partition(), parsed.region(), parsed.account_id(), parsed.name()),
            ("aws", "eu-west-1", "111122223333", "demo")
        );
    }

    #[test]
    fn bad_cluster_arns_say_what_is_wrong() {
        for (arn, expected) in [
            ("", "is not an ARN"),
            ("demo", "is not an ARN"),
            ("arn:aws:eks:us-east-1:111122223333", "is not an ARN"),
            ("arn:aws:iam::111122223333:role/x", "not an EKS cluster ARN"),
            (
                "arn:aws:eks:us-east-1:111122223333:nodegroup/demo/ng/1",
                "not an EKS cluster ARN",
            ),
            ("arn:aws:eks::111122223333:cluster/demo", "not an EKS cluster ARN"),
            ("arn:aws:eks:us-east-1:111122223333:cluster/", "not an EKS cluster ARN"),
            ("arn:aws:eks:us-east-1:1111:cluster/demo", "12 digits"),
        ] {
            let error = arn.parse::<ClusterArn>().unwrap_err().to_string();
            assert!(error.contains(expected), "{arn}: {error}");
        }
    }

    #[test]
    fn role_arns_with_and_without_paths() {
        let plain: RoleArn = "arn:aws:iam::111122223333:role/app".parse().unwrap();
        assert_eq!((plain.path(), plain.name()), ("/", "app"));
        assert_eq!(plain.to_string(), "arn:aws:iam::111122223333:role/app");
        let pathed: RoleArn = "arn:aws:iam::111122223333:role/team/eks/app".parse().unwrap();
        assert_eq!((pathed.path(), pathed.name()), ("/team/eks/", "app"));
        assert_eq!(pathed.to_string(), "arn:aws:iam::111122223333:role/team/eks/app");
        assert_eq!(pathed.session_arn("s"), "arn:aws:sts::111122223333:assumed-role/app/s");
        for bad in [
            "arn:aws:iam::111122223333:user/app",
            "arn:aws:iam::111122223333:role/",
            "arn:aws:iam::111122223333:role/a//b",
            "arn:aws:iam:us-east-1:111122223333:role/app",
            "arn:aws:sts::111122223333:assumed-role/app/s",
        ] {
            assert!(bad.parse::<RoleArn>().is_err(), "{bad}");
        }
    }
}
