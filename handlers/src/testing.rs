//! An in-memory [`EksApi`] for tests: the EKS rules the handlers depend on, scripted faults, and a log of the calls
//! made, so that a test can drive any path of a handler and assert exactly which EKS calls it took.
//!
//! The rules: one association per (cluster, namespace, service account); ids `a-` + 17 lower-case alphanumerics;
//! `clientRequestToken` idempotency on create; NotFound for a missing cluster or association; roles EKS does not
//! see (yet) refused as IAM propagation makes EKS refuse them; an update that changes nothing refused; `""` clears
//! TargetRoleArn or Policy; `aws:` tag keys refused; List in pages.
//!
//! ```rust
//! use pia_handlers::eks::{EksApi, EksError, EksErrorKind, NewAssociation};
//! use pia_handlers::testing::{CREATE, DESCRIBE, MemoryEks};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let role = "arn:aws:iam::111122223333:role/app";
//! let eks = MemoryEks::new().with_cluster("prod").with_role(role);
//! let new = NewAssociation {
//!     cluster_name: "prod".into(),
//!     namespace: "default".into(),
//!     service_account: "app".into(),
//!     role_arn: role.into(),
//!     client_request_token: Some("token-1".into()),
//!     ..NewAssociation::default()
//! };
//! // The create is applied, but its answer is lost; the resend with the same token gets the same association.
//! let lost = EksError::new(EksErrorKind::Network, CREATE, "dispatch failure", "connection reset");
//! eks.fail_after_applying(1, lost);
//! assert!(eks.create_association(&new).await.is_err());
//! let made = eks.create_association(&new).await.unwrap();
//! assert_eq!(eks.associations("prod"), [made.clone()]);
//!
//! let described = eks.describe_association("prod", &made.association_id).await.unwrap();
//! assert_eq!(described, made);
//! assert_eq!(eks.take_calls(), [CREATE, CREATE, DESCRIBE]);
//! # }
//! ```

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::ops::Bound;
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::eks::{
    Association, AssociationChanges, AssociationPage, AssociationSummary, EksApi, EksError, EksErrorKind, EksResult,
    NewAssociation,
};
use crate::scope::Scope;
use crate::tags::{TagMap, is_reserved};
use pia_core::partition_of_region;

/// The operation names EKS errors carry ([`EksError::operation`]) and the call log records.
pub const CREATE: &str = "CreatePodIdentityAssociation";
pub const DESCRIBE: &str = "DescribePodIdentityAssociation";
pub const UPDATE: &str = "UpdatePodIdentityAssociation";
pub const DELETE: &str = "DeletePodIdentityAssociation";
pub const LIST: &str = "ListPodIdentityAssociations";
pub const TAG: &str = "TagResource";
pub const UNTAG: &str = "UntagResource";
const OPERATIONS: [&str; 7] = [CREATE, DESCRIBE, UPDATE, DELETE, LIST, TAG, UNTAG];

/// EKS's answer for a role it does not see, whether it does not exist or IAM has not propagated it yet.
pub const ROLE_DOES_NOT_EXIST: &str = "Role provided in the request does not exist";
/// EKS's answer for an update that would leave the association as it is.
pub const NOTHING_TO_CHANGE: &str =
    "The update request must change at least one of roleArn, targetRoleArn, disableSessionTags or policy.";

pub const DEFAULT_REGION: &str = "us-east-1";
pub const DEFAULT_ACCOUNT_ID: &str = "111122223333";
/// The associations in one List page unless [`MemoryEks::with_page_size`] says otherwise: EKS's largest page.
pub const DEFAULT_PAGE_SIZE: usize = 100;

/// EKS in memory. Build it with the clusters and roles a test needs, then hand it to the handlers.
#[derive(Debug)]
pub struct MemoryEks {
    // The trait's calls take `&self` and may run on any thread.
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    region: String,
    account_id: String,
    page_size: usize,
    clusters: BTreeMap<String, Cluster>,
    roles: Roles,
    faults: BTreeMap<&'static str, VecDeque<Fault>>,
    calls: Vec<&'static str>,
    updates: Vec<AssociationChanges>,
    /// Associations made so far: the source of ids and of list positions.
    made: u64,
}

