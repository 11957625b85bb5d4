//! The handlers end to end: wire requests in, ProgressEvents out, aws-sdk-eks on the wire to the emulated EKS.
//! Each test checks a rule of the handler contract or a row of the README's error table.

use pia_emulator::{EmulatorConfig, ErrorKind, Fault};
use pia_testkit::*;
use serde_json::{Value, json};

// ---- Create ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn create_makes_one_call_and_returns_the_whole_model() {
    let world = World::start().await;
    let mut create = request("CREATE", desired());
    create["requestData"]["stackTags"] = json!({"stack": "demo", "aws:cloudformation:stack-name": "demo"});
    let (event, made) = world.invoke_counting(&create).await;

    assert_eq!(made, calls(&[("CreatePodIdentityAssociation", 1)]));
    assert_eq!(event["status"], "SUCCESS");
    for absent in ["errorCode", "message", "resourceModels", "nextToken", "callbackContext"] {
        assert!(event.get(absent).is_none(), "{absent} must be left out: {event}");
    }
    let model = &event["resourceModel"];
    let arn = model["AssociationArn"].as_str().unwrap();
    let id = model["AssociationId"].as_str().unwrap();
    assert_eq!(
        arn,
        format!("arn:aws:eks:us-east-1:111122223333:podidentityassociation/demo/{id}")
    );
    assert_eq!(id.len(), 19);
    assert!(model["ExternalId"].is_string());
    for key in ["ClusterName", "Namespace", "ServiceAccount", "RoleArn"] {
        assert_eq!(model[key], desired()[key]);
    }
    // Stack tags are applied; CloudFormation's aws: system tags are not sent.
    assert_eq!(
        tag_pairs(model),
        vec![("stack".into(), "demo".into()), ("team".into(), "payments".into())]
    );
}

