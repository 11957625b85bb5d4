//! Stacks on the emulator, with the real aws-sdk-cloudformation client: the example template deploys (its role
//! through the emulated IAM, its association through this provider's handlers over the handler protocol), a pod
//! of the service account then gets the role's credentials, a Namespace change replaces the association, a failing
//! resource rolls the stack back leaving nothing behind, and a delete removes everything.

use std::time::Duration;

use aws_sdk_cloudformation::types::{Capability, Parameter, StackStatus};
use pia_testkit::*;

const TEMPLATE: &str = include_str!("../../examples/cloudformation/pod-identity.yaml");

/// A world whose emulator runs the provider's handlers for its type (as `World` registers them).
async fn world() -> (World, aws_sdk_cloudformation::Client) {
    let world = World::start().await;
    let cloudformation = aws_sdk_cloudformation::Client::new(&world.sdk_config());
    (world, cloudformation)
}

fn parameter(key: &str, value: &str) -> Parameter {
    Parameter::builder().parameter_key(key).parameter_value(value).build()
}

/// Polls DescribeStacks until the stack's operation ends; its final status.
async fn settled(cloudformation: &aws_sdk_cloudformation::Client, stack: &str) -> aws_sdk_cloudformation::types::Stack {
    for _ in 0..600 {
        let described = cloudformation.describe_stacks().stack_name(stack).send().await.unwrap();
        let found = described.stacks()[0].clone();
        if !found.stack_status().unwrap().as_str().ends_with("_IN_PROGRESS") {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("stack {stack} never settled");
}

fn output<'a>(stack: &'a aws_sdk_cloudformation::types::Stack, key: &str) -> &'a str {
    stack
        .outputs()
        .iter()
        .find(|output| output.output_key() == Some(key))
        .and_then(|output| output.output_value())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_example_deploys_updates_by_replacement_and_deletes() {
    let (world, cloudformation) = world().await;
    let parameters = |namespace: &str| {
        vec![
            parameter("ClusterName", "demo"),
            parameter("Namespace", namespace),
            parameter("ServiceAccount", "api"),
        ]
    };

    // Without the IAM capability the stack is refused before anything is made.
    let refused = cloudformation
        .create_stack()
        .stack_name("payments")
        .template_body(TEMPLATE)
        .set_parameters(Some(parameters("payments")))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        refused.as_service_error().and_then(|e| e.meta().code()),
        Some("InsufficientCapabilitiesException")
    );

    cloudformation
        .create_stack()
        .stack_name("payments")
        .template_body(TEMPLATE)
        .set_parameters(Some(parameters("payments")))
        .capabilities(Capability::CapabilityIam)
        .send()
        .await
        .unwrap();
    let created = settled(&cloudformation, "payments").await;
    assert_eq!(
        created.stack_status(),
        Some(&StackStatus::CreateComplete),
        "{created:?}"
    );
    let association_arn = output(&created, "AssociationArn").to_owned();
    let role_arn = output(&created, "RoleArn").to_owned();
    assert!(association_arn.starts_with("arn:aws:eks:us-east-1:111122223333:podidentityassociation/demo/a-"));
    let held = world.emulator.associations("demo");
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].association_arn, association_arn);
    assert_eq!(held[0].role_arn, role_arn);
    // The stack's tags and CloudFormation's own reach the association as the handler sets them.
    assert_eq!(held[0].tags.get("app").map(String::as_str), Some("api"));

    // Events in CloudFormation's order, newest first: the stack's completion on top.
    let events = cloudformation
        .describe_stack_events()
        .stack_name("payments")
        .send()
        .await
        .unwrap();
    let first = &events.stack_events()[0];
    assert_eq!(first.resource_status().map(|s| s.as_str()), Some("CREATE_COMPLETE"));
    assert_eq!(first.logical_resource_id(), Some("payments"));
    let resources = cloudformation
        .list_stack_resources()
        .stack_name("payments")
        .send()
        .await
        .unwrap();
    assert_eq!(resources.stack_resource_summaries().len(), 2);

    // A Namespace change replaces the association: a new ARN, the old one gone; the role stays as it is.
    cloudformation
        .update_stack()
        .stack_name("payments")
        .template_body(TEMPLATE)
        .set_parameters(Some(parameters("billing")))
        .capabilities(Capability::CapabilityIam)
        .send()
        .await
        .unwrap();
    let updated = settled(&cloudformation, "payments").await;
    assert_eq!(
        updated.stack_status(),
        Some(&StackStatus::UpdateComplete),
        "{updated:?}"
    );
    let replaced = output(&updated, "AssociationArn");
    assert_ne!(replaced, association_arn);
    let held = world.emulator.associations("demo");
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].association_arn, replaced);
    assert_eq!(held[0].namespace, "billing");
    assert_eq!(output(&updated, "RoleArn"), role_arn);

    // Nothing to change is refused as CloudFormation refuses it.
    let unchanged = cloudformation
        .update_stack()
        .stack_name("payments")
        .template_body(TEMPLATE)
        .set_parameters(Some(parameters("billing")))
        .capabilities(Capability::CapabilityIam)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        unchanged.as_service_error().and_then(|e| e.meta().message()),
        Some("No updates are to be performed.")
    );

    cloudformation
        .delete_stack()
        .stack_name("payments")
        .send()
        .await
        .unwrap();
    let deleted = settled(&cloudformation, created.stack_id().unwrap()).await;
    assert_eq!(deleted.stack_status(), Some(&StackStatus::DeleteComplete));
    assert!(world.emulator.associations("demo").is_empty());
    assert!(world.emulator.role(&role_arn).is_none());
    let gone = cloudformation
        .describe_stacks()
        .stack_name("payments")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        gone.as_service_error().and_then(|e| e.meta().message()),
        Some("Stack with id payments does not exist")
    );
}