#[derive(Debug, Default)]
struct Cluster {
    /// By list position, which is creation order.
    associations: BTreeMap<u64, Association>,
    /// The parameters and the list position of the create each clientRequestToken made.
    tokens: BTreeMap<String, (NewAssociation, u64)>,
}

#[derive(Debug, Default)]
struct Roles {
    visible: BTreeSet<String>,
    /// Roles EKS does not see yet: how many more create or update attempts naming them it refuses.
    late: BTreeMap<String, u32>,
}

#[derive(Debug)]
struct Fault {
    error: EksError,
    /// The call takes effect before the error is returned: a write whose answer was lost.
    applied: bool,
}

impl Default for MemoryEks {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryEks {
    /// No clusters and no roles, in [`DEFAULT_REGION`] and [`DEFAULT_ACCOUNT_ID`].
    pub fn new() -> Self {
        Self::in_region(DEFAULT_REGION, DEFAULT_ACCOUNT_ID)
    }

    /// No clusters and no roles; association ARNs name this region (and its partition) and account.
    pub fn in_region(region: &str, account_id: &str) -> Self {
        Self {
            state: Mutex::new(State {
                region: region.to_owned(),
                account_id: account_id.to_owned(),
                page_size: DEFAULT_PAGE_SIZE,
                clusters: BTreeMap::new(),
                roles: Roles::default(),
                faults: BTreeMap::new(),
                calls: Vec::new(),
                updates: Vec::new(),
                made: 0,
            }),
        }
    }

    pub fn with_cluster(mut self, name: &str) -> Self {
        self.state_mut().clusters.entry(name.to_owned()).or_default();
        self
    }

    /// A role EKS sees from the start.
    pub fn with_role(self, role_arn: &str) -> Self {
        self.add_role(role_arn);
        self
    }

    /// A role EKS refuses for the first `attempts` creates or updates naming it, then sees, as when IAM propagates
    /// a new role.
    pub fn with_late_role(mut self, role_arn: &str, attempts: u32) -> Self {
        self.state_mut().roles.late.insert(role_arn.to_owned(), attempts);
        self
    }

    pub fn with_page_size(mut self, page_size: usize) -> Self {
        assert!(page_size > 0, "a List page holds at least one association");
        self.state_mut().page_size = page_size;
        self
    }

    /// Makes a role visible to EKS from now on, e.g. once a test decides IAM has propagated it.
    pub fn add_role(&self, role_arn: &str) {
        let mut state = self.state();
        state.roles.late.remove(role_arn);
        state.roles.visible.insert(role_arn.to_owned());
    }

    /// The scope requests to this EKS act in.
    pub fn scope(&self) -> Scope {
        let state = self.state();
        Scope::new(Some(&state.region), Some(&state.account_id))
    }

    /// The next `times` calls of `error.operation` fail with `error` without taking effect.
    pub fn fail_next(&self, times: usize, error: EksError) {
        self.push_faults(times, error, false);
    }

    /// The next `times` calls of `error.operation` take effect, then fail with `error`: the answer was lost.
    pub fn fail_after_applying(&self, times: usize, error: EksError) {
        self.push_faults(times, error, true);
    }

    fn push_faults(&self, times: usize, error: EksError, applied: bool) {
        assert!(
            OPERATIONS.contains(&error.operation),
            "{} is not an operation of EksApi",
            error.operation
        );
        let mut state = self.state();
        let queue = state.faults.entry(error.operation).or_default();
        queue.extend((0..times).map(|_| Fault {
            error: error.clone(),
            applied,
        }));
    }

    /// The operations called since the last `take_calls`, in order, faulted ones included.
    pub fn take_calls(&self) -> Vec<&'static str> {
        std::mem::take(&mut self.state().calls)
    }

