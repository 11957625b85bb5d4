//! The state database: a second emulator started on the database of a first one resumes its world;
//! a change whose commit fails is answered with a 5xx and is absent now and after a restart; EKS's
//! uniqueness rules hold in the database; user keys come from the configuration only; and a `kill -9`
//! loses no acknowledged write.

// Both helper modules carry the raw HTTP exchange (`raw_http`), a free function: two copies of it are harmless.
#![allow(clippy::duplicate_mod)]

mod common;
mod pod_identity_support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_eks::error::ProvideErrorMetadata;
use common::*;
use pia_emulator::tokens::TokenRequest;
use pia_emulator::{AccessKeyConfig, Emulator, EmulatorConfig, EmulatorError};
use pod_identity_support::{assume, refusal};

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("pia-emulator-{name}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn database(&self) -> PathBuf {
        self.0.join("world.db")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn config(state_file: &Path) -> EmulatorConfig {
    EmulatorConfig {
        state_file: Some(state_file.to_owned()),
        ..EmulatorConfig::default()
    }
}

async fn restart(emulator: Emulator, state_file: &Path) -> Emulator {
    emulator.shutdown();
    drop(emulator);
    Emulator::start(config(state_file)).await.unwrap()
}

fn trust_policy() -> String {
    serde_json::to_string(&pia_emulator::pod_identity_trust_policy()).unwrap()
}

#[tokio::test]
async fn a_restarted_emulator_resumes_every_saved_kind() {
    let dir = TempDir::new("resume");
    let file = dir.database();
    let first = Emulator::start(config(&file)).await.unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o077,
            0,
            "it holds secrets: only its owner may read it ({mode:o})"
        );
    }
    let eks = client(&first);
    let iam = iam_client(&first);
    iam.create_role()
        .role_name("App")
        .path("/pods/")
        .assume_role_policy_document(trust_policy())
        .send()
        .await
        .unwrap();
    iam.attach_role_policy()
        .role_name("app")
        .policy_arn("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
        .send()
        .await
        .unwrap();
    let role_arn = "arn:aws:iam::111122223333:role/pods/App";
    let role_id = first.role(role_arn).unwrap().role_id;
    let created = eks
        .create_pod_identity_association()
        .cluster_name(CLUSTER)
        .namespace("ns")
        .service_account("sa")
        .role_arn(role_arn)
        .tags("team", "a")
        .client_request_token("create-1")
        .send()
        .await
        .unwrap()
        .association
        .unwrap();
    let id = created.association_id().unwrap().to_owned();
    let updated = eks
        .update_pod_identity_association()
        .cluster_name(CLUSTER)
        .association_id(&id)
        .role_arn(ROLE)
        .client_request_token("update-1")
        .send()
        .await
        .unwrap()
        .association
        .unwrap();
    eks.tag_resource()
        .resource_arn(created.association_arn().unwrap())
        .tags("stage", "prod")
        .send()
        .await
        .unwrap();
    let second_created = create(&eks, "ns", "sa-2").await;
    let deleted = create(&eks, "ns", "gone").await;
    eks.delete_pod_identity_association()
        .cluster_name(CLUSTER)
        .association_id(deleted.association_id().unwrap())
        .send()
        .await
        .unwrap();
    let cluster_before = eks
        .describe_cluster()
        .name(CLUSTER)
        .send()
        .await
        .unwrap()
        .cluster
        .unwrap();
    let jwks_before = first.cluster_jwks(CLUSTER).unwrap();

    // Credentials of every kind the emulator issues.
    iam.create_role()
        .role_name("assumable")
        .assume_role_policy_document(account_trust_policy(ACCOUNT))
        .send()
        .await
        .unwrap();
    let sts = sts_client(&first);
    let assumed = sts
        .assume_role()
        .role_arn("arn:aws:iam::111122223333:role/assumable")
        .role_session_name("assumed")
        .send()
        .await
        .unwrap()
        .credentials
        .unwrap();
    let user_session = sts.get_session_token().send().await.unwrap().credentials.unwrap();
    let token = first
        .mint_token(&TokenRequest::new(CLUSTER, "ns", "sa", "pod-1"))
        .unwrap();
    let pod = assume(&first, CLUSTER, &token).await.unwrap().credentials.unwrap();
    let mut tags = BTreeMap::new();
    tags.insert("kubernetes-namespace".to_owned(), "ns".to_owned());
    let in_process = first.issue_session_credentials(ROLE, "in-process", tags.clone(), Duration::from_secs(3600));

    let second = restart(first, &file).await;
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
    assert_eq!(cluster.identity(), cluster_before.identity());
    assert_eq!(
        second.cluster_jwks(CLUSTER).unwrap(),
        jwks_before,
        "the signing key is kept"
    );

    let described = eks
        .describe_pod_identity_association()
        .cluster_name(CLUSTER)
        .association_id(&id)
        .send()
        .await
        .unwrap()
        .association
        .unwrap();
    assert_eq!(described.role_arn(), Some(ROLE));
    assert_eq!(described.modified_at(), updated.modified_at());
    assert_eq!(described.tags().unwrap().get("stage").map(String::as_str), Some("prod"));
    // Both client request tokens are remembered: retries answer the same association.
    let replayed = eks
        .create_pod_identity_association()
        .cluster_name(CLUSTER)
        .namespace("ns")
        .service_account("sa")
        .role_arn(role_arn)
        .tags("team", "a")
        .client_request_token("create-1")
        .send()
        .await
        .unwrap()
        .association
        .unwrap();
    assert_eq!(replayed.association_id(), Some(id.as_str()));
    let replayed = eks
        .update_pod_identity_association()
        .cluster_name(CLUSTER)
        .association_id(&id)
        .role_arn(ROLE)
        .client_request_token("update-1")
        .send()
        .await
        .unwrap()
        .association
        .unwrap();
    assert_eq!(replayed.modified_at(), updated.modified_at());
    // The deleted one stays deleted, and new associations come after the old ones in list order.
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
            id.as_str(),
            second_created.association_id().unwrap(),
            third.association_id().unwrap()
        ]
    );

    let iam = iam_client(&second);
    let role = iam.get_role().role_name("APP").send().await.unwrap().role.unwrap();
    assert_eq!((role.role_id(), role.arn()), (role_id.as_str(), role_arn));
    let attached = iam.list_attached_role_policies().role_name("app").send().await.unwrap();
    assert_eq!(attached.attached_policies().len(), 1);
    // Role names stay unique whatever their case.
    let again = iam
        .create_role()
        .role_name("app")
        .assume_role_policy_document(trust_policy())
        .send()
        .await
        .unwrap_err();
    assert_eq!(again.code(), Some("EntityAlreadyExists"));

    // Every session issued by the first run still signs requests, as itself.
    let pod = Credentials::new(
        pod.access_key_id(),
        pod.secret_access_key(),
        Some(pod.session_token().to_owned()),
        None,
        "pod",
    );
    let in_process = Credentials::new(
        &in_process.access_key_id,
        &in_process.secret_access_key,
        Some(in_process.session_token.clone()),
        None,
        "in-process",
    );
    for (credentials, arn_start) in [
        (
            from_sts(&assumed),
            "arn:aws:sts::111122223333:assumed-role/assumable/assumed",
        ),
        (from_sts(&user_session), "arn:aws:iam::111122223333:user/admin"),
        (
            pod,
            "arn:aws:sts::111122223333:assumed-role/demo-pod-role/eks-demo-pod-1-",
        ),
        (
            in_process.clone(),
            "arn:aws:sts::111122223333:assumed-role/demo-pod-role/in-process",
        ),
    ] {
        let me = sts_client_with(&second, credentials)
            .get_caller_identity()
            .send()
            .await
            .unwrap();
        assert!(me.arn().unwrap().starts_with(arn_start), "{:?}", me.arn());
    }
    assert_eq!(second.session_tags(in_process.access_key_id()), Some(tags));
}