#[tokio::test]
async fn a_failing_resource_rolls_the_stack_back_leaving_nothing() {
    let (world, cloudformation) = world().await;
    cloudformation
        .create_stack()
        .stack_name("broken")
        .template_body(TEMPLATE)
        .set_parameters(Some(vec![
            parameter("ClusterName", "no-such-cluster"),
            parameter("ServiceAccount", "api"),
        ]))
        .capabilities(Capability::CapabilityIam)
        .send()
        .await
        .unwrap();
    let rolled_back = settled(&cloudformation, "broken").await;
    assert_eq!(
        rolled_back.stack_status(),
        Some(&StackStatus::RollbackComplete),
        "{rolled_back:?}"
    );
    let events = cloudformation
        .describe_stack_events()
        .stack_name("broken")
        .send()
        .await
        .unwrap();
    let failed = events
        .stack_events()
        .iter()
        .find(|event| event.resource_status().map(|s| s.as_str()) == Some("CREATE_FAILED"))
        .expect("the association's failure");
    assert_eq!(failed.logical_resource_id(), Some("Association"));
    assert!(
        failed
            .resource_status_reason()
            .unwrap()
            .contains("No cluster found for name: no-such-cluster"),
        "{failed:?}"
    );
    // The role made before the failure was deleted by the rollback.
    let iam = aws_sdk_iam::Client::new(&world.sdk_config());
    let roles = iam.list_roles().send().await.unwrap();
    assert!(
        roles
            .roles()
            .iter()
            .all(|role| !role.role_name().starts_with("broken-")),
        "{:?}",
        roles.roles().iter().map(|r| r.role_name()).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn drift_detection_reads_through_the_handlers() {
    let (world, cloudformation) = world().await;
    cloudformation
        .create_stack()
        .stack_name("drifting")
        .template_body(TEMPLATE)
        .set_parameters(Some(vec![
            parameter("ClusterName", "demo"),
            parameter("ServiceAccount", "api"),
        ]))
        .capabilities(Capability::CapabilityIam)
        .tags(
            aws_sdk_cloudformation::types::Tag::builder()
                .key("team")
                .value("payments")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let created = settled(&cloudformation, "drifting").await;
    assert_eq!(
        created.stack_status(),
        Some(&StackStatus::CreateComplete),
        "{created:?}"
    );

    let detect = || async {
        let id = cloudformation
            .detect_stack_drift()
            .stack_name("drifting")
            .send()
            .await
            .unwrap()
            .stack_drift_detection_id
            .unwrap();
        for _ in 0..200 {
            let status = cloudformation
                .describe_stack_drift_detection_status()
                .stack_drift_detection_id(&id)
                .send()
                .await
                .unwrap();
            if status.detection_status().map(|s| s.as_str()) == Some("DETECTION_COMPLETE") {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("drift detection never completed");
    };
    // Just deployed: in sync, the stack's own tag on the association included.
    let fresh = detect().await;
    assert_eq!(
        fresh.stack_drift_status().map(|s| s.as_str()),
        Some("IN_SYNC"),
        "{fresh:?}"
    );

    // An out-of-band change of the association's role is MODIFIED, with the property's difference.
    let association = output(&created, "AssociationId").to_owned();
    world.emulator.put_role(
        "arn:aws:iam::111122223333:role/elsewhere",
        pia_emulator::pod_identity_trust_policy(),
    );
    let eks = aws_sdk_eks::Client::new(&world.sdk_config());
    eks.update_pod_identity_association()
        .cluster_name("demo")
        .association_id(&association)
        .role_arn("arn:aws:iam::111122223333:role/elsewhere")
        .send()
        .await
        .unwrap();
    let drifted = detect().await;
    assert_eq!(drifted.stack_drift_status().map(|s| s.as_str()), Some("DRIFTED"));
    assert_eq!(drifted.drifted_stack_resource_count(), Some(1));
    let drifts = cloudformation
        .describe_stack_resource_drifts()
        .stack_name("drifting")
        .send()
        .await
        .unwrap();
    let association_drift = drifts
        .stack_resource_drifts()
        .iter()
        .find(|drift| drift.logical_resource_id() == Some("Association"))
        .unwrap();
    assert_eq!(
        association_drift.stack_resource_drift_status().map(|s| s.as_str()),
        Some("MODIFIED")
    );
    let difference = &association_drift.property_differences()[0];
    assert_eq!(difference.property_path(), Some("/RoleArn"));
    assert_eq!(
        difference.actual_value(),
        Some("arn:aws:iam::111122223333:role/elsewhere")
    );
    let role_drift = drifts
        .stack_resource_drifts()
        .iter()
        .find(|drift| drift.logical_resource_id() == Some("PodRole"))
        .unwrap();
    assert_eq!(
        role_drift.stack_resource_drift_status().map(|s| s.as_str()),
        Some("IN_SYNC")
    );

    // Deleted out of band: DELETED.
    eks.delete_pod_identity_association()
        .cluster_name("demo")
        .association_id(&association)
        .send()
        .await
        .unwrap();
    let one = cloudformation
        .detect_stack_resource_drift()
        .stack_name("drifting")
        .logical_resource_id("Association")
        .send()
        .await
        .unwrap();
    assert_eq!(
        one.stack_resource_drift()
            .unwrap()
            .stack_resource_drift_status()
            .map(|s| s.as_str()),
        Some("DELETED")
    );
}

/// A stack that makes its own cluster, a role, an association in that cluster, and the Pod Identity Agent add-on
/// with an association of its own.
const CLUSTER_TEMPLATE: &str = r#"
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  ClusterRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: eks.amazonaws.com}
            Action: sts:AssumeRole
  Cluster:
    Type: AWS::EKS::Cluster
    Properties:
      Name: stacked
      Version: "1.31"
      RoleArn: !GetAtt ClusterRole.Arn
      ResourcesVpcConfig:
        SubnetIds: [subnet-0a, subnet-0b]
  PodRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: pods.eks.amazonaws.com}
            Action: [sts:AssumeRole, sts:TagSession]
  Association:
    Type: AWS::EKS::PodIdentityAssociation
    Properties:
      ClusterName: !Ref Cluster
      Namespace: default
      ServiceAccount: app
      RoleArn: !GetAtt PodRole.Arn
  Agent:
    Type: AWS::EKS::Addon
    Properties:
      ClusterName: !Ref Cluster
      AddonName: eks-pod-identity-agent
      PodIdentityAssociations:
        - ServiceAccount: ebs-csi-controller-sa
          RoleArn: !GetAtt PodRole.Arn
Outputs:
  Issuer:
    Value: !GetAtt Cluster.OpenIdConnectIssuerUrl
  Endpoint:
    Value: !GetAtt Cluster.Endpoint
"#;

#[tokio::test]
async fn a_stack_makes_its_own_cluster_with_the_agent_add_on_and_associates_in_it() {
    let (world, cloudformation) = world().await;
    cloudformation
        .create_stack()
        .stack_name("platform")
        .template_body(CLUSTER_TEMPLATE)
        .capabilities(Capability::CapabilityIam)
        .send()
        .await
        .unwrap();
    let created = settled(&cloudformation, "platform").await;
    assert_eq!(
        created.stack_status(),
        Some(&StackStatus::CreateComplete),
        "{created:?}"
    );
    let eks = aws_sdk_eks::Client::new(&world.sdk_config());
    let cluster = eks
        .describe_cluster()
        .name("stacked")
        .send()
        .await
        .unwrap()
        .cluster
        .unwrap();
    assert_eq!(cluster.version(), Some("1.31"));
    assert_eq!(
        cluster.identity().unwrap().oidc().unwrap().issuer(),
        Some(output(&created, "Issuer"))
    );
    assert_eq!(cluster.endpoint(), Some(output(&created, "Endpoint")));
    assert!(cluster.role_arn().unwrap().contains(":role/platform-ClusterRole-"));
    let associations = world.emulator.associations("stacked");
    assert_eq!(associations.len(), 2);
    let owned = associations
        .iter()
        .find(|association| association.service_account == "ebs-csi-controller-sa")
        .expect("the add-on's association");
    assert_eq!(owned.namespace, "kube-system");
    let addon = cloudformation
        .describe_stack_resource()
        .stack_name("platform")
        .logical_resource_id("Agent")
        .send()
        .await
        .unwrap();
    assert_eq!(
        addon.stack_resource_detail().unwrap().physical_resource_id(),
        Some("stacked|eks-pod-identity-agent")
    );
    let owner = owned.owner_arn.as_deref().expect("owned by the add-on");
    assert!(
        owner.starts_with("arn:aws:eks:us-east-1:111122223333:addon/stacked/eks-pod-identity-agent/"),
        "{owner}"
    );
    // The association API does not change what an add-on owns.
    let refused = eks
        .delete_pod_identity_association()
        .cluster_name("stacked")
        .association_id(&owned.association_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        refused.as_service_error().and_then(|e| e.meta().code()),
        Some("InvalidRequestException")
    );

    cloudformation
        .delete_stack()
        .stack_name("platform")
        .send()
        .await
        .unwrap();
    let deleted = settled(&cloudformation, created.stack_id().unwrap()).await;
    assert_eq!(
        deleted.stack_status(),
        Some(&StackStatus::DeleteComplete),
        "{deleted:?}"
    );
    let gone = eks.describe_cluster().name("stacked").send().await.unwrap_err();
    assert_eq!(
        gone.as_service_error().and_then(|e| e.meta().code()),
        Some("ResourceNotFoundException")
    );
}

#[tokio::test]
async fn a_replaced_resource_is_kept_when_its_update_replace_policy_says_retain() {
    let (world, cloudformation) = world().await;
    let template = |namespace: &str| {
        format!(
            r#"{{"Resources": {{"Association": {{"Type": "AWS::EKS::PodIdentityAssociation", "UpdateReplacePolicy": "Retain",
              "Properties": {{"ClusterName": "demo", "Namespace": "{namespace}", "ServiceAccount": "api", "RoleArn": "{ROLE}"}}}}}}}}"#
        )
    };
    cloudformation
        .create_stack()
        .stack_name("kept")
        .template_body(template("a"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        settled(&cloudformation, "kept").await.stack_status(),
        Some(&StackStatus::CreateComplete)
    );
    cloudformation
        .update_stack()
        .stack_name("kept")
        .template_body(template("b"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        settled(&cloudformation, "kept").await.stack_status(),
        Some(&StackStatus::UpdateComplete)
    );
    // Both: the new one, and the old one the policy kept.
    let namespaces: Vec<String> = world
        .emulator
        .associations("demo")
        .into_iter()
        .map(|a| a.namespace)
        .collect();
    assert_eq!(namespaces.len(), 2, "{namespaces:?}");
    let events = cloudformation
        .describe_stack_events()
        .stack_name("kept")
        .send()
        .await
        .unwrap();
    assert!(
        events
            .stack_events()
            .iter()
            .any(|event| event.resource_status().map(|s| s.as_str()) == Some("DELETE_SKIPPED"))
    );
}

#[tokio::test]
async fn systems_manager_parameters_come_from_the_parameter_store() {
    let mut config = pia_emulator::EmulatorConfig::default();
    config
        .ssm_parameters
        .insert("/platform/namespace".into(), "payments".into());
    let world = World::with_config(config).await;
    let cloudformation = aws_sdk_cloudformation::Client::new(&world.sdk_config());
    let template = format!(
        r#"{{"Parameters": {{"Namespace": {{"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/platform/namespace"}}}},
          "Resources": {{"Association": {{"Type": "AWS::EKS::PodIdentityAssociation",
            "Properties": {{"ClusterName": "demo", "Namespace": {{"Ref": "Namespace"}}, "ServiceAccount": "api", "RoleArn": "{ROLE}"}}}}}}}}"#
    );
    cloudformation
        .create_stack()
        .stack_name("from-ssm")
        .template_body(&template)
        .send()
        .await
        .unwrap();
    let created = settled(&cloudformation, "from-ssm").await;
    assert_eq!(
        created.stack_status(),
        Some(&StackStatus::CreateComplete),
        "{created:?}"
    );
    assert_eq!(world.emulator.associations("demo")[0].namespace, "payments");
    let parameter = &created.parameters()[0];
    assert_eq!(parameter.parameter_value(), Some("/platform/namespace"));
    assert_eq!(parameter.resolved_value(), Some("payments"));
    // A parameter the store does not hold is refused before anything is made.
    let missing = template.replace("/platform/namespace", "/platform/nothing");
    let refused = cloudformation
        .create_stack()
        .stack_name("no-ssm")
        .template_body(missing)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        refused.as_service_error().and_then(|e| e.meta().code()),
        Some("ValidationError")
    );
}

