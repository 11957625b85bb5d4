//! Cloud Control over the wire (JSON 1.0, `X-Amz-Target: CloudApiService.…`, signed for `cloudcontrolapi`), with raw
//! signed requests as an SDK sends them: the modeled errors, client-token idempotency, one request at a time per
//! resource and cancels, request listing, and authorization (Cloud Control's own actions, then the type's).

mod common;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::Credentials;
use common::{ACCOUNT, default_credentials, header, sign_as};
use pia_emulator::config::{AccessKeyConfig, UserConfig};
use pia_emulator::{Emulator, EmulatorConfig, HandlerInvoker};
use serde_json::{Value, json};
use tokio::sync::Notify;

/// A signed Cloud Control call as `credentials`: the status and the JSON body.
async fn call_as(emulator: &Emulator, credentials: &Credentials, operation: &str, input: Value) -> (u16, Value) {
    let host = emulator.local_addr().to_string();
    let body = input.to_string();
    let mut headers = vec![
        ("host".to_owned(), host.clone()),
        ("content-type".to_owned(), "application/x-amz-json-1.0".to_owned()),
        ("x-amz-target".to_owned(), format!("CloudApiService.{operation}")),
    ];
    headers.extend(sign_as(
        credentials,
        "POST",
        &host,
        "/",
        &headers,
        body.as_bytes(),
        "cloudcontrolapi",
    ));
    let (status, headers, body) = common::raw_http::exchange(emulator.local_addr(), "POST", "/", &headers, &body).await;
    assert_eq!(header(&headers, "content-type"), Some("application/x-amz-json-1.0"));
    (status, serde_json::from_str(&body).expect("a JSON body"))
}

async fn call(emulator: &Emulator, operation: &str, input: Value) -> (u16, Value) {
    call_as(emulator, &default_credentials(), operation, input).await
}

/// The error code of a call that must fail.
async fn error_of(emulator: &Emulator, operation: &str, input: Value) -> (String, String) {
    let (status, body) = call(emulator, operation, input).await;
    assert!(status >= 400, "{operation} succeeded: {body}");
    (
        body["__type"].as_str().expect("__type").to_owned(),
        body["Message"].as_str().expect("Message").to_owned(),
    )
}

