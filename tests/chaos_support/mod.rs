//! The chaos harness: CloudFormation's lifecycle of one association (create → read → update → delete), played
//! many times against the emulated EKS while it injects seeded faults (throttling, 5xx, 503, latency, responses
//! lost after the write was applied), with CloudFormation's own behaviour modelled:
//!
//! - a Lambda invocation that fails or times out is invoked again with the same request (same bearer token);
//! - IN_PROGRESS is answered by calling again with the returned model and callback context, same bearer token
//!   (a create never answers it: it resends within the invocation instead);
//! - a FAILED create is not retried, and since it returned no model nothing is deleted on rollback;
//! - a FAILED update is rolled back: UPDATE with the previous properties as desired (continued until it works,
//!   as an operator continues an UPDATE_ROLLBACK_FAILED stack);
//! - a FAILED delete is retried as an operator retries a DELETE_FAILED stack; NotFound on delete means gone.
//!
//! After each run the emulator must hold nothing of the run (no orphan) and at no point more than the one
//! association CloudFormation knows (no duplicate). Used by `tests/chaos.rs` (asserts) and
//! `examples/chaos.rs` (prints the report).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use pia_emulator::{ChaosConfig, Emulator, EmulatorConfig};
use pia_handlers::Pacing;
use pia_provider::{Provider, eks_client};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

pub const CLUSTER: &str = "demo";
pub const ROLE: &str = "arn:aws:iam::111122223333:role/demo-pod-role";
pub const ROLE_2: &str = "arn:aws:iam::111122223333:role/demo-pod-role-2";
/// Codes a handler may legitimately answer when EKS keeps failing transiently.
/// The region of the harness's requests (the emulated EKS answers in any region).
pub const CHAOS_REGION: &str = "eu-west-3";
pub const TRANSIENT_CODES: [&str; 3] = ["Throttling", "ServiceInternalError", "NetworkFailure"];
/// Calls again on IN_PROGRESS before the harness calls it a hang (the handlers bound theirs far lower).
const MAX_CALLBACKS: usize = 30;
/// Times an operator retries a failed delete or continues a failed rollback.
const MAX_OPERATOR_RETRIES: usize = 20;

/// What to run.
#[derive(Debug, Clone)]
pub struct ChaosSettings {
    pub runs: usize,
    /// Run `i` uses seed `seed + i` for the emulator's faults and for the lost Lambda invocations.
    pub seed: u64,
    pub throttle: f64,
    pub server_error: f64,
    pub unavailable: f64,
    pub drop_after_apply: f64,
    pub latency: f64,
    pub latency_duration: Duration,
    /// Probability that a Lambda invocation is lost (it ran, but CloudFormation saw a timeout) and re-invoked.
    pub lost_invocation: f64,
}

impl ChaosSettings {
    /// The figures published in the README: 200 runs, more than a third of the EKS requests faulted.
    pub fn standard() -> Self {
        Self {
            runs: 200,
            seed: 20_260_700,
            throttle: 0.15,
            server_error: 0.10,
            unavailable: 0.07,
            drop_after_apply: 0.10,
            latency: 0.05,
            latency_duration: Duration::from_millis(30),
            lost_invocation: 0.05,
        }
    }
}

/// What happened, over all runs.
#[derive(Debug, Default, Clone)]
pub struct Report {
    pub runs: usize,
    /// Handler invocations, lost ones included.
    pub invocations: u64,
    /// Invocations whose answer was thrown away (a Lambda timeout) and that CloudFormation invoked again.
    pub lost_invocations: u64,
    /// IN_PROGRESS answers CloudFormation called back on.
    pub callbacks: u64,
    /// Creates that EKS had applied when the handler's call still failed (the answer lost, every retry of the
    /// client failing): a FAILED answer would have leaked these; the handler's resend with the same token
    /// recovered them.
    pub creates_recovered: u64,
    /// Faults the emulator injected, by kind.
    pub faults: BTreeMap<String, u64>,
    /// EKS requests the emulator received (faulted ones included).
    pub eks_requests: u64,
    /// Answers CloudFormation acted on, by "ACTION STATUS [code]".
    pub outcomes: BTreeMap<String, u64>,
    /// How each run's stack operations ended, by name.
    pub lifecycles: BTreeMap<String, u64>,
    /// Associations left behind after a run's cleanup.
    pub orphans: u64,
    /// Times the emulator held an association CloudFormation did not know about (a second one, or another id).
    pub duplicates: u64,
    /// Anything else wrong: an unexpected code, a wrong state, a hang. Empty when all is well.
    pub violations: Vec<String>,
}