    /// The changes every UpdatePodIdentityAssociation call sent, in order.
    pub fn updates_sent(&self) -> Vec<AssociationChanges> {
        self.state().updates.clone()
    }

    /// The associations of a cluster in creation order, without logging a call.
    pub fn associations(&self, cluster_name: &str) -> Vec<Association> {
        self.state()
            .clusters
            .get(cluster_name)
            .map(|cluster| cluster.associations.values().cloned().collect())
            .unwrap_or_default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while the lock was held (a failed assertion) must not turn every later call into a PoisonError.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn state_mut(&mut self) -> &mut State {
        self.state.get_mut().unwrap_or_else(PoisonError::into_inner)
    }

    /// Logs the call, then answers with the next scripted fault of the operation, if any, or the call's outcome.
    fn call<T>(&self, operation: &'static str, run: impl FnOnce(&mut State) -> EksResult<T>) -> EksResult<T> {
        let mut state = self.state();
        state.calls.push(operation);
        match state.faults.get_mut(operation).and_then(VecDeque::pop_front) {
            None => run(&mut state),
            Some(Fault { error, applied }) => {
                if applied {
                    // Whatever EKS answered is lost: the caller sees only the fault.
                    let _ = run(&mut state);
                }
                Err(error)
            }
        }
    }
}

impl EksApi for MemoryEks {
    async fn create_association(&self, new: &NewAssociation) -> EksResult<Association> {
        self.call(CREATE, |state| state.create(new))
    }

    async fn describe_association(&self, cluster_name: &str, association_id: &str) -> EksResult<Association> {
        self.call(DESCRIBE, |state| {
            let cluster = state.cluster(DESCRIBE, cluster_name)?;
            Ok(cluster.association(DESCRIBE, association_id)?.1.clone())
        })
    }

    async fn update_association(
        &self,
        cluster_name: &str,
        association_id: &str,
        changes: &AssociationChanges,
    ) -> EksResult<Association> {
        // Recorded whether or not a fault answers the call: the changes were sent either way.
        self.state().updates.push(changes.clone());
        self.call(UPDATE, |state| state.update(cluster_name, association_id, changes))
    }

    async fn delete_association(&self, cluster_name: &str, association_id: &str) -> EksResult<()> {
        self.call(DELETE, |state| {
            let cluster = state.cluster(DELETE, cluster_name)?;
            let position = cluster.association(DELETE, association_id)?.0;
            cluster.associations.remove(&position);
            Ok(())
        })
    }

    async fn list_associations(&self, cluster_name: &str, next_token: Option<&str>) -> EksResult<AssociationPage> {
        self.call(LIST, |state| {
            let page_size = state.page_size;
            let cluster = state.cluster(LIST, cluster_name)?;
            let after = match next_token {
                None => Bound::Unbounded,
                Some(token) => Bound::Excluded(token.parse::<u64>().map_err(|_| {
                    EksError::new(
                        EksErrorKind::InvalidRequest,
                        LIST,
                        "InvalidParameterException",
                        "The nextToken provided is invalid.",
                    )
                })?),
            };
            let mut rest = cluster.associations.range((after, Bound::Unbounded));
            let page: Vec<(&u64, &Association)> = rest.by_ref().take(page_size).collect();
            let next_token = match (page.last(), rest.next()) {
                (Some((position, _)), Some(_)) => Some(position.to_string()),
                _ => None,
            };
            Ok(AssociationPage {
                associations: page.into_iter().map(|(_, association)| summary(association)).collect(),
                next_token,
            })
        })
    }

    async fn tag_resource(&self, arn: &str, tags: &BTreeMap<String, String>) -> EksResult<()> {
        self.call(TAG, |state| {
            if tags.is_empty() {
                return Err(bad_request(TAG, "The request must contain at least one tag."));
            }
            check_tags(TAG, "BadRequestException", tags)?;
            state.tags_of(TAG, arn)?.extend(tags.clone());
            Ok(())
        })
    }

