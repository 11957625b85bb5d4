//! Registering the type without the Python CLI: the package is renamed consistently, and the three registry calls
//! are made with aws-sdk-cloudformation against the emulated registry.

use std::io::Read;
use std::time::Duration;

use pia_cli::lambda_binary::{self, GlibcVersion, LambdaBinaryError};
use pia_cli::package;
use pia_cli::registration::{Polling, Registration, RegistrationError, register};
use pia_testkit::World;

async fn cloudformation(world: &World) -> aws_sdk_cloudformation::Client {
    aws_sdk_cloudformation::Client::new(&world.sdk_config())
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

const QUICK: Polling = Polling {
    interval: Duration::from_millis(10),
    timeout: Duration::from_secs(30),
};

#[tokio::test]
async fn registers_waits_for_completion_and_sets_the_default_version() {
    let world = World::start().await;
    let client = cloudformation(&world).await;
    world.emulator.reset_calls();
    let registered = register(&client, &registration("Acme::EKS::PodIdentityAssociation"), QUICK)
        .await
        .unwrap();
    assert_eq!(
        registered.type_arn,
        "arn:aws:cloudformation:us-east-1:111122223333:type/resource/Acme-EKS-PodIdentityAssociation"
    );
    assert_eq!(registered.type_version_arn, format!("{}/00000001", registered.type_arn));
    assert!(registered.is_default);
    assert_eq!(
        world.emulator.call_log(),
        [
            "RegisterType",
            "DescribeTypeRegistration",
            "DescribeTypeRegistration",
            "SetTypeDefaultVersion"
        ],
        "waits while the registration is in progress"
    );
    let again = register(&client, &registration("Acme::EKS::PodIdentityAssociation"), QUICK)
        .await
        .unwrap();
    assert_eq!(again.type_version_arn, format!("{}/00000002", registered.type_arn));
}

#[tokio::test]
async fn the_registry_refuses_reserved_names_and_non_s3_packages() {
    let world = World::start().await;
    let client = cloudformation(&world).await;
    let error = register(&client, &registration("AWS::EKS::PodIdentityAssociation"), QUICK)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, RegistrationError::Call { operation: "RegisterType", message } if message.contains("reserved")),
        "{error}"
    );
    let mut local = registration("Acme::EKS::PodIdentityAssociation");
    local.package_url = "./package.zip".to_owned();
    assert!(matches!(
        register(&client, &local, QUICK).await,
        Err(RegistrationError::NotAnS3Url(_))
    ));
    let mut half = registration("Acme::EKS::PodIdentityAssociation");
    half.log_group_name = Some("group".to_owned());
    assert!(matches!(
        register(&client, &half, QUICK).await,
        Err(RegistrationError::HalfLoggingConfig)
    ));
}

#[test]
fn the_package_is_renamed_consistently_and_carries_an_executable_bootstrap() {
    let root = project_root();
    let bootstrap = bootstrap_needing_glibc("17", "package");
    let type_name = package::registration_type_name(Some("Acme::EKS::PodIdentityAssociation")).unwrap();
    let package = package::build(root, &type_name, &bootstrap).unwrap();
    std::fs::remove_file(&bootstrap).unwrap();

    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(package.zip)).unwrap();
    let mut names: Vec<String> = archive.file_names().map(|name| name.unwrap().into_owned()).collect();
    names.sort();
    assert!(
        names.contains(&"schema.json".to_owned()) && names.contains(&".rpdk-config".to_owned()),
        "{names:?}"
    );
    assert!(names.contains(&"inputs/inputs_1_create.json".to_owned()), "{names:?}");
    let read = |archive: &mut zip::ZipArchive<_>, name: &str| {
        let mut text = String::new();
        archive.by_name(name).unwrap().read_to_string(&mut text).unwrap();
        serde_json::from_str::<serde_json::Value>(&text).unwrap()
    };
    assert_eq!(
        read(&mut archive, "schema.json")["typeName"],
        "Acme::EKS::PodIdentityAssociation"
    );
    assert_eq!(
        read(&mut archive, ".rpdk-config")["typeName"],
        "Acme::EKS::PodIdentityAssociation"
    );
    let schema = read(&mut archive, "schema.json");
    let ours: serde_json::Value = serde_json::from_str(pia_provider::schema::RESOURCE_SCHEMA).unwrap();
    assert_eq!(schema["handlers"], ours["handlers"], "permissions unchanged");

    let mut handler = Vec::new();
    archive
        .by_name("handler.zip")
        .unwrap()
        .read_to_end(&mut handler)
        .unwrap();
    let mut handler = zip::ZipArchive::new(std::io::Cursor::new(handler)).unwrap();
    let entry = handler.by_name("bootstrap").unwrap();
    assert_eq!(entry.unix_mode().map(|mode| mode & 0o777), Some(0o755));
}

