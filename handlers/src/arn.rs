//! Association ARNs: `arn:{partition}:eks:{region}:{account}:podidentityassociation/{cluster}/{id}`.

use thiserror::Error;

/// The parts of an association ARN that the EKS API needs to address the association.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssociationArn<'a> {
    pub partition: &'a str,
    pub region: &'a str,
    pub account_id: &'a str,
    pub cluster_name: &'a str,
    pub association_id: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "AssociationArn `{arn}` is not a pod identity association ARN (arn:<partition>:eks:<region>:<account>:podidentityassociation/<cluster>/<id>): {reason}"
)]
pub struct ArnError {
    pub arn: String,
    pub reason: &'static str,
}

impl<'a> AssociationArn<'a> {
    pub fn parse(arn: &'a str) -> Result<Self, ArnError> {
        let fail = |reason| ArnError {
            arn: arn.to_owned(),
            reason,
        };
        let mut parts = arn.splitn(6, ':');
        let (Some("arn"), Some(partition), Some(service), Some(region), Some(account_id), Some(resource)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(fail("it does not have six colon-separated parts"));
        };
        if !partition.starts_with("aws") {
            return Err(fail("the partition must start with `aws`"));
        }
        if service != "eks" {
            return Err(fail("the service must be `eks`"));
        }
        if region.is_empty() {
            return Err(fail("the region is empty"));
        }
        if account_id.len() != 12 || !account_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(fail("the account id must be 12 digits"));
        }
        let Some(path) = resource.strip_prefix("podidentityassociation/") else {
            return Err(fail("the resource must start with `podidentityassociation/`"));
        };
        let Some((cluster_name, association_id)) = path.split_once('/') else {
            return Err(fail("the resource must be `podidentityassociation/<cluster>/<id>`"));
        };
        if cluster_name.is_empty() {
            return Err(fail("the cluster name is empty"));
        }
        if !is_association_id(association_id) {
            return Err(fail(
                "the association id must be `a-` followed by 17 lower-case letters or digits",
            ));
        }
        Ok(Self {
            partition,
            region,
            account_id,
            cluster_name,
            association_id,
        })
    }
}

impl std::fmt::Display for AssociationArn<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Self {
            partition,
            region,
            account_id,
            cluster_name,
            association_id,
        } = self;
        write!(
            f,
            "arn:{partition}:eks:{region}:{account_id}:podidentityassociation/{cluster_name}/{association_id}"
        )
    }
}

/// `a-` followed by 17 lower-case alphanumerics, the only form EKS accepts.
pub fn is_association_id(id: &str) -> bool {
    id.len() == 19 && id.starts_with("a-") && id[2..].bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// The first association id in a text, such as EKS's "Association already exists: a-0123456789abcdefg".
pub fn find_association_id(text: &str) -> Option<&str> {
    text.match_indices("a-").map(|(at, _)| &text[at..]).find_map(|rest| {
        let id = rest.get(..19)?;
        let next_is_word = rest[19..].bytes().next().is_some_and(|b| b.is_ascii_alphanumeric());
        (is_association_id(id) && !next_is_word).then_some(id)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_partition() {
        for partition in ["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-eusc"] {
            let arn = format!("{partition}:eks:eu-west-1:111122223333:podidentityassociation/prod/a-abcdefghij0123456");
            let arn = format!("arn:{arn}");
            let parsed = AssociationArn::parse(&arn).unwrap();
            assert_eq!(parsed.partition, partition);
            assert_eq!(parsed.region, "eu-west-1");
            assert_eq!(parsed.account_id, "111122223333");
            assert_eq!(parsed.cluster_name, "prod");
            assert_eq!(parsed.association_id, "a-abcdefghij0123456");
            assert_eq!(parsed.to_string(), arn);
        }
    }

    #[test]
    fn rejects_malformed_arns_with_a_reason() {
        let cases = [
            ("", "six colon-separated parts"),
            ("arn:aws:eks", "six colon-separated parts"),
            ("arn:aws:iam::111122223333:role/x", "service must be `eks`"),
            (
                "arn:gcp:eks:us-east-1:111122223333:podidentityassociation/c/a-abcdefghij0123456",
                "partition",
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
            let err = AssociationArn::parse(arn).unwrap_err();
            assert!(err.to_string().contains(reason), "{arn}: {err}");
        }
    }

    #[test]
    fn never_panics_on_multibyte_text() {
        assert!(AssociationArn::parse("arn:aws:eks:é:111122223333:podidentityassociation/ü/a-ééééééééé").is_err());
        assert_eq!(find_association_id("a-ééééééééééééééééé"), None);
    }

    #[test]
    fn finds_the_existing_id_in_a_conflict_message() {
        assert_eq!(
            find_association_id("Association already exists: a-0123456789abcdefg"),
            Some("a-0123456789abcdefg")
        );
        assert_eq!(find_association_id("data-plane a-0123456789abcdefgh"), None);
        assert_eq!(find_association_id("no id here"), None);
    }
}