    async fn untag_resource(&self, arn: &str, keys: &[String]) -> EksResult<()> {
        self.call(UNTAG, |state| {
            if keys.is_empty() {
                return Err(bad_request(
                    UNTAG,
                    "The request must name at least one tag key (tagKeys).",
                ));
            }
            let tags = state.tags_of(UNTAG, arn)?;
            for key in keys {
                tags.remove(key);
            }
            Ok(())
        })
    }
}

impl State {
    fn cluster(&mut self, operation: &'static str, name: &str) -> EksResult<&mut Cluster> {
        self.clusters.get_mut(name).ok_or_else(|| {
            not_found(
                operation,
                "ResourceNotFoundException",
                format!("No cluster found for name: {name}."),
            )
        })
    }

    fn create(&mut self, new: &NewAssociation) -> EksResult<Association> {
        let parameters = parameters_of(new);
        let Self {
            region,
            account_id,
            clusters,
            roles,
            made,
            ..
        } = self;
        let cluster = clusters.get_mut(&new.cluster_name).ok_or_else(|| {
            not_found(
                CREATE,
                "ResourceNotFoundException",
                format!("No cluster found for name: {}.", new.cluster_name),
            )
        })?;
        let token = new.client_request_token.as_deref().filter(|token| !token.is_empty());
        if let Some(token) = token
            && let Some((earlier, made)) = cluster.tokens.get(token)
        {
            if *earlier != parameters {
                return Err(invalid_parameter(
                    CREATE,
                    format!("The clientRequestToken {token} was already used for a request with different parameters."),
                ));
            }
            if let Some(existing) = cluster.associations.get(made) {
                return Ok(existing.clone());
            }
            // The association this token made was deleted since: the token is spent.
            cluster.tokens.remove(token);
        }
        check_tags(CREATE, "InvalidParameterException", &new.tags)?;
        roles.check(CREATE, &new.role_arn)?;
        if let Some(existing) = cluster
            .associations
            .values()
            .find(|a| a.namespace == new.namespace && a.service_account == new.service_account)
        {
            return Err(EksError::new(
                EksErrorKind::Conflict,
                CREATE,
                "ResourceInUseException",
                format!("Association already exists: {}", existing.association_id),
            ));
        }

        let position = *made;
        let association_id = association_id(position);
        let association = Association {
            cluster_name: new.cluster_name.clone(),
            namespace: new.namespace.clone(),
            service_account: new.service_account.clone(),
            role_arn: new.role_arn.clone(),
            association_arn: format!(
                "arn:{}:eks:{region}:{account_id}:podidentityassociation/{}/{association_id}",
                partition_of_region(region),
                new.cluster_name
            ),
            association_id,
            target_role_arn: parameters.target_role_arn.clone(),
            external_id: Some(format!("00000000-0000-4000-8000-{position:012x}")),
            disable_session_tags: parameters.disable_session_tags,
            policy: parameters.policy.clone(),
            owner_arn: None,
            tags: new.tags.clone(),
        };
        if let Some(token) = token {
            cluster.tokens.insert(token.to_owned(), (parameters, position));
        }
        cluster.associations.insert(position, association.clone());
        *made += 1;
        Ok(association)
    }

    fn update(&mut self, cluster_name: &str, id: &str, changes: &AssociationChanges) -> EksResult<Association> {
        let Self { clusters, roles, .. } = self;
        let cluster = clusters.get_mut(cluster_name).ok_or_else(|| {
            not_found(
                UPDATE,
                "ResourceNotFoundException",
                format!("No cluster found for name: {cluster_name}."),
            )
        })?;
        let current = cluster.association(UPDATE, id)?.1;
        // An absent field keeps its value; "" clears TargetRoleArn or Policy.
        let cleared = |change: &Option<String>, now: &Option<String>| match change {
            None => now.clone(),
            Some(value) => Some(value.clone()).filter(|value| !value.is_empty()),
        };
        let updated = Association {
            role_arn: changes.role_arn.clone().unwrap_or_else(|| current.role_arn.clone()),
            target_role_arn: cleared(&changes.target_role_arn, &current.target_role_arn),
            policy: cleared(&changes.policy, &current.policy),
            disable_session_tags: changes.disable_session_tags.or(current.disable_session_tags),
            ..current.clone()
        };
        if updated == *current {
            return Err(invalid_parameter(UPDATE, NOTHING_TO_CHANGE));
        }
        if let Some(role_arn) = &changes.role_arn {
            roles.check(UPDATE, role_arn)?;
        }
        *current = updated;
        Ok(current.clone())
    }

