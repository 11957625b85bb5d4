//! The state file: a second emulator started on the file of a first one resumes its world, and the
//! file is replaced atomically after every change.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use aws_credential_types::Credentials;
use common::*;
use pia_emulator::{Emulator, EmulatorConfig, EmulatorError};

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "pia-emulator-{name}-{}-{:x}",
            std::process::id(),
            rand_suffix()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
        .into()
}

fn config(state_file: &Path) -> EmulatorConfig {
    EmulatorConfig {
        state_file: Some(state_file.to_owned()),
        ..EmulatorConfig::default()
    }
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_restarted_emulator_resumes_from_its_state_file() {
    let dir = TempDir::new("resume");
    let file = dir.0.join("world.json");

    let first = Emulator::start(config(&file)).await.unwrap();
    assert!(file.exists(), "written at start");
    let eks = client(&first);
    let iam = iam_client(&first);
    iam.create_role()
        .role_name("app")
        .path("/pods/")
        .assume_role_policy_document(serde_json::to_string(&pia_emulator::pod_identity_trust_policy()).unwrap())
        .send()
        .await
        .unwrap();
    iam.attach_role_policy()
        .role_name("app")
        .policy_arn("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
        .send()
        .await
        .unwrap();
    let role_id = first.role("arn:aws:iam::111122223333:role/pods/app").unwrap().role_id;
    let created = eks
        .create_pod_identity_association()
        .cluster_name(CLUSTER)
        .namespace("ns")
        .service_account("sa")
        .role_arn("arn:aws:iam::111122223333:role/pods/app")
        .tags("team", "a")
        .client_request_token("token-1")
        .send()
        .await
        .unwrap()
        .association
        .unwrap();
    let second_created = create(&eks, "ns", "sa-2").await;
    let (akid, secret) = first.issue_access_key("444455556666", "bob");
    let mut tags = BTreeMap::new();
    tags.insert("kubernetes-namespace".to_owned(), "ns".to_owned());
    let session =
        first.issue_session_credentials(ROLE, "pod-session", tags.clone(), std::time::Duration::from_secs(3600));
    let cluster_before = eks
        .describe_cluster()
        .name(CLUSTER)
        .send()
        .await
        .unwrap()
        .cluster
        .unwrap();
    let jwks_before = first.cluster_jwks(CLUSTER).unwrap();
    // Only the file itself: temporary files were renamed over it.
    assert_eq!(files_in(&dir.0), ["world.json"]);
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(saved["format_version"], 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "only the owner may read it: {mode:o}");
    }
    first.shutdown();
    drop(first);

    let second = Emulator::start(config(&file)).await.unwrap();
    let eks = client(&second);
    let cluster = eks
        .describe_cluster()
        .name(CLUSTER)
        .send()
        .await
        .unwrap()
        .cluster
        .unwrap();
    assert_eq!(cluster.arn(), cluster_before.arn());
    assert_eq!(cluster.created_at(), cluster_before.created_at());
    assert_eq!(
        cluster.identity().unwrap().oidc().unwrap().issuer(),
        cluster_before.identity().unwrap().oidc().unwrap().issuer()
    );
    assert_eq!(second.cluster_jwks(CLUSTER).unwrap(), jwks_before);

    let described = eks
        .describe_pod_identity_association()
        .cluster_name(CLUSTER)
        .association_id(created.association_id().unwrap())
        .send()
        .await
        .unwrap()
        .association
        .unwrap();
    assert_eq!(described, created);
    // The client request token is remembered: a retried create answers the same association.
    let replayed = eks
        .create_pod_identity_association()
        .cluster_name(CLUSTER)
        .namespace("ns")
        .service_account("sa")
        .role_arn("arn:aws:iam::111122223333:role/pods/app")
        .tags("team", "a")
        .client_request_token("token-1")
        .send()
        .await
        .unwrap()
        .association
        .unwrap();
    assert_eq!(replayed.association_id(), created.association_id());
    // New associations come after the old ones in list order.
    let third = create(&eks, "ns", "sa-3").await;
    let listed = eks
        .list_pod_identity_associations()
        .cluster_name(CLUSTER)
        .send()
        .await
        .unwrap();
    let ids: Vec<&str> = listed
        .associations()
        .iter()
        .map(|a| a.association_id().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            created.association_id().unwrap(),
            second_created.association_id().unwrap(),
            third.association_id().unwrap()
        ]
    );

    let role = iam_client(&second)
        .get_role()
        .role_name("app")
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    assert_eq!(role.role_id(), role_id);
    let attached = iam_client(&second)
        .list_attached_role_policies()
        .role_name("app")
        .send()
        .await
        .unwrap();
    assert_eq!(attached.attached_policies().len(), 1);

    // Keys and sessions issued by the first run still sign requests.
    let me = sts_client_with(&second, Credentials::new(&akid, &secret, None, None, "t"))
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(me.arn(), Some("arn:aws:iam::444455556666:user/bob"));
    let me = sts_client_with(
        &second,
        Credentials::new(
            &session.access_key_id,
            &session.secret_access_key,
            Some(session.session_token.clone()),
            None,
            "t",
        ),
    )
    .get_caller_identity()
    .send()
    .await
    .unwrap();
    assert_eq!(me.arn(), Some(session.assumed_role_arn.as_str()));
    assert_eq!(second.session_tags(&session.access_key_id), Some(tags));
    // And the default key is there as ever.
    sts_client(&second).get_caller_identity().send().await.unwrap();
}

#[tokio::test]
async fn every_change_is_saved_and_reads_are_not() {
    let dir = TempDir::new("changes");
    let file = dir.0.join("state.json");
    let emu = Emulator::start(config(&file)).await.unwrap();
    let eks = client(&emu);
    let modified = || std::fs::read(&file).unwrap();
    let before = modified();
    eks.describe_cluster().name(CLUSTER).send().await.unwrap();
    assert_eq!(modified(), before, "a read does not rewrite the file");
    let id = create(&eks, "ns", "sa").await.association_id.unwrap();
    let after_create = modified();
    assert_ne!(after_create, before);
    assert!(String::from_utf8_lossy(&after_create).contains(&id));
    eks.delete_pod_identity_association()
        .cluster_name(CLUSTER)
        .association_id(&id)
        .send()
        .await
        .unwrap();
    let saved: serde_json::Value = serde_json::from_slice(&modified()).unwrap();
    assert_eq!(saved["clusters"][0]["associations"], serde_json::json!([]));
    // A refused change is not saved either.
    let unchanged = modified();
    let _ = iam_client(&emu)
        .delete_role()
        .role_name("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(modified(), unchanged);
    emu.put_role(
        "arn:aws:iam::111122223333:role/in-process",
        pia_emulator::pod_identity_trust_policy(),
    );
    assert!(String::from_utf8_lossy(&modified()).contains("role/in-process"));
    assert_eq!(files_in(&dir.0), ["state.json"]);
}

#[tokio::test]
async fn a_broken_state_file_stops_the_start() {
    let dir = TempDir::new("broken");
    let file = dir.0.join("state.json");
    std::fs::write(&file, "{not json").unwrap();
    let error = Emulator::start(config(&file)).await.unwrap_err();
    assert!(matches!(error, EmulatorError::StateFile { .. }), "{error}");
    assert!(error.to_string().contains("state.json"), "{error}");
    std::fs::write(
        &file,
        r#"{"format_version": 99, "clusters": [], "roles": [], "identities": {"users": {}, "sessions": {}}}"#,
    )
    .unwrap();
    let error = Emulator::start(config(&file)).await.unwrap_err();
    assert!(error.to_string().contains("format version 99"), "{error}");
}