#[tokio::test]
async fn a_service_role_acts_for_the_stack_instead_of_the_caller() {
    use pia_emulator::config::{AccessKeyConfig, RoleConfig, UserConfig};
    let allow = |actions: serde_json::Value| serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]});
    let mut config = pia_emulator::EmulatorConfig::default();
    config.access_keys.push(AccessKeyConfig::new(
        "AKIADEPLOYER00000000",
        "deployer-secret",
        "deployer",
    ));
    config.users.push(UserConfig {
        user_name: "deployer".into(),
        account_id: "111122223333".into(),
        managed_policy_arns: Vec::new(),
        inline_policies: [(
            "deploy".to_owned(),
            allow(serde_json::json!(["cloudformation:*", "iam:PassRole"])),
        )]
        .into(),
    });
    config.roles.push(RoleConfig {
        arn: "arn:aws:iam::111122223333:role/cfn-service".into(),
        trust_policy: serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"Service": "cloudformation.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
        managed_policy_arns: Vec::new(),
        inline_policies: [("iam".to_owned(), allow(serde_json::json!("iam:*")))].into(),
    });
    let world = World::with_config(config).await;
    let deployer = aws_sdk_cloudformation::Client::new(&pia_emulator::clients::sdk_config(
        &world.emulator.endpoint(),
        aws_credential_types::Credentials::new("AKIADEPLOYER00000000", "deployer-secret", None, None, "test"),
    ));
    let template = r#"{"Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument":
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
        "Action": ["sts:AssumeRole", "sts:TagSession"]}]}}}}}"#;

    // As itself the deployer may not create roles: the stack rolls back.
    deployer
        .create_stack()
        .stack_name("as-caller")
        .template_body(template)
        .capabilities(Capability::CapabilityIam)
        .send()
        .await
        .unwrap();
    let refused = settled(&deployer, "as-caller").await;
    assert_eq!(
        refused.stack_status(),
        Some(&StackStatus::RollbackComplete),
        "{refused:?}"
    );

    // Through the service role it may.
    deployer
        .create_stack()
        .stack_name("as-service-role")
        .template_body(template)
        .capabilities(Capability::CapabilityIam)
        .role_arn("arn:aws:iam::111122223333:role/cfn-service")
        .send()
        .await
        .unwrap();
    let created = settled(&deployer, "as-service-role").await;
    assert_eq!(
        created.stack_status(),
        Some(&StackStatus::CreateComplete),
        "{created:?}"
    );

    // A role CloudFormation cannot assume is refused at once.
    let invalid = deployer
        .create_stack()
        .stack_name("bad-role")
        .template_body(template)
        .capabilities(Capability::CapabilityIam)
        .role_arn(ROLE)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        invalid.as_service_error().and_then(|e| e.meta().message()),
        Some(format!("Role {ROLE} is invalid or cannot be assumed").as_str())
    );
}

