//! The emulated world's data: clusters with their Pod Identity associations, the IAM role registry
//! (which IAM's API and EKS's role checks share) and the access keys.
//!
//! This module holds data and indexes only; the rules of each operation live in [`crate::eks`],
//! [`crate::iam`] and [`crate::sts`]. Everything here is used under one lock held by the server.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::time::{SystemTime, UNIX_EPOCH};

use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::{ClusterConfig, EmulatorConfig, POD_IDENTITY_PRINCIPAL};
use crate::identity::{Identities, new_role_id, role_account_and_name, stable_role_id};

/// Behaviour switches, from [`EmulatorConfig`], changeable at run time.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub check_roles: bool,
    pub max_associations_per_cluster: usize,
    pub allow_system_tags: bool,
    /// Verify the SigV4 signature of every API request.
    pub verify_signatures: bool,
    /// Seconds before a role created through IAM becomes visible to EKS.
    pub role_propagation_seconds: f64,
}

#[derive(Debug)]
pub struct State {
    pub clusters: BTreeMap<String, Cluster>,
    pub roles: RoleRegistry,
    pub settings: Settings,
    pub identities: Identities,
    /// What EKS Auth handed out, oldest first ([`crate::eks_auth::MAX_GRANTS_KEPT`] at most).
    pub pod_identity_grants: Vec<crate::eks_auth::PodIdentityGrant>,
    /// Types registered through the emulated CloudFormation registry.
    pub cloudformation: crate::cloudformation::Registry,
}

impl State {
    pub fn new(config: &EmulatorConfig) -> Self {
        let mut roles = RoleRegistry::default();
        for role in &config.roles {
            roles.put(&role.arn, role.trust_policy.clone());
        }
        let mut identities = Identities::default();
        for key in &config.access_keys {
            identities.add_user_key(
                &key.access_key_id,
                &key.secret_access_key,
                &key.account_id,
                &key.user_name,
            );
        }
        Self {
            identities,
            pod_identity_grants: Vec::new(),
            cloudformation: Default::default(),
            clusters: config
                .clusters
                .iter()
                .map(|c| (c.name.clone(), Cluster::new(c)))
                .collect(),
            roles,
            settings: Settings {
                check_roles: config.check_roles,
                max_associations_per_cluster: config.max_associations_per_cluster,
                allow_system_tags: config.allow_system_tags,
                verify_signatures: config.verify_signatures,
                role_propagation_seconds: config.role_propagation_seconds,
            },
        }
    }
}

/// IAM's default and smallest maximum session duration of a role, in seconds.
pub const DEFAULT_MAX_SESSION_DURATION: u32 = 3600;

/// An IAM role, as IAM's GetRole describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Role {
    /// `arn:{partition}:iam::{account}:role{path}{name}`.
    pub arn: String,
    pub account_id: String,
    /// `/` or `/a/b/`.
    pub path: String,
    pub name: String,
    /// `AROA…`.
    pub role_id: String,
    /// The trust policy, parsed (a JSON string for documents that do not parse).
    pub trust_policy: Value,
    /// The trust policy as it was given, which IAM returns (URL-encoded).
    pub trust_policy_document: String,
    pub description: Option<String>,
    pub max_session_duration: u32,
    /// Epoch seconds.
    pub created_at: f64,
    /// In the order given.
    pub tags: Vec<(String, String)>,
    /// Managed policy ARNs, in attachment order.
    pub attached_policies: Vec<String>,
    /// Epoch seconds from which EKS sees the role (IAM propagation); 0: from the start.
    #[serde(default)]
    pub visible_to_eks_at: f64,
}

