//! HandlerRequests in the shape CloudFormation sends them, and the answers' parts tests look at.

use serde_json::{Value, json};

/// A HandlerRequest as CloudFormation sends it: the caller credentials of the emulator's user `admin`, a fresh
/// bearer token, region us-east-1, the emulator's default account.
pub fn request(action: &str, properties: Value) -> Value {
    json!({
        "action": action,
        "awsAccountId": pia_emulator::config::DEFAULT_ACCOUNT_ID,
        "bearerToken": bearer_token(),
        "region": pia_emulator::config::DEFAULT_REGION,
        "resourceType": "AWS::EKS::PodIdentityAssociation",
        "resourceTypeVersion": "00000001",
        "requestData": {
            "callerCredentials": admin_credentials(),
            "resourceProperties": properties,
            "logicalResourceId": "Association",
        },
        "stackId": "arn:aws:cloudformation:us-east-1:111122223333:stack/demo/1",
    })
}

/// An UPDATE with the previous model.
pub fn update_request(desired: Value, previous: Value) -> Value {
    let mut request = request("UPDATE", desired);
    request["requestData"]["previousResourceProperties"] = previous;
    request
}

/// CloudFormation's callback after IN_PROGRESS: same request (same bearer token), returned model and context.
pub fn callback(request: &Value, event: &Value) -> Value {
    let mut again = request.clone();
    again["callbackContext"] = event["callbackContext"].clone();
    again["requestData"]["resourceProperties"] = event["resourceModel"].clone();
    again
}

/// `callerCredentials` of the emulator's user `admin`.
pub fn admin_credentials() -> Value {
    json!({
        "accessKeyId": pia_emulator::DEFAULT_ACCESS_KEY_ID,
        "secretAccessKey": pia_emulator::DEFAULT_SECRET_ACCESS_KEY,
    })
}

/// A bearer token as CloudFormation makes them: a UUID.
pub fn bearer_token() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A desired model of the default cluster, with one tag.
pub fn desired() -> Value {
    json!({
        "ClusterName": "demo",
        "Namespace": "payments",
        "ServiceAccount": "api",
        "RoleArn": crate::ROLE,
        "Tags": [{"Key": "team", "Value": "payments"}],
    })
}

/// (operation, count) pairs as the emulator counts calls.
pub fn calls(pairs: &[(&str, u64)]) -> Vec<(String, u64)> {
    pairs.iter().map(|(op, n)| (op.to_string(), *n)).collect()
}

/// Tags of a model as a sorted list of (key, value).
pub fn tag_pairs(model: &Value) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = model["Tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|tag| Some((tag["Key"].as_str()?.to_owned(), tag["Value"].as_str()?.to_owned())))
        .collect();
    pairs.sort();
    pairs
}
