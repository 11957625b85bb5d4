//! Who makes a request, as every service's handlers learn it from the request pipeline.

use std::collections::BTreeMap;

/// Who a key belongs to, as STS GetCallerIdentity tells it (plus the session tags, which it does not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    /// `arn:aws:iam::ACCOUNT:user/NAME` or `arn:aws:sts::ACCOUNT:assumed-role/ROLE_NAME/SESSION`.
    pub arn: String,
    pub account_id: String,
    /// `AIDA…` for a user, `AROA…:SESSION` for a role session.
    pub user_id: String,
    /// The session's tags (empty for users).
    pub session_tags: BTreeMap<String, String>,
}

/// What the handlers of an operation learn about the request.
#[derive(Debug, Clone)]
pub(crate) struct RequestContext {
    pub request_id: String,
    /// Who signed the request (with verification off: the key's owner if the key is known, else the
    /// default user).
    pub caller: CallerIdentity,
    /// The access key the request was signed with, if known.
    pub access_key_id: Option<String>,
    /// The region of the signature's credential scope, if signed.
    pub region: Option<String>,
}