#[tokio::test]
async fn create_then_read_returns_every_input_property_unchanged() {
    let world = World::start().await;
    let mut input = desired();
    input["TargetRoleArn"] = json!(TARGET_ROLE);
    input["DisableSessionTags"] = json!(true);
    input["Policy"] =
        json!(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#);
    input["Tags"] = json!([{"Key": "b", "Value": "2"}, {"Key": "a", "Value": ""}]);
    let created = world.create(input.clone()).await;
    let read = world
        .invoke(&request("READ", json!({"AssociationArn": created["AssociationArn"]})))
        .await;
    assert_eq!(read["status"], "SUCCESS");
    let model = &read["resourceModel"];
    for (key, value) in input.as_object().unwrap() {
        if key == "Tags" {
            assert_eq!(tag_pairs(model), tag_pairs(&input));
        } else {
            assert_eq!(&model[key], value, "{key}");
        }
    }
    assert_eq!(model["AssociationId"], created["AssociationId"]);
    assert_eq!(model["ExternalId"], created["ExternalId"]);
}

#[tokio::test]
async fn template_strings_for_booleans_are_accepted() {
    let world = World::start().await;
    let mut input = desired();
    input["DisableSessionTags"] = json!("true");
    let created = world.create(input).await;
    assert_eq!(created["DisableSessionTags"], json!(true));
}

#[tokio::test]
async fn a_retried_create_with_the_same_token_returns_the_same_association() {
    let world = World::start().await;
    let create = request("CREATE", desired());
    let first = world.invoke(&create).await;
    let again = world.invoke(&create).await;
    assert_eq!(again["status"], "SUCCESS", "{again}");
    assert_eq!(
        first["resourceModel"]["AssociationArn"],
        again["resourceModel"]["AssociationArn"]
    );
    assert_eq!(world.emulator.association_count("demo"), 1);
}

#[tokio::test]
async fn a_duplicate_create_is_already_exists_naming_the_existing_association() {
    let world = World::start().await;
    let created = world.create(desired()).await;
    let duplicate = world.invoke(&request("CREATE", desired())).await;
    assert_eq!(duplicate["status"], "FAILED");
    assert_eq!(duplicate["errorCode"], "AlreadyExists");
    let message = duplicate["message"].as_str().unwrap();
    assert!(
        message.contains(created["AssociationId"].as_str().unwrap()),
        "{message}"
    );
    assert!(message.contains("payments/api"), "{message}");
    assert!(duplicate.get("resourceModel").is_none() && duplicate.get("resourceModels").is_none());
}

#[tokio::test]
async fn create_after_delete_makes_a_new_association() {
    let world = World::start().await;
    let first = world.create(desired()).await;
    assert_eq!(
        world.invoke(&request("DELETE", first.clone())).await["status"],
        "SUCCESS"
    );
    let second = world.create(desired()).await;
    assert_ne!(
        second["AssociationArn"], first["AssociationArn"],
        "a new primary identifier"
    );
    assert_eq!(
        world.invoke(&request("READ", second.clone())).await["resourceModel"],
        second
    );
    assert_eq!(world.invoke(&request("READ", first)).await["errorCode"], "NotFound");
}

#[tokio::test]
async fn create_in_a_missing_cluster_is_invalid_request() {
    let world = World::start().await;
    let mut input = desired();
    input["ClusterName"] = json!("no-such-cluster");
    let event = world.invoke(&request("CREATE", input)).await;
    assert_eq!(event["errorCode"], "InvalidRequest", "{event}");
    assert!(event["message"].as_str().unwrap().contains("no-such-cluster"));
}

#[tokio::test]
async fn create_with_read_only_properties_is_rejected_before_any_call() {
    let world = World::start().await;
    let mut input = desired();
    input["AssociationId"] = json!("a-0123456789abcdefg");
    let (event, made) = world.invoke_counting(&request("CREATE", input)).await;
    assert_eq!(event["errorCode"], "InvalidRequest");
    assert!(event["message"].as_str().unwrap().contains("AssociationId"));
    assert!(made.is_empty());
}

/// Update checks the desired model against the schema while its first call, a read, is under way: a model that
/// fails is refused before anything changes, and the association stays as it was.
#[tokio::test]
async fn an_update_of_an_existing_association_against_the_schema_changes_nothing() {
    let world = World::start().await;
    let created = world.create(desired()).await;
    for (patch, named) in [
        (json!({"RoleArn": "arn:aws:iam::111122223333:user/bob"}), "RoleArn"),
        (json!({"Colour": "blue"}), "Colour"),
        (json!({"Tags": [{"Key": "", "Value": "v"}]}), "Tags"),
    ] {
        let mut wanted = created.clone();
        for (key, value) in patch.as_object().unwrap() {
            wanted[key] = value.clone();
        }
        let (event, made) = world.invoke_counting(&update_request(wanted, created.clone())).await;
        assert_eq!(event["errorCode"], "InvalidRequest", "{patch}: {event}");
        assert!(event["message"].as_str().unwrap().contains(named), "{patch}: {event}");
        assert!(
            made.iter()
                .all(|(call, n)| call == "DescribePodIdentityAssociation" && *n == 1),
            "{patch}: calls beyond one read: {made:?}"
        );
        let now = world.invoke(&request("READ", created.clone())).await;
        assert_eq!(now["resourceModel"], created, "{patch}");
    }
}

#[tokio::test]
async fn schema_violations_are_invalid_request_naming_the_property_with_no_call() {
    let world = World::start().await;
    let cases = [
        (json!({"RoleArn": "arn:aws:iam::111122223333:user/bob"}), "RoleArn"),
        (json!({"Policy": "{}"}), "Policy requires DisableSessionTags: true"),
        (
            json!({"Tags": (0..51).map(|i| json!({"Key": format!("k{i}"), "Value": "v"})).collect::<Vec<_>>()}),
            "Tags",
        ),
        (json!({"Namespace": 5}), "Namespace"),
        (json!({"Colour": "blue"}), "Colour"),
    ];
    for (patch, named) in cases {
        let mut input = desired();
        for (key, value) in patch.as_object().unwrap() {
            input[key] = value.clone();
        }
        for action in ["CREATE", "UPDATE"] {
            let (event, made) = world.invoke_counting(&request(action, input.clone())).await;
            assert_eq!(event["errorCode"], "InvalidRequest", "{action} {patch}: {event}");
            assert!(
                event["message"].as_str().unwrap().contains(named),
                "{action} {patch}: {event}"
            );
            assert!(made.is_empty(), "{action} {patch} made calls: {made:?}");
        }
    }
}

/// A world whose IAM propagates new roles to EKS after `seconds`, with a provider polling every 100 ms.
async fn propagating_world(seconds: f64) -> World {
    let config = EmulatorConfig {
        role_propagation_seconds: seconds,
        ..EmulatorConfig::default()
    };
    World::with_pacing(config, fast_pacing()).await
}

#[tokio::test]
async fn a_create_waits_inside_the_invocation_for_a_role_iam_has_not_propagated() {
    let world = propagating_world(1.0).await;
    let new_role = world.create_role("created-in-the-same-stack").await;
    let mut input = desired();
    input["RoleArn"] = json!(new_role);

    let (done, made) = world.invoke_counting(&request("CREATE", input)).await;
    // No IN_PROGRESS: it could not carry the AssociationArn, which exists only once EKS has made the association.
    assert_eq!(done["status"], "SUCCESS", "{done}");
    assert_eq!(done["resourceModel"]["RoleArn"], new_role.as_str());
    let creates = made[0].1;
    assert!(made[0].0 == "CreatePodIdentityAssociation" && creates > 1, "{made:?}");
    assert_eq!(world.emulator.association_count("demo"), 1);
}

#[tokio::test]
async fn the_wait_for_a_role_that_never_appears_ends_in_bounded_time_saying_what_to_do() {
    let pacing = pia_handlers::Pacing {
        window: std::time::Duration::from_secs(1),
        ..fast_pacing()
    };
    let world = World::with_pacing(EmulatorConfig::default(), pacing).await;
    let mut input = desired();
    input["RoleArn"] = json!("arn:aws:iam::111122223333:role/never-created");
    let (event, made) = world.invoke_counting(&request("CREATE", input)).await;
    assert_eq!(event["status"], "FAILED", "{event}");
    assert_eq!(event["errorCode"], "InvalidRequest");
    let message = event["message"].as_str().unwrap();
    assert!(
        message.contains("never-created")
            && message.contains("retry the stack operation")
            && message.contains("check that RoleArn names an existing role"),
        "{message}"
    );
    assert!(made[0].1 <= 11, "bounded by the window: {made:?}");
    assert_eq!(world.emulator.association_count("demo"), 0);
}

#[tokio::test]
async fn a_create_is_never_called_back_so_any_callback_context_is_invalid() {
    let world = World::start().await;
    for context in [
        json!({"roleWaitAttempts": 4294967295u64}),
        json!({"transientRetries": 1}),
    ] {
        let mut create = request("CREATE", desired());
        create["callbackContext"] = context.clone();
        let (event, made) = world.invoke_counting(&create).await;
        assert_eq!(event["errorCode"], "InvalidRequest", "{context}: {event}");
        assert!(made.is_empty());
    }
}

#[tokio::test]
async fn an_update_to_a_role_iam_has_not_propagated_calls_back_with_the_identifier() {
    let world = propagating_world(1.5).await;
    let created = world.create(desired()).await;
    let new_role = world.create_role("created-in-the-same-update").await;
    let mut wanted = created.clone();
    wanted["RoleArn"] = json!(new_role);
    let update = update_request(wanted, created.clone());

    let waiting = world.invoke(&update).await;
    assert_eq!(waiting["status"], "IN_PROGRESS", "{waiting}");
    assert_eq!(waiting["resourceModel"]["AssociationArn"], created["AssociationArn"]);
    assert_eq!(waiting["callbackContext"], json!({"roleWaitAttempts": 1}));
    assert_eq!(waiting["callbackDelaySeconds"], 10);
    assert!(waiting.get("errorCode").is_none() && waiting.get("resourceModels").is_none());

    tokio::time::sleep(std::time::Duration::from_millis(1600)).await;
    let done = world.invoke(&callback(&update, &waiting)).await;
    assert_eq!(done["status"], "SUCCESS", "{done}");
    assert_eq!(done["resourceModel"]["RoleArn"], new_role.as_str());
    assert_eq!(done["resourceModel"]["AssociationArn"], created["AssociationArn"]);
}

#[tokio::test]
async fn an_update_stops_waiting_for_a_role_after_bounded_callbacks_and_refuses_forged_contexts() {
    let world = World::start().await;
    let created = world.create(desired()).await;
    let mut wanted = created.clone();
    wanted["RoleArn"] = json!("arn:aws:iam::111122223333:role/never-created");
    let mut update = update_request(wanted, created);
    let last = pia_handlers::propagation::ROLE_WAIT_MAX_CALLBACKS - 1;
    update["callbackContext"] = json!({ "roleWaitAttempts": last });
    let event = world.invoke(&update).await;
    assert_eq!(event["errorCode"], "InvalidRequest", "{event}");
    assert!(event["message"].as_str().unwrap().contains("never-created"), "{event}");

    for forged in [
        json!({"roleWaitAttempts": 4294967295u64}),
        json!({"roleWaitAttempts": 0}),
        json!({"roleWaitAttempts": "1"}),
        json!({"somethingElse": true}),
    ] {
        update["callbackContext"] = forged.clone();
        let (event, made) = world.invoke_counting(&update).await;
        assert_eq!(event["errorCode"], "InvalidRequest", "{forged}: {event}");
        assert!(made.is_empty(), "{forged}: {made:?}");
    }
}

#[tokio::test]
async fn the_association_quota_is_service_limit_exceeded() {
    let world = World::with_config(EmulatorConfig {
        max_associations_per_cluster: 1,
        ..EmulatorConfig::default()
    })
    .await;
    world.create(desired()).await;
    let mut second = desired();
    second["ServiceAccount"] = json!("worker");
    let event = world.invoke(&request("CREATE", second)).await;
    assert_eq!(event["errorCode"], "ServiceLimitExceeded", "{event}");
}

// ---- Read --------------------------------------------------------------------------------------------------

#[tokio::test]
async fn read_makes_one_call_from_the_arn_alone() {
    let world = World::start().await;
    let created = world.create(desired()).await;
    let (event, made) = world
        .invoke_counting(&request("READ", json!({"AssociationArn": created["AssociationArn"]})))
        .await;
    assert_eq!(made, calls(&[("DescribePodIdentityAssociation", 1)]));
    assert_eq!(event["resourceModel"], created);
}

#[tokio::test]
async fn read_of_a_malformed_arn_is_invalid_request() {
    let world = World::start().await;
    for arn in [
        "",
        "arn:aws:eks:us-east-1:111122223333:cluster/demo",
        "arn:aws:eks:us-east-1:111122223333:podidentityassociation/demo/a-1",
    ] {
        let (event, made) = world
            .invoke_counting(&request("READ", json!({"AssociationArn": arn})))
            .await;
        assert_eq!(event["errorCode"], "InvalidRequest", "{arn}: {event}");
        assert!(made.is_empty());
    }
    let event = world.invoke(&request("READ", json!({}))).await;
    assert_eq!(event["errorCode"], "InvalidRequest");
    assert!(event["message"].as_str().unwrap().contains("AssociationArn"));
}

/// The ARN of `arn` with one of its partition, region or account replaced.
fn elsewhere(arn: &str, part: usize, value: &str) -> String {
    let mut parts: Vec<&str> = arn.splitn(6, ':').collect();
    parts[part] = value;
    parts.join(":")
}

#[tokio::test]
async fn an_arn_of_another_partition_region_or_account_is_not_found_and_touches_nothing() {
    let world = World::start().await;
    let created = world.create(desired()).await;
    let arn = created["AssociationArn"].as_str().unwrap();
    for foreign in [
        elsewhere(arn, 1, "aws-cn"),
        elsewhere(arn, 1, "aws-us-gov"),
        elsewhere(arn, 3, "eu-west-1"),
        elsewhere(arn, 4, "444455556666"),
    ] {
        for action in ["READ", "UPDATE", "DELETE"] {
            let mut model = created.clone();
            model["AssociationArn"] = json!(foreign);
            let req = match action {
                "UPDATE" => update_request(model.clone(), model),
                _ => request(action, json!({"AssociationArn": foreign})),
            };
            let (event, made) = world.invoke_counting(&req).await;
            assert_eq!(event["errorCode"], "NotFound", "{action} {foreign}: {event}");
            assert!(made.is_empty(), "{action} {foreign}: {made:?}");
        }
    }
    // A request without awsAccountId (the test-entrypoint shape may lack it): EKS's answer says whose it is.
    let foreign = elsewhere(arn, 4, "444455556666");
    for action in ["READ", "DELETE"] {
        let mut req = request(action, json!({"AssociationArn": foreign}));
        req.as_object_mut().unwrap().remove("awsAccountId");
        let (event, made) = world.invoke_counting(&req).await;
        assert_eq!(event["errorCode"], "NotFound", "{action}: {event}");
        assert_eq!(
            made,
            calls(&[("DescribePodIdentityAssociation", 1)]),
            "{action}: no delete"
        );
    }
    assert_eq!(world.emulator.association_count("demo"), 1, "nothing was deleted");
    let read = world.invoke(&request("READ", created.clone())).await;
    assert_eq!(read["resourceModel"], created);
}

#[tokio::test]
async fn a_malformed_account_id_is_invalid_request() {
    let world = World::start().await;
    let mut req = request(
        "READ",
        json!({"AssociationArn": "arn:aws:eks:us-east-1:111122223333:podidentityassociation/demo/a-0123456789abcdefg"}),
    );
    req["awsAccountId"] = json!("1111");
    let (event, made) = world.invoke_counting(&req).await;
    assert_eq!(event["errorCode"], "InvalidRequest", "{event}");
    assert!(made.is_empty());
}

#[tokio::test]
async fn models_written_by_another_type_version_still_read_delete_and_list() {
    let world = World::start().await;
    let created = world.create(desired()).await;
    let mut old = created.clone();
    old["RetiredProperty"] = json!({"from": "an older version"});
    for action in ["READ", "LIST"] {
        let event = world.invoke(&request(action, old.clone())).await;
        assert_eq!(event["status"], "SUCCESS", "{action}: {event}");
    }
    let event = world.invoke(&request("DELETE", old.clone())).await;
    assert_eq!(event["status"], "SUCCESS", "{event}");
    // Create and Update stay strict.
    let mut new = desired();
    new["UnknownProperty"] = json!(1);
    let event = world.invoke(&request("CREATE", new)).await;
    assert_eq!(event["errorCode"], "InvalidRequest", "{event}");
    assert!(
        event["message"].as_str().unwrap().contains("UnknownProperty"),
        "{event}"
    );
}

#[tokio::test]
async fn read_update_and_delete_of_a_missing_association_are_not_found() {
    let world = World::start().await;
    let created = world.create(desired()).await;
    let deleted = world.invoke(&request("DELETE", created.clone())).await;
    assert_eq!(deleted, json!({"status": "SUCCESS"}), "DELETE SUCCESS carries no model");

    for action in ["READ", "UPDATE", "DELETE"] {
        let mut req = request(action, created.clone());
        if action == "UPDATE" {
            req = update_request(created.clone(), created.clone());
        }
        let event = world.invoke(&req).await;
        assert_eq!(event["status"], "FAILED", "{action}: {event}");
        assert_eq!(event["errorCode"], "NotFound", "{action}: {event}");
        assert!(
            event["message"]
                .as_str()
                .unwrap()
                .contains(created["AssociationId"].as_str().unwrap())
        );
    }
    // A missing cluster on Read is NotFound as well: the association is gone either way.
    let arn = "arn:aws:eks:us-east-1:111122223333:podidentityassociation/gone/a-0123456789abcdefg";
    let event = world.invoke(&request("READ", json!({"AssociationArn": arn}))).await;
    assert_eq!(event["errorCode"], "NotFound", "{event}");
}

#[tokio::test]
async fn aws_tags_are_not_reported_by_read() {
    let world = World::with_config(EmulatorConfig {
        allow_system_tags: true,
        ..EmulatorConfig::default()
    })
    .await;
    let created = world.create(desired()).await;
    let client = sdk_client(&world).await;
    client
        .tag_resource()
        .resource_arn(created["AssociationArn"].as_str().unwrap())
        .tags("aws:eks:owner", "addon")
        .send()
        .await
        .unwrap();
    let read = world.invoke(&request("READ", created.clone())).await;
    assert_eq!(
        tag_pairs(&read["resourceModel"]),
        vec![("team".into(), "payments".into())]
    );
}

// ---- Update ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_role_change_is_describe_then_update_sending_only_the_role() {
    let world = World::start().await;
    let created = world.create(desired()).await;
    let mut wanted = created.clone();
    wanted["RoleArn"] = json!(ROLE_2);
    let (event, made) = world.invoke_counting(&update_request(wanted, created.clone())).await;
    assert_eq!(event["status"], "SUCCESS", "{event}");
    assert_eq!(
        made,
        calls(&[
            ("DescribePodIdentityAssociation", 1),
            ("UpdatePodIdentityAssociation", 1)
        ])
    );
    assert_eq!(event["resourceModel"]["RoleArn"], ROLE_2);
    assert_eq!(
        event["resourceModel"]["AssociationArn"], created["AssociationArn"],
        "the identifier never changes"
    );
    let read = world.invoke(&request("READ", created)).await;
    assert_eq!(read["resourceModel"]["RoleArn"], ROLE_2);
}