impl Role {
    /// A role made from its ARN alone (the in-process [`crate::Emulator::put_role`] and the config).
    pub fn from_arn(arn: &str, trust_policy: Value) -> Self {
        let (account_id, name) = role_account_and_name(arn);
        let resource = arn.splitn(6, ':').nth(5).unwrap_or("");
        let path = resource
            .strip_prefix("role")
            .and_then(|rest| rest.strip_suffix(name))
            .filter(|path| path.starts_with('/') && path.ends_with('/'))
            .unwrap_or("/");
        Self {
            arn: arn.to_owned(),
            account_id: account_id.to_owned(),
            path: path.to_owned(),
            name: name.to_owned(),
            role_id: stable_role_id(arn),
            trust_policy_document: policy_text(&trust_policy),
            trust_policy,
            description: None,
            max_session_duration: DEFAULT_MAX_SESSION_DURATION,
            created_at: now_epoch_seconds(),
            tags: Vec::new(),
            attached_policies: Vec::new(),
            visible_to_eks_at: 0.0,
        }
    }

    /// A role created through IAM's CreateRole.
    pub fn new(partition: &str, account_id: &str, path: &str, name: &str, document: &str) -> Self {
        let arn = format!("arn:{partition}:iam::{account_id}:role{path}{name}");
        Self {
            role_id: new_role_id(),
            trust_policy: parse_policy(document),
            trust_policy_document: document.to_owned(),
            ..Self::from_arn(&arn, Value::Null)
        }
    }

    pub fn set_trust_policy(&mut self, document: &str) {
        self.trust_policy = parse_policy(document);
        self.trust_policy_document = document.to_owned();
    }
}