/// Another process holds the database's write lock: every commit fails (after the busy timeout).
struct WriteLock(rusqlite::Connection);

impl WriteLock {
    fn take(file: &Path) -> Self {
        let connection = rusqlite::Connection::open(file).unwrap();
        connection.execute_batch("BEGIN IMMEDIATE").unwrap();
        Self(connection)
    }

    fn release(self) {
        self.0.execute_batch("ROLLBACK").unwrap();
    }
}

#[tokio::test]
async fn a_change_that_cannot_be_committed_is_answered_5xx_and_undone() {
    let dir = TempDir::new("unsaved");
    let file = dir.database();
    let emulator = Emulator::start(config(&file)).await.unwrap();
    let kept = create(&client(&emulator), "ns", "kept").await;
    let token = emulator
        .mint_token(&TokenRequest::new(CLUSTER, "ns", "kept", "pod-1"))
        .unwrap();

    let lock = WriteLock::take(&file);
    let eks = client(&emulator);
    let refused = eks
        .create_pod_identity_association()
        .cluster_name(CLUSTER)
        .namespace("ns")
        .service_account("lost")
        .role_arn(ROLE)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refused.raw_response().unwrap().status().as_u16(), 500);
    assert_eq!(refused.code(), Some("ServerException"));
    let refused = eks
        .delete_pod_identity_association()
        .cluster_name(CLUSTER)
        .association_id(kept.association_id().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("ServerException"));
    let refused = iam_client(&emulator)
        .create_role()
        .role_name("lost")
        .assume_role_policy_document(trust_policy())
        .send()
        .await
        .unwrap_err();
    assert_eq!(refused.raw_response().unwrap().status().as_u16(), 500);
    assert_eq!(refused.code(), Some("ServiceFailure"));
    let refused = sts_client(&emulator).get_session_token().send().await.unwrap_err();
    assert_eq!(refused.code(), Some("ServiceFailure"));
    let (status, code, _) = refusal(assume(&emulator, CLUSTER, &token).await);
    assert_eq!((status, code.as_str()), (500, "InternalServerException"));
    // Reads still work while the lock is held.
    eks.describe_cluster().name(CLUSTER).send().await.unwrap();
    lock.release();

    // Nothing changed, now and after a restart; and writing works again.
    assert_unchanged(&emulator).await;
    assume(&emulator, CLUSTER, &token).await.unwrap();
    let emulator = restart(emulator, &file).await;
    assert_unchanged(&emulator).await;
    assume(&emulator, CLUSTER, &token).await.unwrap();
}