impl Report {
    fn outcome(&mut self, action: &str, event: &Value) {
        let key = match event["errorCode"].as_str() {
            Some(code) => format!("{action} {} {code}", event["status"].as_str().unwrap_or("?")),
            None => format!("{action} {}", event["status"].as_str().unwrap_or("?")),
        };
        *self.outcomes.entry(key).or_default() += 1;
    }

    fn lifecycle(&mut self, what: &str) {
        *self.lifecycles.entry(what.to_owned()).or_default() += 1;
    }

    fn violation(&mut self, run: usize, what: String) {
        self.violations.push(format!("run {run}: {what}"));
    }

    /// FAILED answers, all actions.
    pub fn failures(&self) -> u64 {
        self.outcomes
            .iter()
            .filter(|(k, _)| k.contains(" FAILED"))
            .map(|(_, n)| n)
            .sum()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "chaos: {} CloudFormation lifecycles (create → read → update → delete)",
            self.runs
        )?;
        writeln!(
            f,
            "  handler invocations {} (lost and re-invoked {}; IN_PROGRESS callbacks {}), EKS requests {}",
            self.invocations, self.lost_invocations, self.callbacks, self.eks_requests
        )?;
        let total: u64 = self.faults.values().sum();
        writeln!(f, "  faults injected {total}:")?;
        for (kind, n) in &self.faults {
            writeln!(f, "    {kind:<16} {n}")?;
        }
        writeln!(f, "  answers CloudFormation acted on:")?;
        for (outcome, n) in &self.outcomes {
            writeln!(f, "    {outcome:<36} {n}")?;
        }
        writeln!(f, "  stack operations:")?;
        for (what, n) in &self.lifecycles {
            writeln!(f, "    {what:<36} {n}")?;
        }
        writeln!(
            f,
            "  creates applied by EKS while the handler's call failed, recovered by its resend with the same token: {}",
            self.creates_recovered
        )?;
        writeln!(
            f,
            "  orphans {}, duplicates {}, violations {}",
            self.orphans,
            self.duplicates,
            self.violations.len()
        )?;
        for violation in &self.violations {
            writeln!(f, "    {violation}")?;
        }
        Ok(())
    }
}

/// A provider whose EKS client keeps the production retry policy (attempts, classification, timeouts) with
/// millisecond backoff, and whose creates resend after a millisecond, so that hundreds of runs take seconds.
pub async fn fast_retry_provider(endpoint: String) -> Arc<Provider> {
    let base = eks_client::base_config_for(Some(endpoint))
        .await
        .to_builder()
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(eks_client::MAX_ATTEMPTS)
                .with_initial_backoff(Duration::from_millis(1))
                .with_max_backoff(Duration::from_millis(10)),
        )
        .build();
    let pacing = Pacing {
        transient_pause: Duration::from_millis(1),
        ..Pacing::default()
    };
    Provider::with_pacing(base, pacing)
}

struct Run<'a> {
    index: usize,
    emulator: &'a Emulator,
    provider: &'a Arc<Provider>,
    rng: StdRng,
    settings: &'a ChaosSettings,
    report: &'a mut Report,
    namespace: String,
    token_counter: u64,
}