/// A policy document as given: a JSON value, or a string holding one.
fn policy_text(policy: &Value) -> String {
    match policy {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn parse_policy(document: &str) -> Value {
    serde_json::from_str(document).unwrap_or_else(|_| Value::String(document.to_owned()))
}

/// The emulated IAM's roles, by account and name (names are unique in an account whatever their case
/// or path, as in IAM), listed in name order.
#[derive(Debug, Default)]
pub struct RoleRegistry {
    roles: BTreeMap<(String, String), Role>,
}

fn role_key(account_id: &str, name: &str) -> (String, String) {
    (account_id.to_owned(), name.to_ascii_lowercase())
}

impl RoleRegistry {
    /// Adds a role with this trust policy, or replaces the trust policy of the role with this ARN.
    pub fn put(&mut self, arn: &str, trust_policy: Value) {
        let (account_id, name) = role_account_and_name(arn);
        let key = role_key(account_id, name);
        match self.roles.get_mut(&key) {
            Some(role) if role.arn == arn => {
                role.trust_policy_document = policy_text(&trust_policy);
                role.trust_policy = trust_policy;
            }
            _ => {
                self.roles.insert(key, Role::from_arn(arn, trust_policy));
            }
        }
    }

    /// Adds a role; one of the same name in the account is replaced.
    pub fn insert(&mut self, role: Role) {
        self.roles.insert(role_key(&role.account_id, &role.name), role);
    }

    pub fn delete(&mut self, arn: &str) -> Option<Role> {
        let (account_id, name) = role_account_and_name(arn);
        let key = role_key(account_id, name);
        if self.roles.get(&key)?.arn != arn {
            return None;
        }
        self.roles.remove(&key)
    }

    /// The role with exactly this ARN.
    pub fn get(&self, arn: &str) -> Option<&Role> {
        let (account_id, name) = role_account_and_name(arn);
        self.roles
            .get(&role_key(account_id, name))
            .filter(|role| role.arn == arn)
    }

    pub fn by_name(&self, account_id: &str, name: &str) -> Option<&Role> {
        self.roles.get(&role_key(account_id, name))
    }

    pub fn by_name_mut(&mut self, account_id: &str, name: &str) -> Option<&mut Role> {
        self.roles.get_mut(&role_key(account_id, name))
    }

    pub fn remove_by_name(&mut self, account_id: &str, name: &str) -> Option<Role> {
        self.roles.remove(&role_key(account_id, name))
    }

    /// The roles of an account in name order, starting after the (lower-cased) name `after`.
    pub fn in_account<'a>(&'a self, account_id: &str, after: Option<&str>) -> impl Iterator<Item = &'a Role> + 'a {
        let start = match after {
            Some(name) => Bound::Excluded(role_key(account_id, name)),
            None => Bound::Included(role_key(account_id, "")),
        };
        let account = account_id.to_owned();
        self.roles
            .range((start, Bound::Unbounded))
            .take_while(move |((role_account, _), _)| *role_account == account)
            .map(|(_, role)| role)
    }

    pub fn count_in_account(&self, account_id: &str) -> usize {
        self.in_account(account_id, None).count()
    }

    pub fn trust_policy(&self, arn: &str) -> Option<&Value> {
        self.get(arn).map(|role| &role.trust_policy)
    }

    /// The trust policy of a role EKS can see at `now` (epoch seconds): a new role reaches EKS only once IAM has
    /// propagated it.
    pub fn visible_to_eks(&self, arn: &str, now: f64) -> Option<&Value> {
        self.get(arn)
            .filter(|role| role.visible_to_eks_at <= now)
            .map(|role| &role.trust_policy)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Role> {
        self.roles.values()
    }

    pub fn len(&self) -> usize {
        self.roles.len()
    }

    pub fn is_empty(&self) -> bool {
        self.roles.is_empty()
    }
}

/// Whether a trust policy lets EKS Pod Identity use the role: some `Allow` statement names the service
/// principal `pods.eks.amazonaws.com`.
///
/// Deliberately small: a proper IAM policy evaluator replaces it later. The document may be given as a
/// JSON value or as a JSON string (URL-encoded documents, as IAM returns them, are not decoded).
pub fn trust_policy_allows_pod_identity(policy: &Value) -> bool {
    let parsed;
    let policy = match policy {
        Value::String(text) => match serde_json::from_str::<Value>(text) {
            Ok(value) => {
                parsed = value;
                &parsed
            }
            Err(_) => return false,
        },
        other => other,
    };
    let statements: Vec<&Value> = match policy.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => return false,
    };
    statements.into_iter().any(|statement| {
        statement.get("Effect").and_then(Value::as_str) == Some("Allow")
            && statement
                .get("Principal")
                .and_then(|principal| principal.get("Service"))
                .is_some_and(|service| match service {
                    Value::String(s) => s == POD_IDENTITY_PRINCIPAL,
                    Value::Array(items) => items.iter().any(|s| s.as_str() == Some(POD_IDENTITY_PRINCIPAL)),
                    _ => false,
                })
    })
}

/// One Pod Identity association, as EKS describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Association {
    pub cluster_name: String,
    pub namespace: String,
    pub service_account: String,
    pub role_arn: String,
    pub association_arn: String,
    pub association_id: String,
    pub tags: BTreeMap<String, String>,
    /// Epoch seconds.
    pub created_at: f64,
    /// Epoch seconds.
    pub modified_at: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_arn: Option<String>,
    pub disable_session_tags: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_role_arn: Option<String>,
    pub external_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// Creation order inside its cluster; the list order.
    #[serde(skip)]
    pub(crate) seq: u64,
}

/// What ListPodIdentityAssociations returns for each association.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssociationSummary {
    pub cluster_name: String,
    pub namespace: String,
    pub service_account: String,
    pub association_arn: String,
    pub association_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_arn: Option<String>,
}

impl From<&Association> for AssociationSummary {
    fn from(a: &Association) -> Self {
        Self {
            cluster_name: a.cluster_name.clone(),
            namespace: a.namespace.clone(),
            service_account: a.service_account.clone(),
            association_arn: a.association_arn.clone(),
            association_id: a.association_id.clone(),
            owner_arn: a.owner_arn.clone(),
        }
    }
}

/// A create or update already answered for a client request token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    /// The request's parameters, canonically serialized.
    pub fingerprint: String,
    pub association_id: String,
}