#[tokio::test]
async fn a_tags_only_update_never_calls_update_association() {
    let world = World::start().await;
    let mut input = desired();
    input["Tags"] =
        json!([{"Key": "keep", "Value": "1"}, {"Key": "change", "Value": "old"}, {"Key": "drop", "Value": "x"}]);
    let created = world.create(input).await;
    let mut wanted = created.clone();
    wanted["Tags"] =
        json!([{"Key": "keep", "Value": "1"}, {"Key": "change", "Value": "new"}, {"Key": "add", "Value": "y"}]);
    let (event, made) = world
        .invoke_counting(&update_request(wanted.clone(), created.clone()))
        .await;
    assert_eq!(event["status"], "SUCCESS", "{event}");
    assert_eq!(
        made,
        calls(&[
            ("DescribePodIdentityAssociation", 1),
            ("TagResource", 1),
            ("UntagResource", 1)
        ])
    );
    assert_eq!(tag_pairs(&event["resourceModel"]), tag_pairs(&wanted));
    let read = world.invoke(&request("READ", created)).await;
    assert_eq!(tag_pairs(&read["resourceModel"]), tag_pairs(&wanted));
}

#[tokio::test]
async fn stack_tag_changes_are_applied_on_update() {
    let world = World::start().await;
    let mut create = request("CREATE", desired());
    create["requestData"]["stackTags"] = json!({"env": "dev"});
    let created = world.invoke(&create).await["resourceModel"].clone();
    // CloudFormation sends the template's properties (without stack tags) plus the identifier.
    let mut template = desired();
    template["AssociationArn"] = created["AssociationArn"].clone();
    let mut update = update_request(template.clone(), template);
    update["requestData"]["stackTags"] = json!({"owner": "sre"});
    let event = world.invoke(&update).await;
    assert_eq!(
        tag_pairs(&event["resourceModel"]),
        vec![("owner".into(), "sre".into()), ("team".into(), "payments".into())]
    );
}

