//! Every path of Update, against the in-memory EKS: the outcome and exactly the EKS calls made.

use pia_handlers::eks::{AssociationChanges, EksError, EksErrorKind};
use pia_handlers::propagation::{ROLE_WAIT_DELAY_SECONDS, ROLE_WAIT_MAX_CALLBACKS};
use pia_handlers::testing::{DESCRIBE, MemoryEks, NOTHING_TO_CHANGE, TAG, UNTAG, UPDATE};
use pia_handlers::{
    Action, EksApi, HandlerErrorCode, OperationStatus, Pacing, ProgressEvent, ResourceModel, ResourceRequest, handle,
};
use serde_json::json;

use crate::support::{CLUSTER, ROLE, assert_failed, tag, tags};

const NEW_ROLE: &str = "arn:aws:iam::111122223333:role/app-v2";
const TARGET_ROLE: &str = "arn:aws:iam::444455556666:role/target";
const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[]}"#;

fn template() -> ResourceModel {
    ResourceModel {
        cluster_name: Some(CLUSTER.into()),
        namespace: Some("default".into()),
        service_account: Some("app".into()),
        role_arn: Some(ROLE.into()),
        ..ResourceModel::default()
    }
}

/// The association a stack made from `template`, as CloudFormation holds its model; the call log starts empty.
async fn existing(eks: &MemoryEks, template: ResourceModel) -> ResourceModel {
    let request = ResourceRequest {
        desired: template,
        scope: eks.scope(),
        client_request_token: Some("create-token".into()),
        ..ResourceRequest::default()
    };
    let event = handle(eks, Action::Create, &request, &Pacing::default()).await;
    eks.take_calls();
    event.resource_model.expect("the create succeeded")
}

/// An update from `previous` to the template `desired`, which names the association by its ARN.
fn request(eks: &MemoryEks, previous: &ResourceModel, desired: ResourceModel) -> ResourceRequest {
    ResourceRequest {
        desired: ResourceModel {
            association_arn: previous.association_arn.clone(),
            ..desired
        },
        previous: Some(previous.clone()),
        scope: eks.scope(),
        client_request_token: Some("update-token".into()),
        ..ResourceRequest::default()
    }
}

async fn update(eks: &MemoryEks, request: &ResourceRequest) -> ProgressEvent {
    handle(eks, Action::Update, request, &Pacing::default()).await
}

fn no_calls() -> Vec<&'static str> {
    Vec::new()
}

#[tokio::test]
async fn no_change_is_one_describe() {
    let eks = MemoryEks::new().with_cluster(CLUSTER).with_role(ROLE);
    let before = existing(&eks, template()).await;
    let event = update(&eks, &request(&eks, &before, template())).await;

    assert_eq!(event, ProgressEvent::success(before));
    assert_eq!(eks.take_calls(), [DESCRIBE]);
    assert_eq!(eks.updates_sent(), []);
}

#[tokio::test]
async fn a_new_role_is_the_only_field_sent() {
    let eks = MemoryEks::new()
        .with_cluster(CLUSTER)
        .with_role(ROLE)
        .with_role(NEW_ROLE);
    let with_target = ResourceModel {
        target_role_arn: Some(TARGET_ROLE.into()),
        ..template()
    };
    let before = existing(&eks, with_target.clone()).await;
    let desired = ResourceModel {
        role_arn: Some(NEW_ROLE.into()),
        ..with_target
    };
    let event = update(&eks, &request(&eks, &before, desired)).await;

    assert_eq!(eks.take_calls(), [DESCRIBE, UPDATE]);
    assert_eq!(
        eks.updates_sent(),
        [AssociationChanges {
            role_arn: Some(NEW_ROLE.into()),
            ..AssociationChanges::default()
        }]
    );
    let after = ResourceModel {
        role_arn: Some(NEW_ROLE.into()),
        ..before
    };
    assert_eq!(event, ProgressEvent::success(after));
    assert_eq!(
        eks.associations(CLUSTER)[0].target_role_arn.as_deref(),
        Some(TARGET_ROLE)
    );
}

