//! Where a request acts: the partition, region and account CloudFormation invokes the handler for. An identifier
//! from anywhere else names an association this request cannot reach; it is never "corrected" into a local one.

use crate::error::HandlerError;
use pia_core::{AssociationArn, partition_of_region};

/// The region (and so the partition) and account a request acts in.
///
/// An identifier of another account, region or partition is NotFound before any EKS call:
///
/// ```rust
/// use pia_handlers::testing::MemoryEks;
/// use pia_handlers::{Action, HandlerErrorCode, Pacing, ResourceModel, ResourceRequest, Scope, handle};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let eks = MemoryEks::in_region("eu-west-1", "111122223333").with_cluster("prod");
/// assert_eq!(eks.scope(), Scope::new(Some("eu-west-1"), Some("111122223333")));
/// let request = ResourceRequest {
///     desired: ResourceModel {
///         association_arn: Some(
///             "arn:aws:eks:eu-west-1:444455556666:podidentityassociation/prod/a-0123456789abcdefg".into(),
///         ),
///         ..ResourceModel::default()
///     },
///     scope: eks.scope(),
///     ..ResourceRequest::default()
/// };
/// let event = handle(&eks, Action::Read, &request, &Pacing::default()).await;
/// assert_eq!(event.error_code, Some(HandlerErrorCode::NotFound));
/// assert!(event.message.unwrap().contains("account 444455556666 (this request: 111122223333)"));
/// assert_eq!(eks.take_calls(), Vec::<&str>::new());
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// The request's region (or, when the request names none, the one the EKS client is configured for).
    pub region: Option<String>,
    /// The request's `awsAccountId`, when it carries one.
    pub account_id: Option<String>,
}

impl Scope {
    pub fn new(region: Option<&str>, account_id: Option<&str>) -> Self {
        Self {
            region: region.map(str::to_owned),
            account_id: account_id.map(str::to_owned),
        }
    }

    /// NotFound unless the ARN's partition, region and account are this request's.
    pub fn check(&self, arn: &AssociationArn) -> Result<(), HandlerError> {
        let mut elsewhere = Vec::new();
        if let Some(region) = &self.region {
            let partition = partition_of_region(region);
            if arn.partition() != partition {
                elsewhere.push(format!("partition {} (this request: {partition})", arn.partition()));
            }
            if arn.region() != region {
                elsewhere.push(format!("region {} (this request: {region})", arn.region()));
            }
        }
        if let Some(account) = &self.account_id
            && arn.account_id() != account
        {
            elsewhere.push(format!("account {} (this request: {account})", arn.account_id()));
        }
        if elsewhere.is_empty() {
            return Ok(());
        }
        Err(HandlerError::OutOfScope {
            association_arn: arn.to_string(),
            elsewhere: elsewhere.join(", "),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_arn_from_elsewhere_is_not_found_and_says_why() {
        let scope = Scope::new(Some("us-east-1"), Some("111122223333"));
        let local = "arn:aws:eks:us-east-1:111122223333:podidentityassociation/c/a-abcdefghij0123456";
        assert!(scope.check(&local.parse().unwrap()).is_ok());
        for (arn, why) in [
            (
                "arn:aws-cn:eks:us-east-1:111122223333:podidentityassociation/c/a-abcdefghij0123456",
                "partition aws-cn",
            ),
            (
                "arn:aws:eks:eu-west-1:111122223333:podidentityassociation/c/a-abcdefghij0123456",
                "region eu-west-1",
            ),
            (
                "arn:aws:eks:us-east-1:444455556666:podidentityassociation/c/a-abcdefghij0123456",
                "account 444455556666",
            ),
        ] {
            let error = scope.check(&arn.parse().unwrap()).unwrap_err();
            assert_eq!(error.code(), crate::HandlerErrorCode::NotFound, "{arn}");
            assert!(error.to_string().contains(why), "{error}");
        }
    }

    #[test]
    fn an_unknown_account_checks_partition_and_region_only() {
        let scope = Scope::new(Some("cn-north-1"), None);
        let arn = "arn:aws-cn:eks:cn-north-1:444455556666:podidentityassociation/c/a-abcdefghij0123456";
        assert!(scope.check(&arn.parse().unwrap()).is_ok());
    }
}