/// Only the association `kept` is there, and no role `lost`.
async fn assert_unchanged(emulator: &Emulator) {
    let listed = client(emulator)
        .list_pod_identity_associations()
        .cluster_name(CLUSTER)
        .send()
        .await
        .unwrap();
    let accounts: Vec<&str> = listed
        .associations()
        .iter()
        .map(|a| a.service_account().unwrap())
        .collect();
    assert_eq!(accounts, ["kept"]);
    let missing = iam_client(emulator)
        .get_role()
        .role_name("lost")
        .send()
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Some("NoSuchEntity"));
}

#[tokio::test]
async fn two_associations_for_one_service_account_are_refused_by_the_database() {
    let dir = TempDir::new("duplicate");
    let file = dir.database();
    let emulator = Emulator::start(config(&file)).await.unwrap();
    let first = create(&client(&emulator), "ns", "sa").await;
    emulator.shutdown();
    drop(emulator);

    let database = rusqlite::Connection::open(&file).unwrap();
    let duplicate = "INSERT INTO associations (cluster, association_id, namespace, service_account, seq, body)
        SELECT cluster, 'a-duplicate0000000', namespace, service_account, seq + 1,
               json_set(body, '$.associationId', 'a-duplicate0000000')
        FROM associations";
    let error = database.execute(duplicate, []).unwrap_err();
    assert!(error.to_string().contains("UNIQUE constraint failed"), "{error}");

    // A hand edit that drops the constraint first is refused at start, naming the two.
    database
        .execute_batch("DROP INDEX associations_one_per_service_account")
        .unwrap();
    database.execute(duplicate, []).unwrap();
    drop(database);
    let error = Emulator::start(config(&file)).await.unwrap_err();
    assert!(matches!(error, EmulatorError::StateFile { .. }), "{error}");
    let message = error.to_string();
    for part in [
        "world.db",
        "ns/sa",
        first.association_id().unwrap(),
        "a-duplicate0000000",
    ] {
        assert!(message.contains(part), "{message} names {part}");
    }
}