impl Run<'_> {
    fn token(&mut self) -> String {
        self.token_counter += 1;
        format!("{:08x}-chaos-{}-{}", self.settings.seed, self.index, self.token_counter)
    }

    fn request(&mut self, action: &str, properties: Value) -> Value {
        json!({
            "action": action,
            "awsAccountId": "111122223333",
            "bearerToken": self.token(),
            // A region of its own: the SDK's retry quota (token bucket) is per service and region and process-wide,
            // so other tests in the same binary cannot change which faults this harness's requests meet.
            "region": CHAOS_REGION,
            "resourceType": "AWS::EKS::PodIdentityAssociation",
            "requestData": {
                "callerCredentials": {
                    "accessKeyId": pia_emulator::DEFAULT_ACCESS_KEY_ID,
                    "secretAccessKey": pia_emulator::DEFAULT_SECRET_ACCESS_KEY,
                },
                "resourceProperties": properties,
                "logicalResourceId": "Association",
                "stackTags": {"stack": "chaos"},
                "previousStackTags": {"stack": "chaos"},
                "systemTags": {"aws:cloudformation:stack-name": "chaos"},
            },
            "stackId": "arn:aws:cloudformation:us-east-1:111122223333:stack/chaos/1",
        })
    }

    /// One Lambda invocation as CloudFormation experiences it: sometimes the invocation is lost after the
    /// handler ran (its answer never arrives), and CloudFormation invokes again with the same request.
    async fn invoke_lambda(&mut self, request: &Value) -> Value {
        let payload = request.to_string();
        while self.rng.random_bool(self.settings.lost_invocation) {
            self.report.invocations += 1;
            self.report.lost_invocations += 1;
            let _lost = self.provider.invoke(payload.as_bytes()).await;
        }
        self.report.invocations += 1;
        serde_json::to_value(self.provider.invoke(payload.as_bytes()).await).expect("a ProgressEvent")
    }

    /// One handler operation: invocations, then IN_PROGRESS callbacks (same bearer token, returned model and
    /// context) until SUCCESS or FAILED.
    async fn operation(&mut self, action: &str, mut request: Value) -> Value {
        for _ in 0..MAX_CALLBACKS {
            let event = self.invoke_lambda(&request).await;
            self.report.outcome(action, &event);
            self.check_shape(action, &event);
            if event["status"] != "IN_PROGRESS" {
                return event;
            }
            self.report.callbacks += 1;
            request["callbackContext"] = event["callbackContext"].clone();
            request["requestData"]["resourceProperties"] = event["resourceModel"].clone();
        }
        self.report.violation(
            self.index,
            format!("{action} still IN_PROGRESS after {MAX_CALLBACKS} callbacks"),
        );
        json!({"status": "FAILED", "errorCode": "HarnessGaveUp"})
    }

    /// The handler contract's rules for every answer.
    fn check_shape(&mut self, action: &str, event: &Value) {
        let status = event["status"].as_str().unwrap_or("");
        let ok = match status {
            "SUCCESS" => {
                event.get("errorCode").is_none() && (action == "DELETE" || event.get("resourceModel").is_some())
            }
            "FAILED" => {
                event["errorCode"].is_string() && event["message"].is_string() && event.get("resourceModels").is_none()
            }
            // Every IN_PROGRESS carries the primary identifier; a create never answers it.
            "IN_PROGRESS" => {
                action != "CREATE"
                    && event.get("errorCode").is_none()
                    && event["resourceModel"]["AssociationArn"].is_string()
                    && event["callbackContext"].is_object()
            }
            _ => false,
        };
        if !ok {
            self.report
                .violation(self.index, format!("{action} answered outside the contract: {event}"));
        }
    }

    fn check_transient(&mut self, action: &str, event: &Value) {
        let code = event["errorCode"].as_str().unwrap_or("");
        if !TRANSIENT_CODES.contains(&code) {
            self.report
                .violation(self.index, format!("{action} failed with an unexpected code: {event}"));
        }
    }

    /// CreatePodIdentityAssociation requests received and responses dropped after the write, so far.
    fn create_requests_and_drops(&self) -> (u64, u64) {
        let creates = self
            .emulator
            .calls_snapshot()
            .get("CreatePodIdentityAssociation")
            .copied()
            .unwrap_or(0);
        let drops = self
            .emulator
            .faults_injected()
            .get("DropAfterApply")
            .copied()
            .unwrap_or(0);
        (creates, drops)
    }

    /// The run's associations as EKS holds them (read on the side, without faults).
    fn held(&self) -> Vec<pia_emulator::Association> {
        self.emulator
            .associations(CLUSTER)
            .into_iter()
            .filter(|a| a.namespace == self.namespace)
            .collect()
    }

    /// EKS must hold exactly the association CloudFormation knows, with this role and these tags.
    fn check_state(&mut self, what: &str, arn: &str, role: &str, tags: &[(&str, &str)]) {
        let held = self.held();
        if held.len() != 1 || held[0].association_arn != arn {
            self.report.duplicates += held.iter().filter(|a| a.association_arn != arn).count() as u64;
            let ids: Vec<&str> = held.iter().map(|a| a.association_arn.as_str()).collect();
            self.report.violation(
                self.index,
                format!("after {what}, EKS holds {ids:?}, CloudFormation knows {arn}"),
            );
            return;
        }
        let wanted: BTreeMap<String, String> = tags.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        if held[0].role_arn != role || held[0].tags != wanted {
            self.report.violation(
                self.index,
                format!(
                    "after {what}: role {} tags {:?}, expected {role} {wanted:?}",
                    held[0].role_arn, held[0].tags
                ),
            );
        }
    }

    async fn lifecycle(&mut self) {
        let properties = json!({
            "ClusterName": CLUSTER,
            "Namespace": self.namespace,
            "ServiceAccount": "app",
            "RoleArn": ROLE,
            "Tags": [{"Key": "team", "Value": "a"}],
        });
        // CREATE
        let create = self.request("CREATE", properties.clone());
        let before = self.create_requests_and_drops();
        let created = self.operation("CREATE", create).await;
        let after = self.create_requests_and_drops();
        // More requests than one client call makes, and a write applied with its answer lost: the handler resent.
        if created["status"] == "SUCCESS"
            && after.0 - before.0 > u64::from(eks_client::MAX_ATTEMPTS)
            && after.1 > before.1
        {
            self.report.creates_recovered += 1;
        }
        if created["status"] != "SUCCESS" {
            self.check_transient("CREATE", &created);
            self.report.lifecycle("create FAILED (nothing to roll back)");
            // No model came back: CloudFormation deletes nothing. EKS must hold nothing either.
            self.count_orphans();
            return;
        }
        let model = created["resourceModel"].clone();
        let arn = model["AssociationArn"].as_str().unwrap_or_default().to_owned();
        self.check_state("create", &arn, ROLE, &[("stack", "chaos"), ("team", "a")]);

        // READ
        let read = self.request("READ", json!({"AssociationArn": arn}));
        let read = self.operation("READ", read).await;
        if read["status"] == "SUCCESS" {
            if read["resourceModel"] != model {
                self.report.violation(
                    self.index,
                    format!("read {} differs from created {model}", read["resourceModel"]),
                );
            }
        } else {
            self.check_transient("READ", &read);
        }

        // UPDATE: a new role and a changed tag set; on failure, CloudFormation rolls back. CloudFormation sends
        // the template's properties with the primary identifier it keeps.
        let mut previous = properties.clone();
        previous["AssociationArn"] = json!(arn);
        let mut desired = previous.clone();
        desired["RoleArn"] = json!(ROLE_2);
        desired["Tags"] = json!([{"Key": "team", "Value": "b"}, {"Key": "env", "Value": "prod"}]);
        let mut update = self.request("UPDATE", desired.clone());
        update["requestData"]["previousResourceProperties"] = previous.clone();
        let updated = self.operation("UPDATE", update).await;
        let stack_model = if updated["status"] == "SUCCESS" {
            self.check_state(
                "update",
                &arn,
                ROLE_2,
                &[("env", "prod"), ("stack", "chaos"), ("team", "b")],
            );
            self.report.lifecycle("update SUCCESS");
            updated["resourceModel"].clone()
        } else {
            self.check_transient("UPDATE", &updated);
            let mut rolled_back = false;
            for _ in 0..MAX_OPERATOR_RETRIES {
                let mut rollback = self.request("UPDATE", previous.clone());
                rollback["requestData"]["previousResourceProperties"] = desired.clone();
                let event = self.operation("UPDATE", rollback).await;
                if event["status"] == "SUCCESS" {
                    rolled_back = true;
                    break;
                }
                self.check_transient("UPDATE", &event);
            }
            if !rolled_back {
                self.report
                    .violation(self.index, "the update rollback never completed".into());
            }
            self.check_state("update rollback", &arn, ROLE, &[("stack", "chaos"), ("team", "a")]);
            self.report.lifecycle("update FAILED, rolled back");
            previous.clone()
        };

        // DELETE, retried by the operator while it fails.
        let mut deleted = false;
        for attempt in 0..MAX_OPERATOR_RETRIES {
            let delete = self.request("DELETE", stack_model.clone());
            let event = self.operation("DELETE", delete).await;
            if event["status"] == "SUCCESS" || event["errorCode"] == "NotFound" {
                // NotFound: an earlier attempt's write went through with its answer lost; gone is gone.
                deleted = true;
                self.report.lifecycle(if attempt == 0 {
                    "delete SUCCESS"
                } else {
                    "delete SUCCESS after a retried stack delete"
                });
                break;
            }
            self.check_transient("DELETE", &event);
        }
        if !deleted {
            self.report.violation(self.index, "the delete never completed".into());
        }
        self.count_orphans();
    }

    fn count_orphans(&mut self) {
        let left = self.held();
        if !left.is_empty() {
            self.report.orphans += left.len() as u64;
            let ids: Vec<&str> = left.iter().map(|a| a.association_id.as_str()).collect();
            self.report.violation(self.index, format!("left behind: {ids:?}"));
        }
    }
}