/// The request's event once it has left IN_PROGRESS.
async fn settled(emulator: &Emulator, credentials: &Credentials, token: &str) -> Value {
    loop {
        let (status, body) = call_as(
            emulator,
            credentials,
            "GetResourceRequestStatus",
            json!({"RequestToken": token}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        if body["ProgressEvent"]["OperationStatus"] != "IN_PROGRESS" {
            return body["ProgressEvent"].clone();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn trust() -> String {
    pia_emulator::pod_identity_trust_policy().to_string()
}

#[tokio::test]
async fn errors_are_json_1_0_with_the_codes_botocore_models() {
    let emulator = common::start().await;
    let (code, message) = error_of(&emulator, "Frobnicate", json!({})).await;
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "UnknownOperationException",
            "Unknown operation CloudApiService.Frobnicate"
        )
    );
    let (code, message) = error_of(
        &emulator,
        "GetResource",
        json!({"TypeName": "AWS::IAM", "Identifier": "x"}),
    )
    .await;
    assert_eq!(code, "ValidationException");
    assert!(
        message.contains("at 'typeName' failed to satisfy constraint"),
        "{message}"
    );
    let (code, _) = error_of(&emulator, "GetResource", json!({"TypeName": "AWS::IAM::Role"})).await;
    assert_eq!(code, "ValidationException");
    let (code, message) = error_of(
        &emulator,
        "GetResource",
        json!({"TypeName": "AWS::No::Such", "Identifier": "x"}),
    )
    .await;
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("TypeNotFoundException", "The type 'AWS::No::Such' cannot be found.")
    );
    let (code, message) = error_of(
        &emulator,
        "GetResource",
        json!({"TypeName": "AWS::IAM::Role", "Identifier": "nope"}),
    )
    .await;
    assert_eq!(code, "ResourceNotFoundException");
    assert!(message.contains("HandlerErrorCode: NotFound"), "{message}");
    let (code, _) = error_of(&emulator, "ListResources", json!({"TypeName": "AWS::IAM::Role"})).await;
    assert_eq!(code, "UnsupportedActionException");
    let (code, _) = error_of(
        &emulator,
        "GetResourceRequestStatus",
        json!({"RequestToken": "0f8fad5b-d9cb-469f-a165-70867728950e"}),
    )
    .await;
    assert_eq!(code, "RequestTokenNotFoundException");
    let (code, _) = error_of(
        &emulator,
        "CreateResource",
        json!({"TypeName": "AWS::IAM::Role", "DesiredState": "[1]"}),
    )
    .await;
    assert_eq!(code, "InvalidRequestException");
    let (code, _) = error_of(&emulator, "ListResourceRequests", json!({"MaxResults": 101})).await;
    assert_eq!(code, "ValidationException");
    let (code, _) = error_of(&emulator, "ListResourceRequests", json!({"MaxResults": "ten"})).await;
    assert_eq!(code, "SerializationException");
    // The role's name is create-only, its ARN read-only: Cloud Control refuses such patches before running anything.
    for (path, expected) in [("/RoleName", "NotUpdatableException"), ("/Arn", "ValidationException")] {
        let patch = json!([{"op": "replace", "path": path, "value": "x"}]).to_string();
        let (code, message) = error_of(
            &emulator,
            "UpdateResource",
            json!({"TypeName": "AWS::IAM::Role", "Identifier": "demo-pod-role", "PatchDocument": patch}),
        )
        .await;
        assert_eq!(code, expected, "{message}");
        assert!(
            message.contains(&format!("[/properties{path}] cannot be updated")),
            "{message}"
        );
    }
}

#[tokio::test]
async fn a_client_token_retried_answers_the_same_request_and_reused_for_another_conflicts() {
    let emulator = common::start().await;
    let create = |name: &str| {
        json!({
            "TypeName": "AWS::IAM::Role",
            "ClientToken": "token-1",
            "DesiredState": json!({"RoleName": name, "AssumeRolePolicyDocument": trust()}).to_string(),
        })
    };
    let (status, first) = call(&emulator, "CreateResource", create("made-once")).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["ProgressEvent"]["OperationStatus"], "IN_PROGRESS");
    let token = first["ProgressEvent"]["RequestToken"]
        .as_str()
        .expect("a token")
        .to_owned();
    let done = settled(&emulator, &default_credentials(), &token).await;
    assert_eq!(done["OperationStatus"], "SUCCESS", "{done}");

    let (_, retried) = call(&emulator, "CreateResource", create("made-once")).await;
    assert_eq!(retried["ProgressEvent"]["RequestToken"], token.as_str());
    assert_eq!(retried["ProgressEvent"]["OperationStatus"], "SUCCESS");
    let (code, _) = error_of(&emulator, "CreateResource", create("another")).await;
    assert_eq!(code, "ClientTokenConflictException");

    let (_, listed) = call(&emulator, "ListResourceRequests", json!({})).await;
    assert_eq!(
        listed["ResourceRequestStatusSummaries"].as_array().map(Vec::len),
        Some(1)
    );
}

/// A type whose UPDATE and DELETE handlers answer only once the test lets them, so that a request is surely in
/// flight.
struct Gated {
    release: Notify,
}

impl HandlerInvoker for Gated {
    fn invoke(&self, request: Value) -> Pin<Box<dyn Future<Output = Value> + Send + '_>> {
        Box::pin(async move {
            let model = request["requestData"]["resourceProperties"].clone();
            if matches!(request["action"].as_str(), Some("UPDATE" | "DELETE")) {
                self.release.notified().await;
            }
            json!({"status": "SUCCESS", "resourceModel": model})
        })
    }
}