#[tokio::test]
async fn an_operation_a_restart_interrupts_ends_failed() {
    let database = std::env::temp_dir().join(format!("pia-stacks-{}.db", bearer_token()));
    let config = pia_emulator::EmulatorConfig {
        state_file: Some(database.clone()),
        ..pia_emulator::EmulatorConfig::default()
    };
    let world = World::with_config(config.clone()).await;
    // The association's create never gets its answer: the stack is still creating when the emulator stops.
    world
        .emulator
        .inject("CreatePodIdentityAssociation", pia_emulator::Fault::Hang, u32::MAX);
    let cloudformation = aws_sdk_cloudformation::Client::new(&world.sdk_config());
    let template = format!(
        r#"{{"Resources": {{"Association": {{"Type": "AWS::EKS::PodIdentityAssociation",
            "Properties": {{"ClusterName": "demo", "Namespace": "a", "ServiceAccount": "api", "RoleArn": "{ROLE}"}}}}}}}}"#
    );
    cloudformation
        .create_stack()
        .stack_name("interrupted")
        .template_body(template)
        .send()
        .await
        .unwrap();
    world.emulator.shutdown();
    drop(world);

    let restarted = pia_emulator::Emulator::start(config).await.unwrap();
    let cloudformation =
        aws_sdk_cloudformation::Client::new(&pia_testkit::clients::admin_config(&restarted.endpoint()));
    let stack = cloudformation
        .describe_stacks()
        .stack_name("interrupted")
        .send()
        .await
        .unwrap()
        .stacks()[0]
        .clone();
    assert_eq!(stack.stack_status(), Some(&StackStatus::CreateFailed), "{stack:?}");
    assert!(stack.stack_status_reason().unwrap().contains("restarted"), "{stack:?}");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", database.display()));
    }
}

