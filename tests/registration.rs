//! Registering the type without the Python CLI: the package is renamed consistently, and the three registry calls
//! are made with aws-sdk-cloudformation against the emulated registry.

mod common;

use std::io::Read;
use std::time::Duration;

use common::World;
use pia_provider::package;
use pia_provider::registration::{register, Polling, Registration, RegistrationError};

async fn cloudformation(world: &World) -> aws_sdk_cloudformation::Client {
    let config = aws_sdk_cloudformation::Config::builder()
        .behavior_version_latest()
        .region(aws_sdk_cloudformation::config::Region::new("us-east-1"))
        .endpoint_url(world.emulator.endpoint())
        .credentials_provider(aws_credential_types::Credentials::new(
            pia_emulator::DEFAULT_ACCESS_KEY_ID,
            pia_emulator::DEFAULT_SECRET_ACCESS_KEY,
            None,
            None,
            "test",
        ))
        .build();
    aws_sdk_cloudformation::Client::from_conf(config)
}

fn registration(type_name: &str) -> Registration {
    Registration {
        type_name: type_name.to_owned(),
        package_url: "s3://acme-artifacts/acme-eks-podidentityassociation.zip".to_owned(),
        execution_role_arn: Some("arn:aws:iam::111122223333:role/pod-identity-type-execution".to_owned()),
        log_group_name: None,
        log_role_arn: None,
        set_default: true,
    }
}

const QUICK: Polling = Polling { interval: Duration::from_millis(10), timeout: Duration::from_secs(30) };

#[tokio::test]
async fn registers_waits_for_completion_and_sets_the_default_version() {
    let world = World::start().await;
    let client = cloudformation(&world).await;
    world.emulator.reset_calls();
    let registered = register(&client, &registration("Acme::EKS::PodIdentityAssociation"), QUICK).await.unwrap();
    assert_eq!(
        registered.type_arn,
        "arn:aws:cloudformation:us-east-1:111122223333:type/resource/Acme-EKS-PodIdentityAssociation"
    );
    assert_eq!(registered.type_version_arn, format!("{}/00000001", registered.type_arn));
    assert!(registered.is_default);
    assert_eq!(
        world.emulator.call_log(),
        ["RegisterType", "DescribeTypeRegistration", "DescribeTypeRegistration", "SetTypeDefaultVersion"],
        "waits while the registration is in progress"
    );
    let again = register(&client, &registration("Acme::EKS::PodIdentityAssociation"), QUICK).await.unwrap();
    assert_eq!(again.type_version_arn, format!("{}/00000002", registered.type_arn));
}

#[tokio::test]
async fn the_registry_refuses_reserved_names_and_non_s3_packages() {
    let world = World::start().await;
    let client = cloudformation(&world).await;
    let error = register(&client, &registration("AWS::EKS::PodIdentityAssociation"), QUICK).await.unwrap_err();
    assert!(matches!(&error, RegistrationError::Call { operation: "RegisterType", message } if message.contains("reserved")), "{error}");
    let mut local = registration("Acme::EKS::PodIdentityAssociation");
    local.package_url = "./package.zip".to_owned();
    assert!(matches!(register(&client, &local, QUICK).await, Err(RegistrationError::NotAnS3Url(_))));
    let mut half = registration("Acme::EKS::PodIdentityAssociation");
    half.log_group_name = Some("group".to_owned());
    assert!(matches!(register(&client, &half, QUICK).await, Err(RegistrationError::HalfLoggingConfig)));
}

#[test]
fn the_package_is_renamed_consistently_and_carries_an_executable_bootstrap() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let bootstrap = std::env::temp_dir().join(format!("pia-test-bootstrap-{}", std::process::id()));
    std::fs::write(&bootstrap, b"\x7fELF not really").unwrap();
    let type_name = package::registration_type_name(Some("Acme::EKS::PodIdentityAssociation")).unwrap();
    let bytes = package::build(root, &type_name, &bootstrap).unwrap();
    std::fs::remove_file(&bootstrap).unwrap();

    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut names: Vec<String> = archive.file_names().map(|name| name.unwrap().into_owned()).collect();
    names.sort();
    assert!(names.contains(&"schema.json".to_owned()) && names.contains(&".rpdk-config".to_owned()), "{names:?}");
    assert!(names.contains(&"inputs/inputs_1_create.json".to_owned()), "{names:?}");
    let read = |archive: &mut zip::ZipArchive<_>, name: &str| {
        let mut text = String::new();
        archive.by_name(name).unwrap().read_to_string(&mut text).unwrap();
        serde_json::from_str::<serde_json::Value>(&text).unwrap()
    };
    assert_eq!(read(&mut archive, "schema.json")["typeName"], "Acme::EKS::PodIdentityAssociation");
    assert_eq!(read(&mut archive, ".rpdk-config")["typeName"], "Acme::EKS::PodIdentityAssociation");
    let schema = read(&mut archive, "schema.json");
    let ours: serde_json::Value = serde_json::from_str(pia_provider::schema::RESOURCE_SCHEMA).unwrap();
    assert_eq!(schema["handlers"], ours["handlers"], "permissions unchanged");

    let mut handler = Vec::new();
    archive.by_name("handler.zip").unwrap().read_to_end(&mut handler).unwrap();
    let mut handler = zip::ZipArchive::new(std::io::Cursor::new(handler)).unwrap();
    let entry = handler.by_name("bootstrap").unwrap();
    assert_eq!(entry.unix_mode().map(|mode| mode & 0o777), Some(0o755));
}