#[tokio::test]
async fn an_update_without_the_previous_model_makes_eks_hold_exactly_the_desired_tags() {
    let world = World::start().await;
    let mut input = desired();
    input["Tags"] = json!([{"Key": "team", "Value": "payments"}, {"Key": "removed", "Value": "x"}]);
    let created = world.create(input).await;
    let mut wanted = created.clone();
    wanted["Tags"] = json!([{"Key": "team", "Value": "payments"}]);
    let (event, made) = world.invoke_counting(&request("UPDATE", wanted.clone())).await;
    assert_eq!(event["status"], "SUCCESS", "{event}");
    assert_eq!(event["resourceModel"], wanted);
    assert_eq!(
        made,
        calls(&[("DescribePodIdentityAssociation", 1), ("UntagResource", 1)])
    );
    let held = &world.emulator.associations("demo")[0];
    assert_eq!(held.tags.keys().collect::<Vec<_>>(), ["team"]);
}

#[tokio::test]
async fn duplicate_and_aws_tag_keys_in_the_model_are_refused_by_name() {
    let world = World::start().await;
    let created = world.create(desired()).await;
    for (tags, named) in [
        (
            json!([{"Key": "team", "Value": "a"}, {"Key": "team", "Value": "b"}]),
            "\"team\" is given more than once",
        ),
        (
            json!([{"Key": "aws:cloudformation:stack-name", "Value": "s"}]),
            "\"aws:cloudformation:stack-name\" begins with `aws:`",
        ),
    ] {
        let mut input = desired();
        input["Namespace"] = json!("other");
        input["Tags"] = tags.clone();
        let mut wanted = created.clone();
        wanted["Tags"] = tags.clone();
        for req in [request("CREATE", input), update_request(wanted, created.clone())] {
            let (event, made) = world.invoke_counting(&req).await;
            assert_eq!(event["errorCode"], "InvalidRequest", "{tags}: {event}");
            assert!(event["message"].as_str().unwrap().contains(named), "{event}");
            assert!(made.is_empty(), "{made:?}");
        }
    }
    // System tags from CloudFormation itself (stack tags) stay unsent, as EKS refuses them.
    let mut create = request(
        "CREATE",
        json!({"ClusterName": "demo", "Namespace": "sys", "ServiceAccount": "api", "RoleArn": ROLE}),
    );
    create["requestData"]["stackTags"] = json!({"aws:cloudformation:stack-name": "s", "env": "prod"});
    let event = world.invoke(&create).await;
    assert_eq!(
        tag_pairs(&event["resourceModel"]),
        vec![("env".into(), "prod".into())],
        "{event}"
    );
}