#[tokio::test]
async fn one_request_at_a_time_per_resource_and_a_cancel_stops_one() {
    let emulator = common::start().await;
    let gated = Arc::new(Gated { release: Notify::new() });
    let schema = json!({
        "typeName": "Test::Gated::Thing",
        "primaryIdentifier": ["/properties/Name"],
        "createOnlyProperties": ["/properties/Name"],
        "handlers": {"create": {}, "read": {}, "update": {}, "delete": {}},
    });
    emulator.register_handlers(&schema, gated.clone());
    let admin = default_credentials();
    let thing = |extra: Value| {
        let mut input = json!({"TypeName": "Test::Gated::Thing", "Identifier": "a"});
        input
            .as_object_mut()
            .expect("an object")
            .extend(extra.as_object().cloned().unwrap_or_default());
        input
    };
    let (_, created) = call(
        &emulator,
        "CreateResource",
        json!({"TypeName": "Test::Gated::Thing", "DesiredState": "{\"Name\":\"a\"}"}),
    )
    .await;
    let token = created["ProgressEvent"]["RequestToken"]
        .as_str()
        .expect("a token")
        .to_owned();
    assert_eq!(settled(&emulator, &admin, &token).await["Identifier"], "a");

    let patch = json!([{"op": "add", "path": "/Size", "value": 3}]).to_string();
    let (_, update) = call(&emulator, "UpdateResource", thing(json!({"PatchDocument": patch}))).await;
    let update_token = update["ProgressEvent"]["RequestToken"]
        .as_str()
        .expect("a token")
        .to_owned();
    let (code, message) = error_of(&emulator, "DeleteResource", thing(json!({}))).await;
    assert_eq!(code, "ConcurrentOperationException");
    assert!(message.contains(&update_token), "{message}");

    let (_, canceled) = call(
        &emulator,
        "CancelResourceRequest",
        json!({"RequestToken": update_token}),
    )
    .await;
    assert_eq!(canceled["ProgressEvent"]["OperationStatus"], "CANCEL_IN_PROGRESS");
    assert_eq!(
        settled(&emulator, &admin, &update_token).await["OperationStatus"],
        "CANCEL_COMPLETE"
    );
    let (code, _) = error_of(
        &emulator,
        "CancelResourceRequest",
        json!({"RequestToken": update_token}),
    )
    .await;
    assert_eq!(code, "ConcurrentModificationException");

    let (status, delete) = call(&emulator, "DeleteResource", thing(json!({}))).await;
    assert_eq!(status, 200, "{delete}");
    gated.release.notify_one();
    let delete_token = delete["ProgressEvent"]["RequestToken"].as_str().expect("a token");
    let deleted = settled(&emulator, &admin, delete_token).await;
    assert_eq!(
        (deleted["OperationStatus"].as_str(), deleted["Operation"].as_str()),
        (Some("SUCCESS"), Some("DELETE"))
    );

    // Newest first, a page at a time.
    let (_, page) = call(
        &emulator,
        "ListResourceRequests",
        json!({"MaxResults": 2, "ResourceRequestStatusFilter": {"OperationStatuses": ["SUCCESS", "CANCEL_COMPLETE"]}}),
    )
    .await;
    let operations = |page: &Value| -> Vec<String> {
        page["ResourceRequestStatusSummaries"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|event| event["Operation"].as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(operations(&page), ["DELETE", "UPDATE"]);
    let next = page["NextToken"].as_str().expect("a next page");
    let (_, last) = call(
        &emulator,
        "ListResourceRequests",
        json!({"NextToken": next, "MaxResults": 2}),
    )
    .await;
    assert_eq!(operations(&last), ["CREATE"]);
    assert!(last.get("NextToken").is_none());
}

fn key(user: &str) -> AccessKeyConfig {
    AccessKeyConfig::new(
        format!("AKIA{:0<16}", user.to_ascii_uppercase()),
        format!("{user}-secret"),
        user,
    )
}

fn credentials_of(user: &str) -> Credentials {
    let key = key(user);
    Credentials::new(key.access_key_id, key.secret_access_key, None, None, "test")
}

fn user(name: &str, actions: Value) -> UserConfig {
    UserConfig {
        user_name: name.to_owned(),
        account_id: ACCOUNT.to_owned(),
        managed_policy_arns: Vec::new(),
        inline_policies: BTreeMap::from([(
            "inline".to_owned(),
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}),
        )]),
    }
}

