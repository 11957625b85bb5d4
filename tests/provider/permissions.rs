//! The schema's handler permissions, proven against the emulator's IAM authorization: each handler succeeds under a
//! role holding exactly its `handlers.<handler>.permissions`, and fails with AccessDenied (UnauthorizedTaggingOperation
//! for the tagging ones) when any one of them is taken away — except the permissions the README explains (listed by the published type, not called by this
//! provider), which it proves unneeded.

use pia_testkit::permissions::{handler_permissions, session_with};
use pia_testkit::secrets::with_credentials;
use pia_testkit::*;
use serde_json::{Value, json};

/// Permissions the published type lists that this provider's handlers never need; the README says why.
const LISTED_BUT_UNUSED: &[(&str, &str)] = &[
    ("create", "eks:DescribePodIdentityAssociation"),
    ("create", "iam:GetRole"),
    ("update", "iam:GetRole"),
];

/// Runs `handler`'s scenario (every call it can make) under a role holding `actions`; the final event.
async fn run(world: &World, handler: &str, actions: &[String], case: &str) -> Value {
    let session = session_with(&world.emulator, &format!("handler-{handler}-{case}"), actions);
    let mut properties = desired();
    properties["ServiceAccount"] = json!(format!("sa-{handler}-{case}"));
    let request = match handler {
        "create" => request("CREATE", properties),
        "read" => {
            let created = world.create(properties).await;
            request("READ", json!({"AssociationArn": created["AssociationArn"]}))
        }
        "update" => {
            // A new role (iam:PassRole) and a tag added and one removed (eks:TagResource, eks:UntagResource).
            let created = world.create(properties).await;
            let mut desired = created.clone();
            desired["RoleArn"] = json!(ROLE_2);
            desired["Tags"] = json!([{"Key": "env", "Value": "prod"}]);
            update_request(desired, created)
        }
        "delete" => {
            let created = world.create(properties).await;
            let mut delete = request("DELETE", json!({"AssociationArn": created["AssociationArn"]}));
            // Without the account the handler first describes the association to confirm whose it is.
            delete.as_object_mut().map(|request| request.remove("awsAccountId"));
            delete
        }
        "list" => request("LIST", json!({"ClusterName": "demo"})),
        other => panic!("no scenario for {other}"),
    };
    let mut request = with_credentials(request, &session);
    loop {
        let event = world.invoke(&request).await;
        if event["status"] != "IN_PROGRESS" {
            return event;
        }
        request = callback(&request, &event);
    }
}

#[tokio::test]
async fn each_handler_needs_exactly_the_schemas_permissions() {
    let world = World::start().await;
    for handler in ["create", "read", "update", "delete", "list"] {
        let permissions = handler_permissions(handler);
        assert!(!permissions.is_empty(), "{handler}");
        let event = run(&world, handler, &permissions, "all").await;
        assert_eq!(
            event["status"], "SUCCESS",
            "{handler} with all its permissions: {event}"
        );

        for (index, removed) in permissions.iter().enumerate() {
            let fewer: Vec<String> = permissions.iter().filter(|p| *p != removed).cloned().collect();
            let event = run(&world, handler, &fewer, &index.to_string()).await;
            if LISTED_BUT_UNUSED.contains(&(handler, removed.as_str())) {
                assert_eq!(event["status"], "SUCCESS", "{handler} without {removed}: {event}");
            } else {
                assert_eq!(event["status"], "FAILED", "{handler} without {removed}: {event}");
                let expected = if matches!(removed.as_str(), "eks:TagResource" | "eks:UntagResource") {
                    "UnauthorizedTaggingOperation"
                } else {
                    "AccessDenied"
                };
                assert_eq!(event["errorCode"], expected, "{handler} without {removed}: {event}");
                let message = event["message"].as_str().unwrap_or_default();
                assert!(
                    message.contains(removed.as_str()),
                    "{handler} without {removed}: {message}"
                );
            }
        }
    }
}

#[test]
fn the_readme_explains_every_permission_listed_but_unused() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for (handler, permission) in LISTED_BUT_UNUSED {
        assert!(
            handler_permissions(handler).iter().any(|p| p == permission),
            "{handler}: {permission}"
        );
        assert!(
            readme.contains(&format!("`{permission}` ({handler})")),
            "the README explains {permission} for {handler}"
        );
    }
}
