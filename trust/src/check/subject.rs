//! Who asks each role, and with which condition keys: EKS Auth for the association's role, that role's
//! session for the target role.

use super::SESSION_TAG_KEYS;
use super::input::CheckInput;
use super::report::CheckedRole;
use crate::arn::{ClusterArn, RoleArn};
use crate::evaluate::{AwsPrincipal, RequestContext, RequestPrincipal};
use crate::generate::POD_IDENTITY_SERVICE_PRINCIPAL;

/// Placeholders for the tag values a check cannot know: they depend on the pod.
const PLACEHOLDER_NAMESPACE: &str = "<namespace>";
const PLACEHOLDER_SERVICE_ACCOUNT: &str = "<service-account>";
const PLACEHOLDER_POD_NAME: &str = "<pod-name>";
const PLACEHOLDER_POD_UID: &str = "<pod-uid>";

/// Who asks and with which condition keys, for one of the two roles.
pub(super) struct Subject {
    pub(super) role: CheckedRole,
    pub(super) principal: RequestPrincipal,
    /// The principal element that would trust `principal`, for fixes.
    pub(super) principal_hint: String,
    keys: Vec<(String, Vec<String>)>,
    pub(super) disable_session_tags: bool,
    pub(super) cluster: ClusterArn,
    /// Context keys whose values are placeholders, and the placeholder used.
    pub(super) placeholders: Vec<(String, String)>,
}

impl Subject {
    pub(super) fn context(&self, action: &str) -> RequestContext {
        self.keys.iter().fold(
            RequestContext::new(self.principal.clone(), action),
            |context, (key, values)| context.with_values(key, values.iter().cloned()),
        )
    }

    pub(super) fn actions(&self) -> Vec<&'static str> {
        if self.disable_session_tags {
            vec!["sts:AssumeRole"]
        } else {
            vec!["sts:AssumeRole", "sts:TagSession"]
        }
    }

    /// How fixes refer to the statements that trust the principal.
    pub(super) fn trusting(&self) -> String {
        match self.role {
            CheckedRole::Role => format!("the statement that trusts {POD_IDENTITY_SERVICE_PRINCIPAL}"),
            CheckedRole::TargetRole => "the statement that trusts the association's role".to_owned(),
        }
    }
}

/// EKS Auth asking the association's role, as the service principal, for the cluster.
pub(super) fn pod_role_subject(input: &CheckInput) -> Subject {
    let cluster = &input.cluster_arn;
    let mut keys = vec![
        ("aws:SourceAccount".to_owned(), vec![cluster.account_id().to_owned()]),
        ("aws:SourceArn".to_owned(), vec![cluster.to_string()]),
    ];
    if !input.disable_session_tags {
        keys.extend(tag_request_keys(&session_tags(input)));
    }
    Subject {
        role: CheckedRole::Role,
        principal: RequestPrincipal::Service(POD_IDENTITY_SERVICE_PRINCIPAL.to_owned()),
        principal_hint: format!("{{\"Service\": \"{POD_IDENTITY_SERVICE_PRINCIPAL}\"}}"),
        keys,
        disable_session_tags: input.disable_session_tags,
        cluster: cluster.clone(),
        placeholders: placeholders(input),
    }
}

/// The session of the association's role that asks for the target role; the pod's name is a placeholder.
pub(super) fn association_role_session(input: &CheckInput, role_arn: &RoleArn) -> RequestPrincipal {
    let session = AwsPrincipal::role_session(
        role_arn,
        &format!("eks-{}-{PLACEHOLDER_POD_NAME}", input.cluster_arn.name()),
    );
    RequestPrincipal::Aws(session)
}

/// The target role's subject: `principal`, the association role's session, with the keys it carries.
pub(super) fn target_role_subject(
    input: &CheckInput,
    role_arn: &RoleArn,
    principal: RequestPrincipal,
    external_id: Option<String>,
) -> Subject {
    let mut keys = vec![
        ("aws:PrincipalArn".to_owned(), vec![role_arn.to_string()]),
        (
            "aws:PrincipalAccount".to_owned(),
            vec![role_arn.account_id().to_owned()],
        ),
    ];
    if let Some(external_id) = external_id {
        keys.push(("sts:ExternalId".to_owned(), vec![external_id]));
    }
    if !input.disable_session_tags {
        let tags = session_tags(input);
        keys.extend(
            tags.iter()
                .map(|(tag, value)| (format!("aws:PrincipalTag/{tag}"), vec![value.clone()])),
        );
        keys.extend(tag_request_keys(&tags));
    }
    Subject {
        role: CheckedRole::TargetRole,
        principal,
        principal_hint: format!("{{\"AWS\": \"{role_arn}\"}}"),
        keys,
        disable_session_tags: input.disable_session_tags,
        cluster: input.cluster_arn.clone(),
        placeholders: placeholders(input),
    }
}

/// The six session tags and their values (placeholders where the value depends on the pod).
fn session_tags(input: &CheckInput) -> Vec<(&'static str, String)> {
    let cluster = &input.cluster_arn;
    let values = [
        cluster.to_string(),
        cluster.name().to_owned(),
        input
            .namespace
            .clone()
            .unwrap_or_else(|| PLACEHOLDER_NAMESPACE.to_owned()),
        input
            .service_account
            .clone()
            .unwrap_or_else(|| PLACEHOLDER_SERVICE_ACCOUNT.to_owned()),
        PLACEHOLDER_POD_NAME.to_owned(),
        PLACEHOLDER_POD_UID.to_owned(),
    ];
    SESSION_TAG_KEYS.into_iter().zip(values).collect()
}

/// `aws:RequestTag/<key>`, `aws:TagKeys` and `sts:TransitiveTagKeys` for a request that sets `tags`.
fn tag_request_keys(tags: &[(&'static str, String)]) -> Vec<(String, Vec<String>)> {
    let mut keys: Vec<(String, Vec<String>)> = tags
        .iter()
        .map(|(tag, value)| (format!("aws:RequestTag/{tag}"), vec![value.clone()]))
        .collect();
    let names: Vec<String> = tags.iter().map(|(tag, _)| (*tag).to_owned()).collect();
    keys.push(("aws:TagKeys".to_owned(), names.clone()));
    keys.push(("sts:TransitiveTagKeys".to_owned(), names));
    keys
}

fn placeholders(input: &CheckInput) -> Vec<(String, String)> {
    let mut unknown = vec![
        ("kubernetes-pod-name", PLACEHOLDER_POD_NAME),
        ("kubernetes-pod-uid", PLACEHOLDER_POD_UID),
    ];
    if input.namespace.is_none() {
        unknown.push(("kubernetes-namespace", PLACEHOLDER_NAMESPACE));
    }
    if input.service_account.is_none() {
        unknown.push(("kubernetes-service-account", PLACEHOLDER_SERVICE_ACCOUNT));
    }
    unknown
        .into_iter()
        .flat_map(|(tag, value)| {
            ["aws:RequestTag", "aws:PrincipalTag"].map(|prefix| (format!("{prefix}/{tag}"), value.to_owned()))
        })
        .collect()
}