/// Filters of ListPodIdentityAssociations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    pub namespace: Option<String>,
    pub service_account: Option<String>,
}

#[derive(Debug)]
pub struct Cluster {
    pub name: String,
    pub account_id: String,
    pub region: String,
    pub partition: String,
    pub arn: String,
    pub created_at: f64,
    pub version: String,
    pub endpoint: String,
    pub oidc_issuer: String,
    /// Signs and verifies the cluster's service-account tokens.
    pub signing_key: std::sync::Arc<crate::tokens::SigningKey>,
    pub tags: BTreeMap<String, String>,
    /// clientRequestToken of a successful create → what it created.
    pub create_tokens: HashMap<String, IdempotencyRecord>,
    /// (associationId, clientRequestToken) of a successful update → its parameters' fingerprint.
    pub update_tokens: HashMap<(String, String), String>,
    associations: HashMap<String, Association>,
    by_seq: BTreeMap<u64, String>,
    by_namespace: BTreeMap<(String, u64), String>,
    by_service_account: BTreeMap<(String, u64), String>,
    by_identity: HashMap<(String, String), String>,
    next_seq: u64,
}

impl Cluster {
    pub fn new(config: &ClusterConfig) -> Self {
        let id = random_hex(32).to_ascii_uppercase();
        Self {
            arn: format!(
                "arn:{}:eks:{}:{}:cluster/{}",
                config.partition, config.region, config.account_id, config.name
            ),
            endpoint: format!("https://{id}.gr7.{}.eks.amazonaws.com", config.region),
            oidc_issuer: config
                .oidc_issuer
                .clone()
                .unwrap_or_else(|| format!("https://oidc.eks.{}.amazonaws.com/id/{id}", config.region)),
            signing_key: std::sync::Arc::new(crate::tokens::SigningKey::lazy(config.signing_key_pem.clone())),
            name: config.name.clone(),
            account_id: config.account_id.clone(),
            region: config.region.clone(),
            partition: config.partition.clone(),
            created_at: now_epoch_seconds(),
            version: "1.33".to_owned(),
            tags: BTreeMap::new(),
            create_tokens: HashMap::new(),
            update_tokens: HashMap::new(),
            associations: HashMap::new(),
            by_seq: BTreeMap::new(),
            by_namespace: BTreeMap::new(),
            by_service_account: BTreeMap::new(),
            by_identity: HashMap::new(),
            next_seq: 0,
        }
    }

    /// `arn:{partition}:eks:{region}:{account}:podidentityassociation/{cluster}/{id}`.
    pub fn association_arn(&self, association_id: &str) -> String {
        format!(
            "arn:{}:eks:{}:{}:podidentityassociation/{}/{}",
            self.partition, self.region, self.account_id, self.name, association_id
        )
    }

    pub fn len(&self) -> usize {
        self.associations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.associations.is_empty()
    }

    pub fn association(&self, id: &str) -> Option<&Association> {
        self.associations.get(id)
    }

    /// Mutable access for updates. Namespace and service account must not be changed through it (they
    /// are indexed); EKS does not allow changing them either.
    pub fn association_mut(&mut self, id: &str) -> Option<&mut Association> {
        self.associations.get_mut(id)
    }

    /// The id of the association of (namespace, service account), if any.
    pub fn id_for(&self, namespace: &str, service_account: &str) -> Option<&str> {
        self.by_identity
            .get(&(namespace.to_owned(), service_account.to_owned()))
            .map(String::as_str)
    }

    /// Adds an association (its id must be new, its identity free), placing it last in list order.
    pub fn insert(&mut self, mut association: Association) -> &Association {
        let seq = self.next_seq;
        self.next_seq += 1;
        association.seq = seq;
        let id = association.association_id.clone();
        self.by_seq.insert(seq, id.clone());
        self.by_namespace
            .insert((association.namespace.clone(), seq), id.clone());
        self.by_service_account
            .insert((association.service_account.clone(), seq), id.clone());
        self.by_identity.insert(
            (association.namespace.clone(), association.service_account.clone()),
            id.clone(),
        );
        self.associations.entry(id).insert_entry(association).into_mut()
    }