    fn tags_of(&mut self, operation: &'static str, arn: &str) -> EksResult<&mut TagMap> {
        self.clusters
            .values_mut()
            .flat_map(|cluster| cluster.associations.values_mut())
            .find(|association| association.association_arn == arn)
            .map(|association| &mut association.tags)
            .ok_or_else(|| not_found(operation, "NotFoundException", format!("Resource not found: {arn}")))
    }
}

impl Cluster {
    /// The list position and the association with this id.
    fn association(&mut self, operation: &'static str, id: &str) -> EksResult<(u64, &mut Association)> {
        self.associations
            .iter_mut()
            .find(|(_, association)| association.association_id == id)
            .map(|(position, association)| (*position, association))
            .ok_or_else(|| {
                not_found(
                    operation,
                    "ResourceNotFoundException",
                    format!("No Pod Identity Association found for id: {id}."),
                )
            })
    }
}

impl Roles {
    fn check(&mut self, operation: &'static str, role_arn: &str) -> EksResult<()> {
        if let Some(refusals) = self.late.get_mut(role_arn) {
            if *refusals > 0 {
                *refusals -= 1;
                return Err(invalid_parameter(operation, ROLE_DOES_NOT_EXIST));
            }
            self.late.remove(role_arn);
            self.visible.insert(role_arn.to_owned());
        }
        if self.visible.contains(role_arn) {
            Ok(())
        } else {
            Err(invalid_parameter(operation, ROLE_DOES_NOT_EXIST))
        }
    }
}

/// What a clientRequestToken's create is compared by: its parameters as EKS stores them, without the token.
fn parameters_of(new: &NewAssociation) -> NewAssociation {
    NewAssociation {
        // On create, an empty TargetRoleArn or Policy means none, and session tags are on unless disabled.
        target_role_arn: new.target_role_arn.clone().filter(|arn| !arn.is_empty()),
        policy: new.policy.clone().filter(|policy| !policy.is_empty()),
        disable_session_tags: Some(new.disable_session_tags.unwrap_or(false)),
        client_request_token: None,
        ..new.clone()
    }
}

/// `a-` + 17 lower-case alphanumerics, distinct for distinct positions but not sequential-looking.
fn association_id(position: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    // splitmix64's finalizer is a bijection, so distinct positions give distinct ids. Multiplied by 36^4 (and the
    // low digits filled from the same value) it fills all 17 digits: 2^64 * 36^4 < 36^17.
    let mut mixed = position.wrapping_add(0x9e37_79b9_7f4a_7c15);
    mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    mixed ^= mixed >> 31;
    const LOW: u128 = 36u128.pow(4);
    let mut value = u128::from(mixed) * LOW + u128::from(mixed) % LOW;
    let mut digits = [0u8; 17];
    for digit in digits.iter_mut().rev() {
        *digit = DIGITS[(value % 36) as usize];
        value /= 36;
    }
    format!("a-{}", String::from_utf8_lossy(&digits))
}

fn summary(association: &Association) -> AssociationSummary {
    AssociationSummary {
        cluster_name: association.cluster_name.clone(),
        namespace: association.namespace.clone(),
        service_account: association.service_account.clone(),
        association_arn: association.association_arn.clone(),
        association_id: association.association_id.clone(),
        owner_arn: association.owner_arn.clone(),
    }
}

/// EKS refuses `aws:` tag keys and values from callers.
fn check_tags(operation: &'static str, code: &str, tags: &TagMap) -> EksResult<()> {
    match tags.iter().find(|(key, value)| is_reserved(key) || is_reserved(value)) {
        Some((key, _)) => Err(EksError::new(
            EksErrorKind::InvalidRequest,
            operation,
            code,
            format!("Tag keys and values cannot begin with the reserved prefix 'aws:' (key {key:?})."),
        )),
        None => Ok(()),
    }
}

fn not_found(operation: &'static str, code: &str, message: String) -> EksError {
    EksError::new(EksErrorKind::NotFound, operation, code, message)
}

fn invalid_parameter(operation: &'static str, message: impl Into<String>) -> EksError {
    EksError::new(
        EksErrorKind::InvalidRequest,
        operation,
        "InvalidParameterException",
        message,
    )
}

fn bad_request(operation: &'static str, message: &str) -> EksError {
    EksError::new(EksErrorKind::InvalidRequest, operation, "BadRequestException", message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arn::{AssociationArn, find_association_id, is_association_id};

    const ROLE: &str = "arn:aws:iam::111122223333:role/app";
    const OTHER_ROLE: &str = "arn:aws:iam::111122223333:role/other";
    const MISSING_ID: &str = "a-0123456789abcdefg";
    const MISSING_ARN: &str = "arn:aws:eks:us-east-1:111122223333:podidentityassociation/prod/a-0123456789abcdefg";

    fn new(service_account: &str) -> NewAssociation {
        NewAssociation {
            cluster_name: "prod".into(),
            namespace: "default".into(),
            service_account: service_account.into(),
            role_arn: ROLE.into(),
            ..NewAssociation::default()
        }
    }

    fn eks() -> MemoryEks {
        MemoryEks::new().with_cluster("prod").with_role(ROLE)
    }

    fn tags(pairs: &[(&str, &str)]) -> TagMap {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[tokio::test]
    async fn ids_and_arns_have_the_forms_eks_gives_them() {
        let eks = MemoryEks::in_region("cn-north-1", "444455556666")
            .with_cluster("prod")
            .with_role(ROLE);
        let mut ids = BTreeSet::new();
        for n in 0..300 {
            let made = eks.create_association(&new(&format!("sa-{n}"))).await.unwrap();
            assert!(is_association_id(&made.association_id), "{}", made.association_id);
            let arn: AssociationArn = made.association_arn.parse().unwrap();
            assert_eq!(
                (arn.partition(), arn.region(), arn.account_id(), arn.cluster_name()),
                ("aws-cn", "cn-north-1", "444455556666", "prod")
            );
            assert_eq!(arn.association_id(), made.association_id);
            assert!(made.external_id.is_some());
            ids.insert(made.association_id);
        }
        assert_eq!(ids.len(), 300);
        assert_eq!(eks.scope(), Scope::new(Some("cn-north-1"), Some("444455556666")));
    }

    #[tokio::test]
    async fn a_service_account_has_one_association() {
        let eks = eks();
        let first = eks.create_association(&new("app")).await.unwrap();
        let error = eks.create_association(&new("app")).await.unwrap_err();
        assert_eq!(
            (error.kind, error.code.as_str()),
            (EksErrorKind::Conflict, "ResourceInUseException")
        );
        assert_eq!(find_association_id(&error.message), Some(first.association_id.as_str()));
        assert_eq!(eks.associations("prod"), [first]);
    }

    #[tokio::test]
    async fn a_client_request_token_replays_its_create() {
        let eks = eks();
        let with_token = NewAssociation {
            client_request_token: Some("t-1".into()),
            ..new("app")
        };
        let first = eks.create_association(&with_token).await.unwrap();
        assert_eq!(eks.create_association(&with_token).await.unwrap(), first);

        let other = NewAssociation {
            service_account: "other".into(),
            ..with_token.clone()
        };
        let error = eks.create_association(&other).await.unwrap_err();
        assert_eq!(error.kind, EksErrorKind::InvalidRequest);
        assert_eq!(
            error.message,
            "The clientRequestToken t-1 was already used for a request with different parameters."
        );

        // Once its association is deleted the token is spent: the same create makes a new association.
        eks.delete_association("prod", &first.association_id).await.unwrap();
        let second = eks.create_association(&with_token).await.unwrap();
        assert_ne!(second.association_id, first.association_id);
        assert_eq!(eks.associations("prod"), [second]);
    }

    #[tokio::test]
    async fn missing_clusters_and_associations_are_not_found() {
        let eks = eks();
        let elsewhere = NewAssociation {
            cluster_name: "gone".into(),
            ..new("app")
        };
        let errors = [
            eks.create_association(&elsewhere).await.unwrap_err(),
            eks.describe_association("gone", MISSING_ID).await.unwrap_err(),
            eks.describe_association("prod", MISSING_ID).await.unwrap_err(),
            eks.update_association("prod", MISSING_ID, &AssociationChanges::default())
                .await
                .unwrap_err(),
            eks.delete_association("prod", MISSING_ID).await.unwrap_err(),
            eks.list_associations("gone", None).await.unwrap_err(),
            eks.tag_resource(MISSING_ARN, &tags(&[("a", "1")])).await.unwrap_err(),
            eks.untag_resource(MISSING_ARN, &["a".into()]).await.unwrap_err(),
        ];
        for error in errors {
            assert_eq!(error.kind, EksErrorKind::NotFound, "{error}");
        }
        assert_eq!(
            eks.take_calls(),
            [CREATE, DESCRIBE, DESCRIBE, UPDATE, DELETE, LIST, TAG, UNTAG]
        );
        assert_eq!(eks.take_calls(), Vec::<&str>::new());
    }

    #[tokio::test]
    async fn roles_eks_does_not_see_are_refused() {
        let eks = MemoryEks::new().with_cluster("prod").with_late_role(ROLE, 2);
        for _ in 0..2 {
            let error = eks.create_association(&new("app")).await.unwrap_err();
            assert_eq!(
                (error.kind, error.message.as_str()),
                (EksErrorKind::InvalidRequest, ROLE_DOES_NOT_EXIST)
            );
        }
        let made = eks.create_association(&new("app")).await.unwrap();

        let to_other = AssociationChanges {
            role_arn: Some(OTHER_ROLE.into()),
            ..AssociationChanges::default()
        };
        let error = eks
            .update_association("prod", &made.association_id, &to_other)
            .await
            .unwrap_err();
        assert_eq!(error.message, ROLE_DOES_NOT_EXIST);
        eks.add_role(OTHER_ROLE);
        let updated = eks
            .update_association("prod", &made.association_id, &to_other)
            .await
            .unwrap();
        assert_eq!(updated.role_arn, OTHER_ROLE);
    }

    #[tokio::test]
    async fn an_update_must_change_something_and_empty_strings_clear() {
        let eks = eks();
        let made = eks
            .create_association(&NewAssociation {
                target_role_arn: Some("arn:aws:iam::444455556666:role/target".into()),
                policy: Some("{}".into()),
                disable_session_tags: Some(true),
                ..new("app")
            })
            .await
            .unwrap();
        let id = made.association_id.as_str();
        for unchanged in [
            AssociationChanges::default(),
            AssociationChanges {
                role_arn: Some(ROLE.into()),
                policy: Some("{}".into()),
                disable_session_tags: Some(true),
                ..AssociationChanges::default()
            },
        ] {
            let error = eks.update_association("prod", id, &unchanged).await.unwrap_err();
            assert_eq!(
                (error.kind, error.message.as_str()),
                (EksErrorKind::InvalidRequest, NOTHING_TO_CHANGE)
            );
        }
        let clear = AssociationChanges {
            target_role_arn: Some(String::new()),
            policy: Some(String::new()),
            ..AssociationChanges::default()
        };
        let updated = eks.update_association("prod", id, &clear).await.unwrap();
        assert_eq!((updated.target_role_arn, updated.policy), (None, None));
        assert_eq!(updated.disable_session_tags, Some(true));
        assert_eq!(eks.updates_sent().len(), 3);
        assert_eq!(eks.updates_sent()[2], clear);
    }

    #[tokio::test]
    async fn tags_are_set_and_removed_and_aws_keys_refused() {
        let eks = eks();
        let made = eks
            .create_association(&NewAssociation {
                tags: tags(&[("team", "a")]),
                ..new("app")
            })
            .await
            .unwrap();
        let arn = made.association_arn.as_str();
        eks.tag_resource(arn, &tags(&[("env", "prod")])).await.unwrap();
        eks.untag_resource(arn, &["team".into()]).await.unwrap();
        assert_eq!(eks.associations("prod")[0].tags, tags(&[("env", "prod")]));

        for refused in [
            eks.tag_resource(arn, &tags(&[("aws:x", "1")])).await,
            eks.tag_resource(arn, &TagMap::new()).await,
            eks.untag_resource(arn, &[]).await,
        ] {
            assert_eq!(refused.unwrap_err().kind, EksErrorKind::InvalidRequest);
        }
        let error = eks
            .create_association(&NewAssociation {
                tags: tags(&[("AWS:cloudformation:stack-name", "s")]),
                ..new("other")
            })
            .await
            .unwrap_err();
        assert_eq!(error.kind, EksErrorKind::InvalidRequest);
        assert_eq!(eks.associations("prod").len(), 1);
    }

    #[tokio::test]
    async fn lists_come_in_pages() {
        let eks = eks().with_page_size(2);
        let mut made = Vec::new();
        for n in 0..5 {
            made.push(
                eks.create_association(&new(&format!("sa-{n}")))
                    .await
                    .unwrap()
                    .association_id,
            );
        }
        let mut listed = Vec::new();
        let mut pages = 0;
        let mut token = None;
        loop {
            let page = eks.list_associations("prod", token.as_deref()).await.unwrap();
            pages += 1;
            listed.extend(page.associations.into_iter().map(|summary| summary.association_id));
            token = page.next_token;
            if token.is_none() {
                break;
            }
        }
        assert_eq!((listed, pages), (made, 3));
        let error = eks.list_associations("prod", Some("garbage")).await.unwrap_err();
        assert_eq!(error.kind, EksErrorKind::InvalidRequest);
        let empty = MemoryEks::new().with_cluster("prod");
        assert_eq!(
            empty.list_associations("prod", None).await.unwrap(),
            AssociationPage::default()
        );
    }

    #[tokio::test]
    async fn scripted_faults_answer_the_next_calls_of_their_operation() {
        let eks = eks();
        let throttled = EksError::new(EksErrorKind::Throttling, CREATE, "ThrottlingException", "slow down");
        eks.fail_next(2, throttled.clone());
        assert_eq!(eks.create_association(&new("app")).await, Err(throttled.clone()));
        assert_eq!(eks.create_association(&new("app")).await, Err(throttled.clone()));
        assert!(eks.associations("prod").is_empty());
        let made = eks.create_association(&new("app")).await.unwrap();

        let lost = EksError::new(EksErrorKind::Network, DELETE, "dispatch failure", "connection reset");
        eks.fail_after_applying(1, lost.clone());
        assert_eq!(
            eks.describe_association("prod", &made.association_id).await.as_ref(),
            Ok(&made)
        );
        assert_eq!(eks.delete_association("prod", &made.association_id).await, Err(lost));
        assert!(eks.associations("prod").is_empty());
        assert_eq!(eks.take_calls(), [CREATE, CREATE, CREATE, DESCRIBE, DELETE]);
    }

    #[test]
    #[should_panic(expected = "DescribeCluster is not an operation of EksApi")]
    fn faults_of_other_operations_are_refused() {
        let error = EksError::new(
            EksErrorKind::Throttling,
            "DescribeCluster",
            "ThrottlingException",
            "slow",
        );
        MemoryEks::new().fail_next(1, error);
    }
}