#[tokio::test]
async fn tag_changes_are_untag_and_tag_without_an_update() {
    let eks = MemoryEks::new().with_cluster(CLUSTER).with_role(ROLE);
    let tagged = |tags| ResourceModel {
        tags: Some(tags),
        ..template()
    };
    let before = existing(&eks, tagged(vec![tag("drop", "x"), tag("team", "a")])).await;

    let event = update(
        &eks,
        &request(&eks, &before, tagged(vec![tag("add", "y"), tag("team", "b")])),
    )
    .await;
    assert_eq!(eks.take_calls(), [DESCRIBE, UNTAG, TAG]);
    assert_eq!(eks.associations(CLUSTER)[0].tags, tags(&[("add", "y"), ("team", "b")]));
    assert_eq!(
        event.resource_model.expect("a model").tags,
        Some(vec![tag("add", "y"), tag("team", "b")])
    );

    // Added keys only: no UntagResource either.
    let more = tagged(vec![tag("add", "y"), tag("team", "b"), tag("z", "1")]);
    let event = update(&eks, &request(&eks, &before, more)).await;
    assert!(event.is_success(), "{event:?}");
    assert_eq!(eks.take_calls(), [DESCRIBE, TAG]);
    assert_eq!(
        eks.associations(CLUSTER)[0].tags,
        tags(&[("add", "y"), ("team", "b"), ("z", "1")])
    );
    assert_eq!(eks.updates_sent(), []);
}

#[tokio::test]
async fn tags_on_the_association_but_not_desired_are_removed_without_a_previous_model() {
    let eks = MemoryEks::new().with_cluster(CLUSTER).with_role(ROLE);
    let stack_tags = tags(&[("env", "prod")]);
    let create = ResourceRequest {
        desired: ResourceModel {
            tags: Some(vec![tag("team", "a")]),
            ..template()
        },
        stack_tags: stack_tags.clone(),
        scope: eks.scope(),
        ..ResourceRequest::default()
    };
    let before = handle(&eks, Action::Create, &create, &Pacing::default())
        .await
        .resource_model
        .expect("the create succeeded");
    eks.take_calls();

    // Resource import and Cloud Control send no previous model: the tags EKS holds are what is diffed.
    let request = ResourceRequest {
        previous: None,
        stack_tags,
        ..request(&eks, &before, template())
    };
    let event = update(&eks, &request).await;

    assert_eq!(eks.take_calls(), [DESCRIBE, UNTAG]);
    assert_eq!(eks.associations(CLUSTER)[0].tags, tags(&[("env", "prod")]));
    assert_eq!(
        event.resource_model.expect("a model").tags,
        Some(vec![tag("env", "prod")])
    );
}

#[tokio::test]
async fn removing_target_role_and_policy_sends_empty_strings() {
    let eks = MemoryEks::new().with_cluster(CLUSTER).with_role(ROLE);
    let without = ResourceModel {
        disable_session_tags: Some(true),
        ..template()
    };
    let with = ResourceModel {
        target_role_arn: Some(TARGET_ROLE.into()),
        policy: Some(POLICY.into()),
        ..without.clone()
    };
    let before = existing(&eks, with).await;
    let event = update(&eks, &request(&eks, &before, without)).await;

    assert_eq!(eks.take_calls(), [DESCRIBE, UPDATE]);
    assert_eq!(
        eks.updates_sent(),
        [AssociationChanges {
            target_role_arn: Some(String::new()),
            policy: Some(String::new()),
            ..AssociationChanges::default()
        }]
    );
    let after = ResourceModel {
        target_role_arn: None,
        policy: None,
        ..before
    };
    assert_eq!(event, ProgressEvent::success(after));
    let held = &eks.associations(CLUSTER)[0];
    assert_eq!((&held.target_role_arn, &held.policy), (&None, &None));
}

#[tokio::test]
async fn a_create_only_change_is_not_updatable_without_a_call() {
    let eks = MemoryEks::new().with_cluster(CLUSTER).with_role(ROLE);
    let before = existing(&eks, template()).await;
    for (desired, named) in [
        (
            ResourceModel {
                cluster_name: Some("other".into()),
                ..template()
            },
            "ClusterName",
        ),
        (
            ResourceModel {
                namespace: Some("other".into()),
                ..template()
            },
            "Namespace",
        ),
        (
            ResourceModel {
                service_account: Some("other".into()),
                ..template()
            },
            "ServiceAccount",
        ),
    ] {
        let event = update(&eks, &request(&eks, &before, desired)).await;
        assert_failed(
            &event,
            HandlerErrorCode::NotUpdatable,
            &format!("{named} cannot be changed"),
        );
    }
    assert_eq!(eks.take_calls(), no_calls());
}