#[tokio::test]
async fn an_update_whose_change_another_writer_made_first_is_success() {
    let world = World::start().await;
    let created = world.create(desired()).await;
    let mut wanted = created.clone();
    wanted["RoleArn"] = json!(ROLE_2);
    // The handler's Update is held back; meanwhile another writer sets the same role.
    world.emulator.inject(
        "UpdatePodIdentityAssociation",
        Fault::Latency(std::time::Duration::from_millis(500)),
        1,
    );
    world.emulator.reset_calls();
    let provider = world.provider.clone();
    let update = update_request(wanted.clone(), created.clone());
    let handler = tokio::spawn(async move { provider.invoke(update.to_string().as_bytes()).await });
    while world
        .emulator
        .calls_snapshot()
        .get("UpdatePodIdentityAssociation")
        .copied()
        != Some(1)
    {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    sdk_client(&world)
        .await
        .update_pod_identity_association()
        .cluster_name("demo")
        .association_id(created["AssociationId"].as_str().unwrap())
        .role_arn(ROLE_2)
        .send()
        .await
        .unwrap();
    let event = serde_json::to_value(handler.await.unwrap()).unwrap();
    assert_eq!(
        event["status"], "SUCCESS",
        "EKS said nothing changed because it had: {event}"
    );
    assert_eq!(event["resourceModel"], wanted);
}

#[tokio::test]
async fn an_update_that_changes_nothing_only_describes() {
    let world = World::start().await;
    let created = world.create(desired()).await;
    let (event, made) = world
        .invoke_counting(&update_request(created.clone(), created.clone()))
        .await;
    assert_eq!(event["status"], "SUCCESS", "{event}");
    assert_eq!(made, calls(&[("DescribePodIdentityAssociation", 1)]));
    assert_eq!(event["resourceModel"], created);
}

#[tokio::test]
async fn removing_target_role_and_policy_clears_them() {
    let world = World::start().await;
    let mut input = desired();
    input["TargetRoleArn"] = json!(TARGET_ROLE);
    input["DisableSessionTags"] = json!(true);
    input["Policy"] = json!(r#"{"Version":"2012-10-17","Statement":[]}"#);
    let created = world.create(input).await;
    let mut wanted = created.clone();
    let fields = wanted.as_object_mut().unwrap();
    fields.remove("TargetRoleArn");
    fields.remove("Policy");
    fields.remove("DisableSessionTags");
    let event = world.invoke(&update_request(wanted, created.clone())).await;
    assert_eq!(event["status"], "SUCCESS", "{event}");
    let read = world.invoke(&request("READ", created)).await["resourceModel"].clone();
    assert!(
        read.get("TargetRoleArn").is_none() && read.get("Policy").is_none(),
        "{read}"
    );
    assert_eq!(read["DisableSessionTags"], json!(false));
}

#[tokio::test]
async fn changing_a_create_only_property_is_not_updatable_without_calls() {
    let world = World::start().await;
    let created = world.create(desired()).await;
    for (key, value) in [
        ("Namespace", "other"),
        ("ServiceAccount", "other"),
        ("ClusterName", "other"),
    ] {
        let mut wanted = created.clone();
        wanted[key] = json!(value);
        let (event, made) = world.invoke_counting(&update_request(wanted, created.clone())).await;
        assert_eq!(event["errorCode"], "NotUpdatable", "{key}: {event}");
        assert!(event["message"].as_str().unwrap().contains(key));
        assert!(made.is_empty(), "{key}: {made:?}");
    }
}

#[tokio::test]
async fn an_invalid_update_from_eks_is_invalid_request() {
    let world = World::start().await;
    let created = world.create(desired()).await;
    let mut wanted = created.clone();
    // A role of another account: EKS refuses to pass it (a role not yet visible is waited for instead).
    wanted["RoleArn"] = json!("arn:aws:iam::444455556666:role/elsewhere");
    let event = world.invoke(&update_request(wanted, created)).await;
    assert_eq!(event["errorCode"], "InvalidRequest", "{event}");
    assert!(event["message"].as_str().unwrap().contains("pass role"), "{event}");
}

// ---- List --------------------------------------------------------------------------------------------------

#[tokio::test]
async fn list_pages_through_with_next_token_one_call_each() {
    let world = World::start().await;
    let mut created = Vec::new();
    for i in 0..230 {
        let mut input = desired();
        input["ServiceAccount"] = json!(format!("sa-{i:03}"));
        input.as_object_mut().unwrap().remove("Tags");
        created.push(world.create(input).await["AssociationArn"].as_str().unwrap().to_owned());
    }
    let mut seen = Vec::new();
    let mut next_token: Option<Value> = None;
    let mut pages = 0;
    loop {
        let mut list = request("LIST", json!({"ClusterName": "demo"}));
        if let Some(token) = &next_token {
            list["nextToken"] = token.clone();
        }
        let (event, made) = world.invoke_counting(&list).await;
        assert_eq!(event["status"], "SUCCESS", "{event}");
        assert!(event.get("resourceModel").is_none());
        assert_eq!(made, calls(&[("ListPodIdentityAssociations", 1)]));
        pages += 1;
        for model in event["resourceModels"].as_array().unwrap() {
            assert_eq!(model["ClusterName"], "demo");
            seen.push(model["AssociationArn"].as_str().unwrap().to_owned());
        }
        match event.get("nextToken") {
            Some(token) => next_token = Some(token.clone()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    seen.sort();
    created.sort();
    assert_eq!(seen, created);
}

#[tokio::test]
async fn list_requires_the_cluster_name() {
    let world = World::start().await;
    for properties in [json!({}), json!({"ClusterName": ""}), Value::Null] {
        let (event, made) = world.invoke_counting(&request("LIST", properties.clone())).await;
        assert_eq!(event["errorCode"], "InvalidRequest", "{properties}: {event}");
        assert!(event["message"].as_str().unwrap().contains("ClusterName"));
        assert!(
            event.get("resourceModels").is_none(),
            "FAILED carries no resourceModels"
        );
        assert!(made.is_empty());
    }
}

#[tokio::test]
async fn deleted_associations_leave_the_list() {
    let world = World::start().await;
    let created = world.create(desired()).await;
    let listed = world.invoke(&request("LIST", json!({"ClusterName": "demo"}))).await;
    assert!(
        listed["resourceModels"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["AssociationArn"] == created["AssociationArn"])
    );
    let (deleted, made) = world
        .invoke_counting(&request("DELETE", json!({"AssociationArn": created["AssociationArn"]})))
        .await;
    assert_eq!(deleted, json!({"status": "SUCCESS"}));
    assert_eq!(made, calls(&[("DeletePodIdentityAssociation", 1)]));
    let listed = world.invoke(&request("LIST", json!({"ClusterName": "demo"}))).await;
    assert_eq!(listed["resourceModels"], json!([]));
}

// ---- Faults: throttling, 5xx, network ----------------------------------------------------------------------

#[tokio::test]
async fn throttling_is_retried_a_bounded_number_of_times() {
    let world = World::start().await;
    let created = world.create(desired()).await;
    world
        .emulator
        .inject("DescribePodIdentityAssociation", Fault::Throttle, 2);
    let (event, made) = world.invoke_counting(&request("READ", created.clone())).await;
    assert_eq!(event["status"], "SUCCESS", "{event}");
    assert_eq!(made, calls(&[("DescribePodIdentityAssociation", 3)]));

    world
        .emulator
        .inject("DescribePodIdentityAssociation", Fault::Throttle, 100);
    let (event, made) = world.invoke_counting(&request("READ", created)).await;
    assert_eq!(event["errorCode"], "Throttling", "{event}");
    assert_eq!(
        made,
        calls(&[("DescribePodIdentityAssociation", 4)]),
        "bounded attempts"
    );
}

#[tokio::test]
async fn persistent_server_errors_are_service_internal_error_and_503_is_throttling() {
    let world = World::start().await;
    let created = world.create(desired()).await;
    world
        .emulator
        .inject("DeletePodIdentityAssociation", Fault::ServerError, 100);
    let event = world.invoke(&request("DELETE", created.clone())).await;
    assert_eq!(event["errorCode"], "ServiceInternalError", "{event}");
    world.emulator.clear_faults();
    world
        .emulator
        .inject("DeletePodIdentityAssociation", Fault::Unavailable, 100);
    let event = world.invoke(&request("DELETE", created.clone())).await;
    assert_eq!(event["errorCode"], "Throttling", "{event}");
    world.emulator.clear_faults();
    let event = world.invoke(&request("DELETE", created)).await;
    assert_eq!(
        event["status"], "SUCCESS",
        "nothing was deleted by the failed attempts: {event}"
    );
}

#[tokio::test]
async fn a_create_whose_response_is_lost_is_retried_without_a_duplicate() {
    let world = World::start().await;
    world
        .emulator
        .inject("CreatePodIdentityAssociation", Fault::DropAfterApply, 1);
    let event = world.invoke(&request("CREATE", desired())).await;
    assert_eq!(event["status"], "SUCCESS", "{event}");
    assert_eq!(world.emulator.association_count("demo"), 1);
}

#[tokio::test]
async fn an_unreachable_endpoint_is_network_failure() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let provider = pia_provider::Provider::new(pia_provider::eks_client::base_config_for(Some(closed)).await);
    let arn = "arn:aws:eks:us-east-1:111122223333:podidentityassociation/demo/a-0123456789abcdefg";
    let event = serde_json::to_value(
        provider
            .invoke(request("READ", json!({"AssociationArn": arn})).to_string().as_bytes())
            .await,
    )
    .unwrap();
    assert_eq!(event["errorCode"], "NetworkFailure", "{event}");
}

#[tokio::test]
async fn access_denied_is_access_denied_and_denied_tagging_is_unauthorized_tagging() {
    let world = World::start().await;
    world
        .emulator
        .inject("CreatePodIdentityAssociation", Fault::Error(ErrorKind::AccessDenied), 1);
    let event = world.invoke(&request("CREATE", desired())).await;
    assert_eq!(event["errorCode"], "AccessDenied", "{event}");

    let created = world.create(desired()).await;
    let mut wanted = created.clone();
    wanted["Tags"] = json!([{"Key": "team", "Value": "other"}]);
    world
        .emulator
        .inject("TagResource", Fault::Error(ErrorKind::AccessDenied), 1);
    let event = world.invoke(&update_request(wanted, created)).await;
    assert_eq!(event["errorCode"], "UnauthorizedTaggingOperation", "{event}");
}

#[tokio::test]
async fn a_conflict_on_update_is_resource_conflict() {
    let world = World::start().await;
    let created = world.create(desired()).await;
    let mut wanted = created.clone();
    wanted["RoleArn"] = json!(ROLE_2);
    world.emulator.inject(
        "UpdatePodIdentityAssociation",
        Fault::Error(ErrorKind::ResourceInUse),
        1,
    );
    let event = world.invoke(&update_request(wanted, created)).await;
    assert_eq!(event["errorCode"], "ResourceConflict", "{event}");
}

#[tokio::test]
async fn the_callers_session_credentials_sign_the_eks_calls() {
    let world = World::start().await;
    let session = pia_testkit::secrets::session(&world.emulator);
    let mut create = request("CREATE", desired());
    create["requestData"]["callerCredentials"] = json!({
        "accessKeyId": session.access_key_id,
        "secretAccessKey": session.secret_access_key,
        "sessionToken": session.session_token,
    });
    let event = world.invoke(&create).await;
    assert_eq!(event["status"], "SUCCESS", "{event}");
}

#[tokio::test]
async fn no_caller_credentials_is_invalid_credentials_at_once_for_every_action() {
    let world = World::start().await;
    let created = world.create(desired()).await;
    for action in ["CREATE", "READ", "UPDATE", "DELETE", "LIST"] {
        for credentials in [None, Some(Value::Null)] {
            let mut req = match action {
                "CREATE" => request(action, desired()),
                "UPDATE" => update_request(created.clone(), created.clone()),
                _ => request(action, created.clone()),
            };
            match &credentials {
                None => drop(req["requestData"].as_object_mut().unwrap().remove("callerCredentials")),
                Some(null) => req["requestData"]["callerCredentials"] = null.clone(),
            }
            let (event, made) = world.invoke_counting(&req).await;
            assert_eq!(
                event["errorCode"], "InvalidCredentials",
                "{action} {credentials:?}: {event}"
            );
            assert!(made.is_empty(), "{action}: EKS was called as somebody: {made:?}");
        }
    }
}

#[tokio::test]
async fn a_reused_bearer_token_never_appears_in_the_answer() {
    let world = World::start().await;
    let first = request("CREATE", desired());
    world.invoke(&first).await;
    // The same token for a create with other parameters: EKS refuses it, quoting the token.
    let mut reused = request(
        "CREATE",
        json!({"ClusterName": "demo", "Namespace": "other", "ServiceAccount": "api", "RoleArn": ROLE}),
    );
    reused["bearerToken"] = first["bearerToken"].clone();
    let event = world.invoke(&reused).await;
    assert_eq!(event["errorCode"], "InvalidRequest", "{event}");
    let token = first["bearerToken"].as_str().unwrap();
    assert!(!event.to_string().contains(token), "{event}");
    assert!(
        event["message"].as_str().unwrap().contains("<clientRequestToken>"),
        "{event}"
    );
}

#[tokio::test]
async fn wrong_or_unknown_caller_credentials_are_invalid_credentials() {
    let world = World::start().await;
    for credentials in [
        json!({"accessKeyId": pia_emulator::DEFAULT_ACCESS_KEY_ID, "secretAccessKey": "not-the-secret"}),
        json!({"accessKeyId": "AKIAUNKNOWNKEY000000", "secretAccessKey": "whatever"}),
        json!({"accessKeyId": pia_emulator::DEFAULT_ACCESS_KEY_ID, "secretAccessKey": pia_emulator::DEFAULT_SECRET_ACCESS_KEY, "sessionToken": "forged"}),
    ] {
        let mut read = request(
            "READ",
            json!({"AssociationArn": "arn:aws:eks:us-east-1:111122223333:podidentityassociation/demo/a-0123456789abcdefg"}),
        );
        read["requestData"]["callerCredentials"] = credentials.clone();
        let (event, made) = world.invoke_counting(&read).await;
        assert_eq!(event["errorCode"], "InvalidCredentials", "{credentials}: {event}");
        assert_eq!(made, calls(&[("DescribePodIdentityAssociation", 1)]), "not retried");
    }
}

// ---- Protocol ----------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_test_entrypoint_shape_drives_the_same_handlers() {
    let world = World::start().await;
    let request = json!({
        "credentials": {"accessKeyId": pia_emulator::DEFAULT_ACCESS_KEY_ID, "secretAccessKey": pia_emulator::DEFAULT_SECRET_ACCESS_KEY},
        "action": "CREATE",
        "request": {"clientRequestToken": "t-1", "desiredResourceState": desired(), "region": "us-east-1",
                    "desiredResourceTags": {"stack": "x"}, "logicalResourceIdentifier": "A"},
        "callbackContext": null
    });
    let event = world.invoke(&request).await;
    assert_eq!(event["status"], "SUCCESS", "{event}");
    assert!(tag_pairs(&event["resourceModel"]).contains(&("stack".into(), "x".into())));
}

#[tokio::test]
async fn malformed_requests_fail_with_invalid_request_and_never_panic() {
    let world = World::start().await;
    let payloads: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"null".to_vec(),
        b"\"CREATE\"".to_vec(),
        b"{\"action\":\"CREATE\"}".to_vec(),
        b"{\"action\":\"CREATE\",\"requestData\":5}".to_vec(),
        b"{\"action\":\"NUKE\",\"requestData\":{}}".to_vec(),
        vec![0xff, 0xfe, 0x00],
        format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes(),
        request("CREATE", json!({"ClusterName": "x".repeat(1_000_000)}))
            .to_string()
            .into_bytes(),
    ];
    for payload in payloads {
        let event = serde_json::to_value(world.provider.invoke(&payload).await).unwrap();
        assert_eq!(event["status"], "FAILED");
        assert_eq!(event["errorCode"], "InvalidRequest", "{event}");
        assert!(event["message"].as_str().unwrap().len() < 2_000);
    }
}

async fn sdk_client(world: &World) -> aws_sdk_eks::Client {
    clients::eks(&world.emulator.endpoint())
}