/// This test build's own `bootstrap` (a real ELF), with every `GLIBC_2.NN` version it needs rewritten to `GLIBC_2.<minor>`:
/// the same binary, needing an older or a newer glibc than the build machine's, whatever that machine has.
fn bootstrap_needing_glibc(minor: &str, name: &str) -> std::path::PathBuf {
    let mut bytes = std::fs::read(pia_testkit::bootstrap_binary()).unwrap();
    let mut rewritten = 0;
    for at in dynamic_strings(&bytes) {
        let version = &mut bytes[at..at + 11];
        if version.starts_with(b"GLIBC_2.") && version[8..10].iter().all(u8::is_ascii_digit) && version[10] == 0 {
            version[8..10].copy_from_slice(minor.as_bytes());
            rewritten += 1;
        }
    }
    assert!(rewritten > 0, "the test bootstrap links glibc");
    let path = std::env::temp_dir().join(format!("pia-test-bootstrap-{name}-{}", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The offsets of `.dynstr`, the string table naming the libraries and versions the dynamic loader must find.
fn dynamic_strings(elf: &[u8]) -> std::ops::Range<usize> {
    use object::read::elf::{FileHeader, SectionHeader};
    let header = object::elf::FileHeader64::<object::Endianness>::parse(elf).unwrap();
    let endian = header.endian().unwrap();
    let sections = header.sections(endian, elf).unwrap();
    let (_, dynstr) = sections
        .section_by_name(endian, b".dynstr")
        .expect("a dynamically linked bootstrap");
    let start = dynstr.sh_offset(endian) as usize;
    start..start + dynstr.sh_size(endian) as usize - 11
}

fn package_error(bootstrap: &std::path::Path) -> package::PackageError {
    let root = project_root();
    let error = package::build(root, "Acme::EKS::PodIdentityAssociation", bootstrap).unwrap_err();
    std::fs::remove_file(bootstrap).unwrap();
    error
}

#[test]
fn a_bootstrap_needing_a_newer_glibc_than_lambda_has_is_refused() {
    let error = package_error(&bootstrap_needing_glibc("39", "newer-glibc"));
    let message = error.to_string();
    assert!(
        matches!(&error, package::PackageError::Bootstrap { source: LambdaBinaryError::NewerGlibc { required, .. }, .. } if required == "GLIBC_2.39"),
        "{message}"
    );
    assert!(
        message.contains("provided.al2023 has glibc 2.34") && message.contains("unknown-linux-gnu.2.34"),
        "{message}"
    );
}

#[test]
fn a_bootstrap_loading_a_library_lambda_lacks_is_refused() {
    let path = bootstrap_needing_glibc("17", "library");
    let mut bytes = std::fs::read(&path).unwrap();
    let at = dynamic_strings(&bytes)
        .find(|&at| &bytes[at..at + 10] == b"libc.so.6\0")
        .expect("the test bootstrap loads libc");
    bytes[at..at + 10].copy_from_slice(b"libq.so.6\0");
    std::fs::write(&path, bytes).unwrap();
    let error = package_error(&path);
    assert!(
        matches!(&error, package::PackageError::Bootstrap { source: LambdaBinaryError::MissingLibrary(name), .. } if name == "libq.so.6"),
        "{error}"
    );
}

#[test]
fn what_is_not_an_executable_is_refused() {
    let path = std::env::temp_dir().join(format!("pia-test-bootstrap-script-{}", std::process::id()));
    std::fs::write(&path, b"#!/bin/sh\nexec true\n").unwrap();
    assert!(matches!(
        package_error(&path),
        package::PackageError::Bootstrap {
            source: LambdaBinaryError::NotElf(_),
            ..
        }
    ));
}

#[test]
fn this_build_bootstrap_is_read_as_lambda_reads_it() {
    let path = bootstrap_needing_glibc("17", "read");
    let binary = lambda_binary::check(&std::fs::read(&path).unwrap()).unwrap();
    std::fs::remove_file(&path).unwrap();
    let expected = if cfg!(target_arch = "aarch64") {
        "arm64"
    } else {
        "x86_64"
    };
    assert_eq!(binary.architecture, expected);
    assert_eq!(binary.glibc, Some(GlibcVersion(2, 17)));
}

#[test]
fn a_truncated_or_corrupted_bootstrap_is_an_error_never_a_panic() {
    let path = bootstrap_needing_glibc("17", "corrupt");
    let bootstrap = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    // Cut anywhere: inside the header, the section table or the dynamic strings.
    let dynstr = dynamic_strings(&bootstrap);
    let cuts = (0..256)
        .chain([dynstr.start, dynstr.start + 64, bootstrap.len() - 1])
        .chain((1..200).map(|i| i * bootstrap.len() / 200));
    for cut in cuts {
        let truncated = &bootstrap[..cut];
        assert!(
            lambda_binary::check(truncated).is_err(),
            "a bootstrap cut at {cut} of {} bytes passed",
            bootstrap.len()
        );
    }
    // Flip bytes of the ELF header (offsets, counts, sizes): whatever the result, it is a Result.
    let mut corrupted = bootstrap;
    for at in 0..64 {
        for flip in [0x01u8, 0x80, 0xff] {
            corrupted[at] ^= flip;
            let _ = lambda_binary::check(&corrupted);
            corrupted[at] ^= flip;
        }
    }
}

/// The resource provider project, which the package is built from (this crate lives in its `cli/`).
fn project_root() -> &'static std::path::Path {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("cli/ sits in the project")
}