#[tokio::test]
async fn without_a_previous_model_a_create_only_change_is_found_against_eks() {
    let eks = MemoryEks::new().with_cluster(CLUSTER).with_role(ROLE);
    let before = existing(&eks, template()).await;
    let desired = ResourceModel {
        namespace: Some("other".into()),
        ..template()
    };
    let request = ResourceRequest {
        previous: None,
        ..request(&eks, &before, desired)
    };
    let event = update(&eks, &request).await;

    assert_failed(&event, HandlerErrorCode::NotUpdatable, "Namespace cannot be changed");
    assert_eq!(eks.take_calls(), [DESCRIBE]);
}

#[tokio::test]
async fn a_role_not_yet_visible_is_waited_for_through_callbacks() {
    let eks = MemoryEks::new()
        .with_cluster(CLUSTER)
        .with_role(ROLE)
        .with_late_role(NEW_ROLE, 1);
    let before = existing(&eks, template()).await;
    let desired = ResourceModel {
        role_arn: Some(NEW_ROLE.into()),
        ..template()
    };
    let first = request(&eks, &before, desired.clone());
    let event = update(&eks, &first).await;

    assert_eq!(eks.take_calls(), [DESCRIBE, UPDATE]);
    // Every IN_PROGRESS event carries the primary identifier.
    let waiting = ResourceModel {
        association_arn: before.association_arn.clone(),
        association_id: before.association_id.clone(),
        ..desired
    };
    assert_eq!(
        event,
        ProgressEvent::in_progress(waiting, json!({"roleWaitAttempts": 1}), ROLE_WAIT_DELAY_SECONDS)
    );

    let callback = ResourceRequest {
        desired: event.resource_model.expect("a model"),
        callback_context: event.callback_context,
        ..first
    };
    let event = update(&eks, &callback).await;
    assert_eq!(eks.take_calls(), [DESCRIBE, UPDATE]);
    let after = ResourceModel {
        role_arn: Some(NEW_ROLE.into()),
        ..before
    };
    assert_eq!(event, ProgressEvent::success(after));
}

#[tokio::test]
async fn a_role_that_never_appears_gives_up_after_a_bounded_number_of_callbacks() {
    let eks = MemoryEks::new().with_cluster(CLUSTER).with_role(ROLE);
    let before = existing(&eks, template()).await;
    let desired = ResourceModel {
        role_arn: Some(NEW_ROLE.into()),
        ..template()
    };
    let mut request = request(&eks, &before, desired);
    for attempts in 1..ROLE_WAIT_MAX_CALLBACKS {
        let event = update(&eks, &request).await;
        assert_eq!(eks.take_calls(), [DESCRIBE, UPDATE]);
        assert_eq!(event.status, OperationStatus::InProgress, "{event:?}");
        assert_eq!(event.callback_context, Some(json!({"roleWaitAttempts": attempts})));
        request.desired = event.resource_model.expect("a model");
        request.callback_context = event.callback_context;
    }
    let event = update(&eks, &request).await;

    assert_eq!(eks.take_calls(), [DESCRIBE, UPDATE]);
    let waited = (ROLE_WAIT_MAX_CALLBACKS - 1) * ROLE_WAIT_DELAY_SECONDS;
    assert_failed(
        &event,
        HandlerErrorCode::InvalidRequest,
        &format!("IAM role {NEW_ROLE} does not exist after waiting {waited} s"),
    );
    assert_eq!(eks.associations(CLUSTER)[0].role_arn, ROLE);
}

#[tokio::test]
async fn callback_contexts_this_provider_did_not_write_are_refused_without_a_call() {
    let eks = MemoryEks::new().with_cluster(CLUSTER).with_role(ROLE);
    let before = existing(&eks, template()).await;
    for context in [
        json!({"roleWaitAttempts": 0}),
        json!({"roleWaitAttempts": ROLE_WAIT_MAX_CALLBACKS}),
        json!({"roleWaitAttempts": 1, "forged": true}),
        json!({"stabilizing": true}),
        json!("text"),
    ] {
        let request = ResourceRequest {
            callback_context: Some(context.clone()),
            ..request(&eks, &before, template())
        };
        let event = update(&eks, &request).await;
        assert_failed(&event, HandlerErrorCode::InvalidRequest, "callback context");
    }
    assert_eq!(eks.take_calls(), no_calls());
}

