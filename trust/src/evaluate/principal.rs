//! Who makes a request, and whether a statement's `Principal` or `NotPrincipal` covers them.

use std::fmt;

use crate::arn::{ArnError, ArnParts, RoleArn, is_account_id};
use crate::policy::{PrincipalElement, PrincipalType, Principals};

/// An IAM identity making a request: a user, a role session or an account root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsPrincipal {
    arn: String,
    account_id: String,
    /// For a role session, the role's ARN, which trust policies name instead of the session's.
    role_arn: Option<String>,
}

impl AwsPrincipal {
    /// From a user, role, account-root or assumed-role ARN. For an assumed-role ARN the role's ARN is
    /// rebuilt without a path (the session ARN does not carry it): use [`AwsPrincipal::role_session`] for
    /// roles with a path.
    pub fn from_arn(arn: &str) -> Result<Self, ArnError> {
        let parts = ArnParts::split(arn).ok_or_else(|| ArnError::NotAnArn { arn: arn.to_owned() })?;
        let not_principal = || ArnError::NotAPrincipalArn { arn: arn.to_owned() };
        if !is_account_id(parts.account) {
            return Err(ArnError::InvalidAccountId {
                account: parts.account.to_owned(),
            });
        }
        if !parts.region.is_empty() {
            return Err(not_principal());
        }
        let named = |prefix: &str| parts.resource.strip_prefix(prefix).is_some_and(|name| !name.is_empty());
        let role_arn = match parts.service {
            "iam" if parts.resource == "root" || named("user/") => None,
            "iam" if named("role/") => Some(arn.to_owned()),
            "sts" => {
                let rest = parts.resource.strip_prefix("assumed-role/").ok_or_else(not_principal)?;
                let (role_name, session) = rest.split_once('/').ok_or_else(not_principal)?;
                if role_name.is_empty() || session.is_empty() {
                    return Err(not_principal());
                }
                Some(format!(
                    "arn:{}:iam::{}:role/{role_name}",
                    parts.partition, parts.account
                ))
            }
            _ => return Err(not_principal()),
        };
        Ok(Self {
            arn: arn.to_owned(),
            account_id: parts.account.to_owned(),
            role_arn,
        })
    }

    /// A session of `role` named `session_name`, as STS and EKS Auth create them.
    pub fn role_session(role: &RoleArn, session_name: &str) -> Self {
        Self {
            arn: role.session_arn(session_name),
            account_id: role.account_id().to_owned(),
            role_arn: Some(role.to_string()),
        }
    }

    pub fn arn(&self) -> &str {
        &self.arn
    }
    pub fn account_id(&self) -> &str {
        &self.account_id
    }
    pub fn role_arn(&self) -> Option<&str> {
        self.role_arn.as_deref()
    }

    /// Whether an entry of a policy's `"AWS"` principal list names this identity. Principal entries take no
    /// wildcards other than a lone `*`.
    fn is_named_by(&self, entry: &str) -> bool {
        if entry == "*" || entry == self.account_id || entry == self.arn || Some(entry) == self.role_arn.as_deref() {
            return true;
        }
        // `arn:PARTITION:iam::ACCOUNT:root` names the whole account, whatever the partition spelling.
        ArnParts::split(entry).is_some_and(|parts| {
            parts.service == "iam"
                && parts.region.is_empty()
                && parts.account == self.account_id
                && parts.resource == "root"
        })
    }
}

/// Who makes the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestPrincipal {
    /// A service principal such as `pods.eks.amazonaws.com`.
    Service(String),
    /// A user, role session or account.
    Aws(AwsPrincipal),
    /// A web identity or SAML provider (`Federated`).
    Federated(String),
}

impl fmt::Display for RequestPrincipal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Service(name) => write!(f, "service principal {name}"),
            Self::Aws(principal) => write!(f, "{}", principal.arn),
            Self::Federated(provider) => write!(f, "federated principal {provider}"),
        }
    }
}