#[tokio::test]
async fn the_caller_needs_cloud_controls_permission_and_then_the_types_own() {
    let mut config = EmulatorConfig::default();
    for name in ["iam-only", "cc-only"] {
        config.access_keys.push(key(name));
    }
    config.users.push(user("iam-only", json!("iam:*")));
    config.users.push(user(
        "cc-only",
        json!(["cloudformation:*Resource", "cloudformation:*ResourceRequest*"]),
    ));
    let emulator = Emulator::start(config).await.expect("emulator starts");
    let create = json!({
        "TypeName": "AWS::IAM::Role",
        "DesiredState": json!({"RoleName": "app", "AssumeRolePolicyDocument": trust()}).to_string(),
    });

    let (status, refused) = call_as(&emulator, &credentials_of("iam-only"), "CreateResource", create.clone()).await;
    assert_eq!(refused["__type"], "AccessDeniedException", "{status} {refused}");
    assert!(
        refused["Message"]
            .as_str()
            .is_some_and(|m| m.contains("is not authorized to perform: cloudformation:CreateResource on resource: *")),
        "{refused}"
    );

    let cc_only = credentials_of("cc-only");
    let (status, started) = call_as(&emulator, &cc_only, "CreateResource", create).await;
    assert_eq!(status, 200, "{started}");
    let token = started["ProgressEvent"]["RequestToken"].as_str().expect("a token");
    let failed = settled(&emulator, &cc_only, token).await;
    assert_eq!(failed["OperationStatus"], "FAILED");
    assert_eq!(failed["ErrorCode"], "AccessDenied");
    assert!(
        failed["StatusMessage"]
            .as_str()
            .is_some_and(|m| m.contains("iam:CreateRole")),
        "{failed}"
    );

    // Nor may a caller without Cloud Control's permission read the request's status.
    let (_, other) = call_as(
        &emulator,
        &credentials_of("iam-only"),
        "GetResourceRequestStatus",
        json!({"RequestToken": token}),
    )
    .await;
    assert_eq!(other["__type"], "AccessDeniedException");

    // Reading a role is the caller's iam:GetRole too.
    common::iam_client(&emulator)
        .create_role()
        .role_name("existing")
        .assume_role_policy_document(trust())
        .send()
        .await
        .unwrap();
    let (_, unreadable) = call_as(
        &emulator,
        &cc_only,
        "GetResource",
        json!({"TypeName": "AWS::IAM::Role", "Identifier": "existing"}),
    )
    .await;
    assert_eq!(unreadable["__type"], "HandlerFailureException", "{unreadable}");
    assert!(
        unreadable["Message"].as_str().is_some_and(|m| m.contains(
            "is not authorized to perform: iam:GetRole on resource: arn:aws:iam::111122223333:role/existing"
        )),
        "{unreadable}"
    );
}

/// Polling clients (Terraform polls GetResource) do not grow the issued sessions: the credentials handed to the
/// handlers for one caller are reused while they last.
#[tokio::test]
async fn repeated_reads_reuse_the_handlers_credentials() {
    let emulator = common::start().await;
    common::iam_client(&emulator)
        .create_role()
        .role_name("polled")
        .assume_role_policy_document(trust())
        .send()
        .await
        .unwrap();
    let sessions = || emulator.seed_sessions(common::ROLE, 0);
    let before = sessions();
    for _ in 0..5 {
        let (status, _) = call(
            &emulator,
            "GetResource",
            json!({"TypeName": "AWS::IAM::Role", "Identifier": "polled"}),
        )
        .await;
        assert_eq!(status, 200);
    }
    assert_eq!(sessions(), before + 1);
}