#[tokio::test]
async fn a_concurrent_identical_write_is_success() {
    let eks = MemoryEks::new()
        .with_cluster(CLUSTER)
        .with_role(ROLE)
        .with_role(NEW_ROLE);
    let before = existing(&eks, template()).await;
    // Another writer makes the same change between our Describe and our Update, which EKS then refuses.
    eks.fail_after_applying(1, nothing_to_change());
    let desired = ResourceModel {
        role_arn: Some(NEW_ROLE.into()),
        ..template()
    };
    let event = update(&eks, &request(&eks, &before, desired)).await;

    assert_eq!(eks.take_calls(), [DESCRIBE, UPDATE, DESCRIBE]);
    let after = ResourceModel {
        role_arn: Some(NEW_ROLE.into()),
        ..before
    };
    assert_eq!(event, ProgressEvent::success(after));
}

#[tokio::test]
async fn a_different_concurrent_write_is_the_error() {
    let eks = MemoryEks::new()
        .with_cluster(CLUSTER)
        .with_role(ROLE)
        .with_role(NEW_ROLE);
    let before = existing(&eks, template()).await;
    // EKS refuses the update as changing nothing, yet the association is not as desired.
    eks.fail_next(1, nothing_to_change());
    let desired = ResourceModel {
        role_arn: Some(NEW_ROLE.into()),
        ..template()
    };
    let event = update(&eks, &request(&eks, &before, desired)).await;

    assert_eq!(eks.take_calls(), [DESCRIBE, UPDATE, DESCRIBE]);
    assert_failed(&event, HandlerErrorCode::InvalidRequest, "must change at least one");
    assert_eq!(eks.associations(CLUSTER)[0].role_arn, ROLE);
}

#[tokio::test]
async fn a_missing_association_is_not_found() {
    let eks = MemoryEks::new().with_cluster(CLUSTER).with_role(ROLE);
    let before = existing(&eks, template()).await;
    let id = before.association_id.as_deref().expect("an id");
    eks.delete_association(CLUSTER, id).await.unwrap();
    eks.take_calls();
    let event = update(&eks, &request(&eks, &before, template())).await;

    assert_failed(
        &event,
        HandlerErrorCode::NotFound,
        &format!("pod identity association {id} does not exist in cluster prod"),
    );
    assert_eq!(eks.take_calls(), [DESCRIBE]);
}

#[tokio::test]
async fn an_arn_of_another_account_region_or_partition_is_not_found_without_a_call() {
    let eks = MemoryEks::new().with_cluster(CLUSTER).with_role(ROLE);
    let before = existing(&eks, template()).await;
    let id = before.association_id.clone().expect("an id");
    for (elsewhere, why) in [
        ("arn:aws:eks:us-east-1:444455556666", "account 444455556666"),
        ("arn:aws:eks:eu-west-1:111122223333", "region eu-west-1"),
        ("arn:aws-cn:eks:us-east-1:111122223333", "partition aws-cn"),
    ] {
        let request = ResourceRequest {
            desired: ResourceModel {
                association_arn: Some(format!("{elsewhere}:podidentityassociation/{CLUSTER}/{id}")),
                ..template()
            },
            scope: eks.scope(),
            ..ResourceRequest::default()
        };
        let event = update(&eks, &request).await;
        assert_failed(&event, HandlerErrorCode::NotFound, why);
    }
    assert_eq!(eks.take_calls(), no_calls());
}

fn nothing_to_change() -> EksError {
    EksError::new(
        EksErrorKind::InvalidRequest,
        UPDATE,
        "InvalidParameterException",
        NOTHING_TO_CHANGE,
    )
}

#[tokio::test]
async fn without_a_previous_model_another_association_id_than_eks_describes_is_not_updatable() {
    let eks = MemoryEks::new().with_cluster(CLUSTER).with_role(ROLE);
    let before = existing(&eks, template()).await;
    let desired = ResourceModel {
        association_id: Some("a-0000000000000000z".into()),
        ..before.clone()
    };
    let request = ResourceRequest {
        previous: None,
        ..request(&eks, &before, desired)
    };
    let event = update(&eks, &request).await;

    assert_failed(
        &event,
        HandlerErrorCode::NotUpdatable,
        "AssociationId cannot be changed",
    );
    assert_eq!(eks.take_calls(), [DESCRIBE]);
}