/// Plays `settings.runs` lifecycles, one after the other (so that a seed always gives the same faults).
pub async fn run_chaos(settings: &ChaosSettings) -> Report {
    // The cluster lives in the harness's region, as a cluster the requests of that region can address.
    let config = EmulatorConfig {
        clusters: vec![pia_emulator::ClusterConfig {
            region: CHAOS_REGION.to_owned(),
            ..pia_emulator::ClusterConfig::new(CLUSTER)
        }],
        ..EmulatorConfig::default()
    };
    let emulator = Emulator::start(config).await.expect("emulator starts");
    let provider = fast_retry_provider(emulator.endpoint()).await;
    let mut report = Report {
        runs: settings.runs,
        ..Report::default()
    };
    for index in 0..settings.runs {
        let seed = settings.seed.wrapping_add(index as u64);
        let mut chaos = ChaosConfig::new(seed);
        chaos.throttle = settings.throttle;
        chaos.server_error = settings.server_error;
        chaos.unavailable = settings.unavailable;
        chaos.drop_after_apply = settings.drop_after_apply;
        chaos.latency = settings.latency;
        chaos.latency_duration = settings.latency_duration;
        emulator.set_chaos(Some(chaos));
        let mut run = Run {
            index,
            emulator: &emulator,
            provider: &provider,
            rng: StdRng::seed_from_u64(seed ^ 0x5eed_cafe),
            settings,
            report: &mut report,
            namespace: format!("chaos-{index}"),
            token_counter: 0,
        };
        run.lifecycle().await;
    }
    emulator.clear_faults();
    report.faults = emulator.faults_injected();
    report.eks_requests = emulator.calls_snapshot().values().sum();
    let left = emulator.association_count(CLUSTER) as u64;
    if left != report.orphans {
        report
            .violations
            .push(format!("the cluster holds {left} associations at the end"));
    }
    emulator.shutdown();
    report
}