/// Whether a `Principal` element names `principal`, or a `NotPrincipal` element does not.
pub(super) fn principal_matches(element: &PrincipalElement, principal: &RequestPrincipal) -> bool {
    let named = match &element.principals {
        Principals::Everyone => true,
        Principals::Typed(entries) => entries.iter().any(|(kind, names)| match (kind, principal) {
            // {"AWS": "*"} means everyone, like "*".
            (PrincipalType::Aws, _) if names.iter().any(|name| name == "*") => true,
            (PrincipalType::Aws, RequestPrincipal::Aws(identity)) => {
                names.iter().any(|name| identity.is_named_by(name))
            }
            // Service principal names are DNS names: compared without regard to case.
            (PrincipalType::Service, RequestPrincipal::Service(service)) => {
                names.iter().any(|name| name.eq_ignore_ascii_case(service))
            }
            (PrincipalType::Federated, RequestPrincipal::Federated(provider)) => {
                names.iter().any(|name| name == provider)
            }
            _ => false,
        }),
    };
    named != element.negated
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::test_support::{ACCOUNT, decide, one_statement, pods, policy};
    use crate::evaluate::{Decision, RequestContext, evaluate};
    use serde_json::json;

    #[test]
    fn principals_in_every_form() {
        let role: RoleArn = "arn:aws:iam::111122223333:role/team/first".parse().unwrap();
        let session = RequestPrincipal::Aws(AwsPrincipal::role_session(&role, "s1"));
        let user = RequestPrincipal::Aws(AwsPrincipal::from_arn("arn:aws:iam::111122223333:user/admin").unwrap());
        let stranger = RequestPrincipal::Aws(AwsPrincipal::from_arn("arn:aws:iam::444455556666:user/admin").unwrap());
        let web = RequestPrincipal::Federated("arn:aws:iam::111122223333:oidc-provider/oidc.eks.example".into());
        let service = pods();
        let cases: Vec<(serde_json::Value, &RequestPrincipal, bool)> = vec![
            (json!("*"), &session, true),
            (json!({"AWS": "*"}), &service, true),
            (json!({"AWS": ACCOUNT}), &session, true),
            (json!({"AWS": ACCOUNT}), &stranger, false),
            (json!({"AWS": "arn:aws:iam::111122223333:root"}), &user, true),
            (json!({"AWS": "arn:aws:iam::111122223333:root"}), &stranger, false),
            (
                json!({"AWS": "arn:aws:iam::111122223333:role/team/first"}),
                &session,
                true,
            ),
            (json!({"AWS": "arn:aws:iam::111122223333:role/first"}), &session, false),
            (
                json!({"AWS": "arn:aws:sts::111122223333:assumed-role/first/s1"}),
                &session,
                true,
            ),
            (
                json!({"AWS": ["arn:aws:iam::111122223333:role/other", "arn:aws:iam::111122223333:user/admin"]}),
                &user,
                true,
            ),
            (json!({"AWS": "arn:aws:iam::111122223333:role/*"}), &session, false),
            (json!({"Service": "pods.eks.amazonaws.com"}), &service, true),
            (
                json!({"Service": ["ec2.amazonaws.com", "PODS.EKS.AMAZONAWS.COM"]}),
                &service,
                true,
            ),
            (json!({"Service": "eks.amazonaws.com"}), &service, false),
            (json!({"Service": "pods.eks.amazonaws.com"}), &session, false),
            (json!({"AWS": ACCOUNT}), &service, false),
            (
                json!({"Federated": "arn:aws:iam::111122223333:oidc-provider/oidc.eks.example"}),
                &web,
                true,
            ),
            (
                json!({"Federated": "arn:aws:iam::111122223333:oidc-provider/oidc.eks.example"}),
                &service,
                false,
            ),
            (json!({"Service": "ec2.amazonaws.com", "AWS": ACCOUNT}), &user, true),
        ];
        for (principal, who, expected) in cases {
            let document = one_statement(principal.clone(), json!("sts:AssumeRole"), json!({}));
            let decision = decide(&document, &RequestContext::new(who.clone(), "sts:AssumeRole"));
            assert_eq!(decision == Decision::Allow, expected, "{principal} for {who}");
        }
    }

    #[test]
    fn not_principal_covers_everyone_else() {
        let document = policy(json!({"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"},
            {"Effect": "Deny", "NotPrincipal": {"Service": "pods.eks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}));
        assert_eq!(
            decide(&document, &RequestContext::new(pods(), "sts:AssumeRole")),
            Decision::Allow
        );
        let user = RequestPrincipal::Aws(AwsPrincipal::from_arn("arn:aws:iam::111122223333:user/u").unwrap());
        let evaluation = evaluate(&document, &RequestContext::new(user, "sts:AssumeRole"));
        assert_eq!(
            (evaluation.decision, evaluation.decided_by),
            (Decision::ExplicitDeny, Some(1))
        );
    }

    #[test]
    fn principal_arns() {
        let session = AwsPrincipal::from_arn("arn:aws:sts::111122223333:assumed-role/app/s").unwrap();
        assert_eq!(session.role_arn(), Some("arn:aws:iam::111122223333:role/app"));
        assert_eq!(session.account_id(), ACCOUNT);
        assert_eq!(
            AwsPrincipal::from_arn("arn:aws:iam::111122223333:root")
                .unwrap()
                .role_arn(),
            None
        );
        assert!(
            AwsPrincipal::from_arn("arn:aws:iam::111122223333:role/app")
                .unwrap()
                .role_arn()
                .is_some()
        );
        for bad in [
            "nope",
            "arn:aws:s3:::bucket",
            "arn:aws:iam::1:root",
            "arn:aws:iam::111122223333:group/g",
            "arn:aws:iam::111122223333:role",
            "arn:aws:sts::111122223333:assumed-role/app",
            "arn:aws:sts::111122223333:assumed-role//s",
        ] {
            assert!(AwsPrincipal::from_arn(bad).is_err(), "{bad}");
        }
    }
}