#[tokio::test]
async fn a_key_removed_from_the_configuration_no_longer_signs() {
    let dir = TempDir::new("keys");
    let file = dir.database();
    let extra = Credentials::new(
        "AKIAEXTRAKEY00000001",
        "extra-secret-extra-secret-extra-secret00",
        None,
        None,
        "t",
    );
    let mut with_extra = config(&file);
    with_extra.access_keys.push(AccessKeyConfig::new(
        extra.access_key_id(),
        extra.secret_access_key(),
        "carol",
    ));
    let emulator = Emulator::start(with_extra).await.unwrap();
    let sts = sts_client_with(&emulator, extra.clone());
    let me = sts.get_caller_identity().send().await.unwrap();
    assert_eq!(me.arn(), Some("arn:aws:iam::111122223333:user/carol"));
    let session = sts.get_session_token().send().await.unwrap().credentials.unwrap();
    let (issued, issued_secret) = emulator.issue_access_key("111122223333", "dave");

    let emulator = restart(emulator, &file).await;
    for removed in [extra, Credentials::new(&issued, &issued_secret, None, None, "t")] {
        let refused = sts_client_with(&emulator, removed)
            .get_caller_identity()
            .send()
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Some("InvalidClientTokenId"));
    }
    // Sessions are kept: the one the removed key took still acts as its user until it expires.
    let me = sts_client_with(&emulator, from_sts(&session))
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(me.arn(), Some("arn:aws:iam::111122223333:user/carol"));
}

#[tokio::test]
async fn a_file_that_is_not_a_state_database_stops_the_start() {
    let dir = TempDir::new("format");
    let file = dir.0.join("world.json");
    std::fs::write(&file, r#"{"format_version": 1, "clusters": []}"#).unwrap();
    let error = Emulator::start(config(&file)).await.unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("world.json") && message.contains("JSON state file"),
        "{message}"
    );
    assert_eq!(
        std::fs::read(&file).unwrap(),
        br#"{"format_version": 1, "clusters": []}"#,
        "left as it was"
    );
    std::fs::write(&file, "not a database").unwrap();
    let error = Emulator::start(config(&file)).await.unwrap_err();
    assert!(error.to_string().contains("not a SQLite database"), "{error}");

    let newer = dir.database();
    drop(Emulator::start(config(&newer)).await.unwrap());
    rusqlite::Connection::open(&newer)
        .unwrap()
        .execute_batch("PRAGMA user_version = 99")
        .unwrap();
    let error = Emulator::start(config(&newer)).await.unwrap_err();
    assert!(error.to_string().contains("schema version 99"), "{error}");
}

/// The environment variable that makes [`child_emulator`] serve on a database.
const CHILD_STATE_FILE: &str = "PIA_PERSISTENCE_CHILD_STATE_FILE";
/// What [`child_emulator`] prints before its endpoint (after libtest's own words on the line).
const CHILD_ENDPOINT: &str = "child emulator endpoint: ";

/// Not a test of its own: the emulator process that [`acknowledged_writes_survive_kill_9`] starts (this
/// test binary, run again) and kills.
#[test]
#[ignore = "run by acknowledged_writes_survive_kill_9 in a child process"]
fn child_emulator() {
    let Some(file) = std::env::var_os(CHILD_STATE_FILE) else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let emulator = Emulator::start(config(Path::new(&file))).await.unwrap();
        println!("{CHILD_ENDPOINT}{}", emulator.endpoint());
        std::future::pending::<()>().await;
    });
}

