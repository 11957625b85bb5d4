//! Every path of Create, against the in-memory EKS: the outcome and exactly the EKS calls made.

use std::time::Duration;

use pia_handlers::create::TRANSIENT_RETRIES;
use pia_handlers::eks::{EksError, EksErrorKind, NewAssociation};
use pia_handlers::testing::{CREATE, MemoryEks};
use pia_handlers::{
    Action, EksApi, HandlerErrorCode, OperationStatus, Pacing, ProgressEvent, ResourceModel, ResourceRequest, handle,
};
use serde_json::json;
use tokio::time::Instant;

use crate::support::{CLUSTER, ROLE, assert_failed, tag, tags};

const TOKEN: &str = "b9e8c2d4-5f6a-4b1c-9d0e-1f2a3b4c5d6e";

fn eks() -> MemoryEks {
    MemoryEks::new().with_cluster(CLUSTER).with_role(ROLE)
}

fn template() -> ResourceModel {
    ResourceModel {
        cluster_name: Some(CLUSTER.into()),
        namespace: Some("default".into()),
        service_account: Some("app".into()),
        role_arn: Some(ROLE.into()),
        ..ResourceModel::default()
    }
}

fn request(eks: &MemoryEks, desired: ResourceModel) -> ResourceRequest {
    ResourceRequest {
        desired,
        scope: eks.scope(),
        client_request_token: Some(TOKEN.into()),
        ..ResourceRequest::default()
    }
}

async fn create(eks: &MemoryEks, request: &ResourceRequest) -> ProgressEvent {
    handle(eks, Action::Create, request, &Pacing::default()).await
}

#[tokio::test]
async fn creates_the_association_with_one_call() {
    let eks = eks();
    let event = create(&eks, &request(&eks, template())).await;

    assert_eq!(eks.take_calls(), [CREATE]);
    let [made] = &eks.associations(CLUSTER)[..] else {
        panic!("one association expected");
    };
    assert_eq!(
        event,
        ProgressEvent::success(ResourceModel {
            association_arn: Some(made.association_arn.clone()),
            association_id: Some(made.association_id.clone()),
            external_id: made.external_id.clone(),
            disable_session_tags: Some(false),
            ..template()
        })
    );
}

#[tokio::test]
async fn read_only_properties_are_refused_without_a_call() {
    let eks = eks();
    let cases = [
        (
            ResourceModel {
                association_arn: Some(
                    "arn:aws:eks:us-east-1:111122223333:podidentityassociation/prod/a-0123456789abcdefg".into(),
                ),
                ..template()
            },
            "AssociationArn",
        ),
        (
            ResourceModel {
                association_id: Some("a-0123456789abcdefg".into()),
                external_id: Some("e".into()),
                ..template()
            },
            "AssociationId, ExternalId",
        ),
    ];
    for (desired, named) in cases {
        let event = create(&eks, &request(&eks, desired)).await;
        assert_failed(&event, HandlerErrorCode::InvalidRequest, named);
    }
    assert_eq!(eks.take_calls(), Vec::<&str>::new());
}

#[tokio::test]
async fn a_callback_context_is_refused_without_a_call() {
    let eks = eks();
    let request = ResourceRequest {
        callback_context: Some(json!({"roleWaitAttempts": 1})),
        ..request(&eks, template())
    };
    let event = create(&eks, &request).await;
    assert_failed(&event, HandlerErrorCode::InvalidRequest, "never called back");
    assert_eq!(eks.take_calls(), Vec::<&str>::new());
}

#[tokio::test]
async fn stack_and_model_tags_are_merged_without_aws_keys() {
    let eks = eks();
    let request = ResourceRequest {
        stack_tags: tags(&[
            ("team", "stack"),
            ("env", "prod"),
            ("aws:cloudformation:stack-name", "s"),
        ]),
        ..request(
            &eks,
            ResourceModel {
                tags: Some(vec![tag("team", "app")]),
                ..template()
            },
        )
    };
    let event = create(&eks, &request).await;

    assert_eq!(eks.take_calls(), [CREATE]);
    // The in-memory EKS refuses `aws:` keys as EKS does: the create succeeding shows the stack's were dropped.
    assert_eq!(
        eks.associations(CLUSTER)[0].tags,
        tags(&[("env", "prod"), ("team", "app")])
    );
    let model = event.resource_model.expect("a model");
    assert_eq!(model.tags, Some(vec![tag("env", "prod"), tag("team", "app")]));
}

#[tokio::test]
async fn duplicate_and_aws_model_tag_keys_are_refused_without_a_call() {
    let eks = eks();
    for (tags, message) in [
        (
            vec![tag("team", "a"), tag("team", "b")],
            "\"team\" is given more than once",
        ),
        (vec![tag("aws:owner", "me")], "\"aws:owner\" begins with `aws:`"),
    ] {
        let desired = ResourceModel {
            tags: Some(tags),
            ..template()
        };
        let event = create(&eks, &request(&eks, desired)).await;
        assert_failed(&event, HandlerErrorCode::InvalidRequest, message);
    }
    assert_eq!(eks.take_calls(), Vec::<&str>::new());
}

#[tokio::test(start_paused = true)]
async fn a_role_not_yet_visible_is_polled_for_within_the_invocation() {
    let eks = MemoryEks::new().with_cluster(CLUSTER).with_late_role(ROLE, 2);
    let started = Instant::now();
    let event = create(&eks, &request(&eks, template())).await;

    assert!(event.is_success(), "{event:?}");
    assert_eq!(eks.take_calls(), [CREATE; 3]);
    assert_eq!(started.elapsed(), Pacing::default().role_poll_interval * 2);
}