    pub fn remove(&mut self, id: &str) -> Option<Association> {
        let association = self.associations.remove(id)?;
        let seq = association.seq;
        self.by_seq.remove(&seq);
        self.by_namespace.remove(&(association.namespace.clone(), seq));
        self.by_service_account
            .remove(&(association.service_account.clone(), seq));
        self.by_identity
            .remove(&(association.namespace.clone(), association.service_account.clone()));
        self.update_tokens.retain(|(association_id, _), _| association_id != id);
        Some(association)
    }

    /// The list position the next association gets.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Puts back an association saved with its list position `seq` (persistence); later inserts come
    /// after it.
    pub fn restore(&mut self, seq: u64, association: Association) {
        let next_seq = self.next_seq.max(seq + 1);
        self.next_seq = seq;
        self.insert(association);
        self.next_seq = next_seq;
    }

    /// Sets the next list position (persistence), never below one already used.
    pub fn restore_next_seq(&mut self, next_seq: u64) {
        self.next_seq = self.next_seq.max(next_seq);
    }

    /// All associations in list (creation) order.
    pub fn associations(&self) -> impl Iterator<Item = &Association> {
        self.by_seq.values().filter_map(|id| self.associations.get(id))
    }

    /// One page of the associations that match `filter`, in creation order, starting after position
    /// `after`. Returns the page and, if more match, the position to continue after. Costs
    /// O(limit · log n), whatever the filter.
    pub fn page(&self, filter: &ListFilter, after: Option<u64>, limit: usize) -> (Vec<&Association>, Option<u64>) {
        let (page, next, _) = self.page_visiting(filter, after, limit);
        (page, next)
    }

    /// [`Cluster::page`], also telling how many index entries it visited (at most `limit + 1`).
    pub fn page_visiting(
        &self,
        filter: &ListFilter,
        after: Option<u64>,
        limit: usize,
    ) -> (Vec<&Association>, Option<u64>, usize) {
        let start = after.map_or(Bound::Unbounded, Bound::Excluded);
        let ids: Vec<&String> = match (&filter.namespace, &filter.service_account) {
            (Some(namespace), Some(service_account)) => self
                .by_identity
                .get(&(namespace.clone(), service_account.clone()))
                .into_iter()
                .filter(|id| after.is_none_or(|after| self.associations[*id].seq > after))
                .collect(),
            (Some(key), None) => range_with_key(&self.by_namespace, key, start, limit + 1),
            (None, Some(key)) => range_with_key(&self.by_service_account, key, start, limit + 1),
            (None, None) => self
                .by_seq
                .range((start, Bound::Unbounded))
                .map(|(_, id)| id)
                .take(limit + 1)
                .collect(),
        };
        let visited = ids.len();
        let mut page: Vec<&Association> = ids.into_iter().filter_map(|id| self.associations.get(id)).collect();
        let next = if page.len() > limit {
            page.truncate(limit);
            page.last().map(|a| a.seq)
        } else {
            None
        };
        (page, next, visited)
    }
}

fn range_with_key<'a>(
    index: &'a BTreeMap<(String, u64), String>,
    key: &str,
    start: Bound<u64>,
    count: usize,
) -> Vec<&'a String> {
    let from = match start {
        Bound::Excluded(seq) => Bound::Excluded((key.to_owned(), seq)),
        _ => Bound::Included((key.to_owned(), 0)),
    };
    index
        .range((from, Bound::Included((key.to_owned(), u64::MAX))))
        .map(|(_, id)| id)
        .take(count)
        .collect()
}