#[tokio::test]
async fn callback_delays_are_compressed_by_the_configured_factor() {
    let refused = pia_emulator::Emulator::start(pia_emulator::EmulatorConfig {
        callback_time_compression: 0.5,
        ..pia_emulator::EmulatorConfig::default()
    })
    .await
    .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("callback_time_compression: 0.5 is not a number of at least 1"),
        "{refused}"
    );

    // A role made through IAM reaches EKS 2 s later: the handler's update answers IN_PROGRESS with its 10 s callback
    // delay, which the engine waits a tenth of (the handler's own budget of six callbacks shrinks as much, so it
    // still outlasts the 2 s).
    let world = World::with_config(pia_emulator::EmulatorConfig {
        callback_time_compression: 10.0,
        role_propagation_seconds: 2.0,
        ..pia_emulator::EmulatorConfig::default()
    })
    .await;
    let cloudformation = aws_sdk_cloudformation::Client::new(&world.sdk_config());
    let template = |role: &str| {
        format!(
            r#"{{"Resources": {{"Association": {{"Type": "AWS::EKS::PodIdentityAssociation",
              "Properties": {{"ClusterName": "demo", "Namespace": "late", "ServiceAccount": "api", "RoleArn": "{role}"}}}}}}}}"#
        )
    };
    cloudformation
        .create_stack()
        .stack_name("late")
        .template_body(template(ROLE))
        .send()
        .await
        .unwrap();
    assert_eq!(
        settled(&cloudformation, "late").await.stack_status(),
        Some(&StackStatus::CreateComplete)
    );
    let late_role = world.create_role("made-late").await;
    cloudformation
        .update_stack()
        .stack_name("late")
        .template_body(template(&late_role))
        .send()
        .await
        .unwrap();
    let updated = settled(&cloudformation, "late").await;
    assert_eq!(
        updated.stack_status(),
        Some(&StackStatus::UpdateComplete),
        "{updated:?}"
    );
    assert_eq!(world.emulator.associations("demo")[0].role_arn, late_role);
}
