//! Which API and operation a request is: the APIs on the one port, how each signs and answers errors,
//! and the operation named from the matched route (rest-json), from `X-Amz-Target` (JSON 1.0) or from the
//! `Action` parameter (query).

use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde_json::Map;

use super::sigv4;
use crate::protocol::query::{self, Params, QueryError};
use crate::protocol::{json, rest_json};
use crate::{cloudcontrol, cloudformation, eks, eks_auth, iam, stacks, sts};

/// The AWS APIs on the emulator's port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Api {
    Eks,
    EksAuth,
    Iam,
    Sts,
    CloudFormation,
    CloudControl,
}

impl Api {
    /// The service name in the SigV4 credential scope.
    pub fn signing_name(self) -> &'static str {
        match self {
            Api::Eks => "eks",
            Api::EksAuth => "eks-auth",
            Api::Iam => "iam",
            Api::Sts => "sts",
            Api::CloudFormation => "cloudformation",
            Api::CloudControl => "cloudcontrolapi",
        }
    }

    pub fn is_query(self) -> bool {
        matches!(self, Api::Iam | Api::Sts | Api::CloudFormation)
    }

    pub fn xml_namespace(self) -> &'static str {
        match self {
            Api::Sts => "https://sts.amazonaws.com/doc/2011-06-15/",
            Api::CloudFormation => "http://cloudformation.amazonaws.com/doc/2010-05-15/",
            _ => "https://iam.amazonaws.com/doc/2010-05-08/",
        }
    }

    pub fn api_version(self) -> &'static str {
        match self {
            Api::Eks => "2017-11-01",
            Api::EksAuth => "2023-11-26",
            Api::Iam => "2010-05-08",
            Api::Sts => "2011-06-15",
            Api::CloudFormation => "2010-05-15",
            Api::CloudControl => "2021-09-30",
        }
    }

    /// An error in the API's protocol: rest-json (`x-amzn-errortype` and `{"message"}`), JSON 1.0 (`__type`) or
    /// query XML.
    pub fn error_response(self, status: u16, code: &'static str, message: &str, request_id: &str) -> Response {
        if self == Api::CloudControl {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
            return json::error_response(status, code, message);
        }
        if self.is_query() {
            return query::error_response(
                self.xml_namespace(),
                &QueryError::new(status, code, message),
                request_id,
            );
        }
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
        rest_json::error_response(status, code, message, Map::new())
    }
}

/// An operation: the API and its operation name (`CreatePodIdentityAssociation`, `CreateRole`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Operation {
    pub api: Api,
    pub name: &'static str,
}

/// The operation a routed request is.
pub(super) fn rest_operation(method: &Method, route: &str) -> Option<Operation> {
    if let Some(name) = eks::operation_name(method, route) {
        return Some(Operation { api: Api::Eks, name });
    }
    (*method == Method::POST && route == eks_auth::ROUTE).then_some(Operation {
        api: Api::EksAuth,
        name: eks_auth::OPERATION,
    })
}

/// The JSON 1.0 operation of a request on `/` that names one in `X-Amz-Target` (`None`: it names none, so it is a
/// query request). `Err` is the answer to an unknown target.
pub(super) fn json_operation(headers: &HeaderMap, request_id: &str) -> Option<Result<Operation, Box<Response>>> {
    let target = headers.get("x-amz-target")?.to_str().unwrap_or_default();
    let operation = target
        .strip_prefix(cloudcontrol::TARGET_PREFIX)
        .and_then(|rest| rest.strip_prefix('.'))
        .and_then(|name| cloudcontrol::OPERATIONS.iter().find(|known| **known == name));
    Some(match operation {
        Some(name) => Ok(Operation {
            api: Api::CloudControl,
            name,
        }),
        None => Err(Box::new(Api::CloudControl.error_response(
            400,
            "UnknownOperationException",
            &format!("Unknown operation {target}"),
            request_id,
        ))),
    })
}

/// The query operation of a request on `/`: the API from the credential scope (or, unsigned, from
/// the action), the action from the parameters. `Err` is the answer to an unknown action.
pub(super) fn query_operation(
    headers: &HeaderMap,
    params: &Params,
    request_id: &str,
) -> Result<Operation, Box<Response>> {
    let action = params.get("Action").unwrap_or("");
    let api = match sigv4::scope(headers).map(|scope| scope.service) {
        Some("iam") => Api::Iam,
        Some("sts") => Api::Sts,
        Some("cloudformation") => Api::CloudFormation,
        _ if sts::ACTIONS.contains(&action) => Api::Sts,
        _ if cloudformation::ACTIONS.contains(&action) || stacks::api::ACTIONS.contains(&action) => Api::CloudFormation,
        _ => Api::Iam,
    };
    let actions = match api {
        Api::Sts => sts::ACTIONS,
        Api::CloudFormation if stacks::api::ACTIONS.contains(&action) => stacks::api::ACTIONS,
        Api::CloudFormation => cloudformation::ACTIONS,
        _ => iam::ACTIONS,
    };
    match actions.iter().find(|known| **known == action) {
        Some(name) => Ok(Operation { api, name }),
        None => {
            let version = params.get("Version").unwrap_or(api.api_version());
            Err(Box::new(api.error_response(
                400,
                "InvalidAction",
                &format!("Could not find operation {action} for version {version}"),
                request_id,
            )))
        }
    }
}