/// Now, as EKS reports timestamps: epoch seconds, millisecond precision.
pub fn now_epoch_seconds() -> f64 {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    millis as f64 / 1000.0
}

/// `a-` and 17 random lower-case alphanumerics, like EKS's association ids.
pub fn new_association_id() -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let tail: String = (0..17)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect();
    format!("a-{tail}")
}

/// A random version-4 UUID in its usual text form.
pub fn new_uuid() -> String {
    let mut bytes: [u8; 16] = rand::rng().random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn random_hex(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::pod_identity_trust_policy;
    use serde_json::json;

    fn association(cluster: &Cluster, namespace: &str, service_account: &str) -> Association {
        let id = new_association_id();
        Association {
            cluster_name: cluster.name.clone(),
            namespace: namespace.to_owned(),
            service_account: service_account.to_owned(),
            role_arn: "arn:aws:iam::111122223333:role/r".to_owned(),
            association_arn: cluster.association_arn(&id),
            association_id: id,
            tags: BTreeMap::new(),
            created_at: now_epoch_seconds(),
            modified_at: now_epoch_seconds(),
            owner_arn: None,
            disable_session_tags: false,
            target_role_arn: None,
            external_id: new_uuid(),
            policy: None,
            seq: 0,
        }
    }

    fn collect(cluster: &Cluster, filter: &ListFilter, limit: usize) -> Vec<String> {
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let (page, next) = cluster.page(filter, after, limit);
            assert!(page.len() <= limit);
            out.extend(page.iter().map(|a| format!("{}/{}", a.namespace, a.service_account)));
            match next {
                Some(next) => after = Some(next),
                None => return out,
            }
        }
    }

    #[test]
    fn ids_look_like_eks_ids() {
        for _ in 0..100 {
            let id = new_association_id();
            assert_eq!(id.len(), 19);
            assert!(id.starts_with("a-"));
            assert!(
                id[2..].chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
                "{id}"
            );
        }
        assert_ne!(new_association_id(), new_association_id());
        let uuid = new_uuid();
        assert_eq!(uuid.len(), 36);
        assert_eq!(&uuid[14..15], "4");
        assert_eq!(uuid.matches('-').count(), 4);
    }

    #[test]
    fn trust_check_needs_an_allow_statement_for_the_pod_principal() {
        assert!(trust_policy_allows_pod_identity(&pod_identity_trust_policy()));
        assert!(trust_policy_allows_pod_identity(&Value::String(
            pod_identity_trust_policy().to_string()
        )));
        let single = json!({"Statement": {"Effect": "Allow", "Principal": {"Service": ["ec2.amazonaws.com", POD_IDENTITY_PRINCIPAL]}, "Action": "sts:AssumeRole"}});
        assert!(trust_policy_allows_pod_identity(&single));
        let deny = json!({"Statement": [{"Effect": "Deny", "Principal": {"Service": POD_IDENTITY_PRINCIPAL}, "Action": "sts:AssumeRole"}]});
        assert!(!trust_policy_allows_pod_identity(&deny));
        let other = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
        assert!(!trust_policy_allows_pod_identity(&other));
        assert!(!trust_policy_allows_pod_identity(&json!({})));
        assert!(!trust_policy_allows_pod_identity(&Value::String("not json".into())));
    }

    #[test]
    fn pages_follow_creation_order_under_each_filter() {
        let mut cluster = Cluster::new(&ClusterConfig::new("c"));
        for i in 0..25 {
            let a = association(&cluster, &format!("ns{}", i % 3), &format!("sa{}", i % 4));
            cluster.insert(a);
        }
        let all = collect(&cluster, &ListFilter::default(), 7);
        assert_eq!(all.len(), 25);
        assert_eq!(all[0], "ns0/sa0");
        assert_eq!(all[24], "ns0/sa0");
        // Creation order (this test repeats identities, which EKS's rules, enforced in `eks`, would refuse).
        assert_eq!(all[5], "ns2/sa1");

        let ns1 = collect(
            &cluster,
            &ListFilter {
                namespace: Some("ns1".into()),
                service_account: None,
            },
            2,
        );
        let expected: Vec<String> = (0..25)
            .filter(|i| i % 3 == 1)
            .map(|i| format!("ns1/sa{}", i % 4))
            .collect();
        assert_eq!(ns1, expected);

        let sa2 = collect(
            &cluster,
            &ListFilter {
                namespace: None,
                service_account: Some("sa2".into()),
            },
            3,
        );
        assert_eq!(sa2.len(), (0..25).filter(|i| i % 4 == 2).count());
        assert!(sa2.iter().all(|s| s.ends_with("/sa2")));

        let none = collect(
            &cluster,
            &ListFilter {
                namespace: Some("nope".into()),
                service_account: None,
            },
            3,
        );
        assert!(none.is_empty());
    }

    #[test]
    fn remove_drops_every_index_entry() {
        let mut cluster = Cluster::new(&ClusterConfig::new("c"));
        let a = association(&cluster, "ns", "sa");
        let id = cluster.insert(a).association_id.clone();
        assert_eq!(cluster.id_for("ns", "sa"), Some(id.as_str()));
        cluster.update_tokens.insert((id.clone(), "t".into()), "f".into());
        assert!(cluster.remove(&id).is_some());
        assert!(cluster.remove(&id).is_none());
        assert_eq!(cluster.id_for("ns", "sa"), None);
        assert!(cluster.update_tokens.is_empty());
        for filter in [
            ListFilter::default(),
            ListFilter {
                namespace: Some("ns".into()),
                service_account: None,
            },
            ListFilter {
                namespace: None,
                service_account: Some("sa".into()),
            },
            ListFilter {
                namespace: Some("ns".into()),
                service_account: Some("sa".into()),
            },
        ] {
            assert!(cluster.page(&filter, None, 10).0.is_empty());
        }
    }

    /// 100,000 associations: a page costs the page, not the cluster. A page of the namespace whose
    /// associations were created last, or of the last positions, visits at most `limit + 1` index
    /// entries, where a scan would visit up to 100,000.
    #[test]
    fn paging_visits_only_the_page_with_100k_associations() {
        let mut cluster = Cluster::new(&ClusterConfig::new("big"));
        for i in 0..100_000 {
            let a = association(&cluster, &format!("ns{}", i / 1000), &format!("sa{i}"));
            cluster.insert(a);
        }
        assert_eq!(cluster.len(), 100_000);
        let ns99 = ListFilter {
            namespace: Some("ns99".into()),
            service_account: None,
        };
        let (page, next, visited) = cluster.page_visiting(&ns99, None, 100);
        assert_eq!(page.len(), 100);
        assert_eq!(page[0].service_account, "sa99000");
        assert!(next.is_some());
        assert_eq!(visited, 101);
        let (page, next, visited) = cluster.page_visiting(&ns99, next, 100);
        assert_eq!(page.len(), 100);
        assert_eq!(page[0].service_account, "sa99100");
        assert!(visited <= 101 && next.is_some());

        let (page, next, visited) = cluster.page_visiting(&ListFilter::default(), Some(99_950), 100);
        assert_eq!(page.len(), 49);
        assert_eq!(next, None);
        assert_eq!(visited, 49);

        let by_sa = ListFilter {
            namespace: None,
            service_account: Some("sa99999".into()),
        };
        let (page, _, visited) = cluster.page_visiting(&by_sa, None, 100);
        assert_eq!(page.len(), 1);
        assert_eq!(visited, 1);
        let both = ListFilter {
            namespace: Some("ns99".into()),
            service_account: Some("sa99999".into()),
        };
        let (page, _, visited) = cluster.page_visiting(&both, None, 100);
        assert_eq!((page.len(), visited), (1, 1));
    }
}