/// A child process, SIGKILLed when dropped (also when the test fails before it means to kill it).
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9() {
    let dir = TempDir::new("kill-9");
    let file = dir.database();
    let arguments = [
        "child_emulator",
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ];
    let mut child = Killed(
        Command::new(std::env::current_exe().unwrap())
            .args(arguments)
            .env(CHILD_STATE_FILE, &file)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let endpoint = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| line.split_once(CHILD_ENDPOINT).map(|(_, endpoint)| endpoint.to_owned()))
        .expect("the child emulator prints its endpoint");
    let sdk_config = pia_emulator::clients::sdk_config(&endpoint, pia_emulator::clients::admin_credentials());

    // Writers of associations and roles, recording what was acknowledged, until the kill.
    let acknowledged_associations = Arc::new(Mutex::new(Vec::new()));
    let acknowledged_roles = Arc::new(Mutex::new(Vec::new()));
    let mut writers = Vec::new();
    for writer in 0..4 {
        let eks = aws_sdk_eks::Client::new(&sdk_config);
        let iam = aws_sdk_iam::Client::new(&sdk_config);
        let associations = acknowledged_associations.clone();
        let roles = acknowledged_roles.clone();
        writers.push(tokio::spawn(async move {
            for n in 0.. {
                let name = format!("w{writer}-{n}");
                let created = eks
                    .create_pod_identity_association()
                    .cluster_name(CLUSTER)
                    .namespace("load")
                    .service_account(&name)
                    .role_arn(ROLE)
                    .send()
                    .await;
                let Ok(created) = created else { return };
                if let Some(id) = created.association.and_then(|a| a.association_id) {
                    associations.lock().unwrap().push(id);
                }
                let role = iam
                    .create_role()
                    .role_name(&name)
                    .assume_role_policy_document(trust_policy())
                    .send()
                    .await;
                if role.is_err() {
                    return;
                }
                roles.lock().unwrap().push(name);
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(rand::random_range(200..800))).await;
    drop(child);
    for writer in writers {
        writer.await.unwrap();
    }
    let associations = acknowledged_associations.lock().unwrap().clone();
    let roles = acknowledged_roles.lock().unwrap().clone();
    assert!(
        !associations.is_empty(),
        "some writes were acknowledged before the kill"
    );

    let emulator = Emulator::start(config(&file)).await.unwrap();
    let saved: Vec<String> = emulator
        .associations(CLUSTER)
        .into_iter()
        .map(|a| a.association_id)
        .collect();
    for id in &associations {
        assert!(saved.contains(id), "acknowledged association {id} is kept");
    }
    let iam = iam_client(&emulator);
    for name in &roles {
        iam.get_role().role_name(name).send().await.unwrap();
    }
}

#[tokio::test]
async fn permission_policies_survive_a_restart() {
    let dir = TempDir::new("policies");
    let first = Emulator::start(config(&dir.database())).await.unwrap();
    let iam = iam_client(&first);
    iam.create_role()
        .role_name("reader")
        .assume_role_policy_document(account_trust_policy(ACCOUNT))
        .send()
        .await
        .unwrap();
    let list = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"eks:List*","Resource":"*"}]}"#;
    let describe =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"eks:DescribeCluster","Resource":"*"}]}"#;
    iam.put_role_policy()
        .role_name("reader")
        .policy_name("list")
        .policy_document(list)
        .send()
        .await
        .unwrap();
    let policy = iam
        .create_policy()
        .policy_name("describe")
        .policy_document(describe)
        .send()
        .await
        .unwrap();
    let policy_arn = policy.policy().unwrap().arn().unwrap().to_owned();
    iam.attach_role_policy()
        .role_name("reader")
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();

    let second = restart(first, &dir.database()).await;
    let session = sts_client(&second)
        .assume_role()
        .role_arn("arn:aws:iam::111122223333:role/reader")
        .role_session_name("after-restart")
        .send()
        .await
        .unwrap();
    let eks = eks_client_with(&second, from_sts(session.credentials().unwrap()));
    eks.list_clusters().send().await.expect("the inline policy is kept");
    eks.describe_cluster()
        .name(CLUSTER)
        .send()
        .await
        .expect("the managed policy is kept");
    let kept = iam_client(&second)
        .get_policy()
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(kept.policy().unwrap().attachment_count(), Some(1));
}

#[tokio::test]
async fn a_clusters_certificate_authority_survives_a_restart() {
    let dir = TempDir::new("control-plane");
    let first = Emulator::start(config(&dir.database())).await.unwrap();
    let before = client(&first)
        .describe_cluster()
        .name(CLUSTER)
        .send()
        .await
        .unwrap()
        .cluster
        .unwrap();
    let second = restart(first, &dir.database()).await;
    let after = client(&second)
        .describe_cluster()
        .name(CLUSTER)
        .send()
        .await
        .unwrap()
        .cluster
        .unwrap();
    assert_eq!(
        before.certificate_authority().and_then(|ca| ca.data()),
        after.certificate_authority().and_then(|ca| ca.data())
    );
    assert_eq!(
        before.resources_vpc_config().and_then(|vpc| vpc.vpc_id()),
        after.resources_vpc_config().and_then(|vpc| vpc.vpc_id())
    );
}