#[tokio::test(start_paused = true)]
async fn a_role_that_never_appears_is_role_not_found_after_the_window() {
    let eks = MemoryEks::new().with_cluster(CLUSTER);
    let pacing = Pacing::default();
    let started = Instant::now();
    let event = create(&eks, &request(&eks, template())).await;

    assert_failed(
        &event,
        HandlerErrorCode::InvalidRequest,
        &format!("IAM role {ROLE} does not exist after waiting 60 s"),
    );
    // One attempt at the start, then one per poll interval while the next one still starts within the window.
    let polls = (pacing.window.as_secs() / pacing.role_poll_interval.as_secs()) as usize;
    assert_eq!(eks.take_calls(), vec![CREATE; 1 + polls]);
    assert_eq!(started.elapsed(), pacing.window);
    assert!(eks.associations(CLUSTER).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_transient_failure_is_sent_again_and_succeeds() {
    let eks = eks();
    eks.fail_next(1, transient(EksErrorKind::Throttling));
    let event = create(&eks, &request(&eks, template())).await;

    assert!(event.is_success(), "{event:?}");
    assert_eq!(eks.take_calls(), [CREATE, CREATE]);
    assert_eq!(eks.associations(CLUSTER).len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_create_applied_with_its_answer_lost_is_not_duplicated() {
    let eks = eks();
    eks.fail_after_applying(2, transient(EksErrorKind::Network));
    let event = create(&eks, &request(&eks, template())).await;

    // Resent with the same token, EKS answers with the association the first attempt made; another token would
    // have met that association as a conflict.
    assert_eq!(eks.take_calls(), [CREATE; 3]);
    let [made] = &eks.associations(CLUSTER)[..] else {
        panic!("one association expected");
    };
    let model = event.resource_model.expect("a model");
    assert_eq!(model.association_id.as_ref(), Some(&made.association_id));
    assert_eq!(event.status, OperationStatus::Success);
}

#[tokio::test(start_paused = true)]
async fn transient_failures_that_persist_give_up_after_the_resends() {
    for (kind, code) in [
        (EksErrorKind::Throttling, HandlerErrorCode::Throttling),
        (EksErrorKind::ServiceError, HandlerErrorCode::ServiceInternalError),
        (EksErrorKind::Network, HandlerErrorCode::NetworkFailure),
    ] {
        let eks = eks();
        eks.fail_next(100, transient(kind));
        let started = Instant::now();
        let event = create(&eks, &request(&eks, template())).await;

        assert_failed(&event, code, "still failing");
        assert_eq!(eks.take_calls(), vec![CREATE; 1 + TRANSIENT_RETRIES as usize]);
        // The pauses double from one second: 1 + 2 + 4 + 8 + 16.
        assert_eq!(started.elapsed(), Duration::from_secs(31));
    }
}

#[tokio::test(start_paused = true)]
async fn without_a_token_a_transient_failure_is_not_sent_again() {
    let eks = eks();
    eks.fail_next(1, transient(EksErrorKind::ServiceError));
    let request = ResourceRequest {
        client_request_token: None,
        ..request(&eks, template())
    };
    let event = create(&eks, &request).await;

    assert_failed(&event, HandlerErrorCode::ServiceInternalError, "still failing");
    assert_eq!(eks.take_calls(), [CREATE]);
}

#[tokio::test]
async fn an_existing_association_is_already_exists_naming_its_id() {
    let eks = eks();
    let existing = eks
        .create_association(&NewAssociation {
            cluster_name: CLUSTER.into(),
            namespace: "default".into(),
            service_account: "app".into(),
            role_arn: ROLE.into(),
            ..NewAssociation::default()
        })
        .await
        .unwrap();
    eks.take_calls();
    let event = create(&eks, &request(&eks, template())).await;

    assert_failed(
        &event,
        HandlerErrorCode::AlreadyExists,
        &format!(
            "default/app of cluster prod already has a pod identity association ({})",
            existing.association_id
        ),
    );
    assert_eq!(eks.take_calls(), [CREATE]);
}

#[tokio::test]
async fn a_missing_cluster_is_an_invalid_request() {
    let eks = MemoryEks::new().with_role(ROLE);
    let event = create(&eks, &request(&eks, template())).await;
    assert_failed(
        &event,
        HandlerErrorCode::InvalidRequest,
        "No cluster found for name: prod.",
    );
    assert_eq!(eks.take_calls(), [CREATE]);
}

#[tokio::test]
async fn the_token_is_redacted_from_eks_messages() {
    let eks = eks();
    assert!(create(&eks, &request(&eks, template())).await.is_success());
    eks.take_calls();
    let other = ResourceModel {
        service_account: Some("other".into()),
        ..template()
    };
    let event = create(&eks, &request(&eks, other)).await;

    assert_failed(
        &event,
        HandlerErrorCode::InvalidRequest,
        "The clientRequestToken <clientRequestToken> was already used for a request with different parameters.",
    );
    assert!(!event.message.unwrap().contains(TOKEN));
    assert_eq!(eks.take_calls(), [CREATE]);
}

fn transient(kind: EksErrorKind) -> EksError {
    EksError::new(kind, CREATE, "ServiceUnavailableException", "still failing")
}
