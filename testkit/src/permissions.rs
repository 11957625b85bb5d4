//! The permissions the resource schema grants its handlers (`handlers.*.permissions`), and caller credentials of a
//! role that holds exactly those, as CloudFormation's handler role would.

use std::time::Duration;

use pia_emulator::{Emulator, IssuedCredentials};
use serde_json::{Value, json};

/// The actions of the schema's `handlers.<handler>.permissions` (`create`, `read`, `update`, `delete`, `list`).
pub fn handler_permissions(handler: &str) -> Vec<String> {
    let schema: Value = serde_json::from_str(pia_provider::schema::RESOURCE_SCHEMA).unwrap_or_default();
    schema["handlers"][handler]["permissions"]
        .as_array()
        .map(|actions| actions.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Every handler's permissions, each once.
pub fn all_handler_permissions() -> Vec<String> {
    let mut all: Vec<String> = ["create", "read", "update", "delete", "list"]
        .iter()
        .flat_map(|handler| handler_permissions(handler))
        .collect();
    all.sort();
    all.dedup();
    all
}

/// An identity-based policy that allows `actions` on every resource.
pub fn allow_policy(actions: &[String]) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]})
}

/// A session of the role `name` after giving it exactly `actions` (its only policy): the caller credentials
/// CloudFormation would pass to a handler running under that role.
pub fn session_with(emulator: &Emulator, name: &str, actions: &[String]) -> IssuedCredentials {
    let role_arn = format!("arn:aws:iam::{}:role/{name}", pia_emulator::config::DEFAULT_ACCOUNT_ID);
    emulator.put_role(&role_arn, json!({}));
    emulator.put_role_policy(&role_arn, "handler-permissions", &allow_policy(actions));
    emulator.issue_session_credentials(&role_arn, "cfn-handler", Default::default(), Duration::from_secs(900))
}
