//! EKS's data: clusters with their Pod Identity associations, the indexes that list them, and the
//! idempotency records of creates and updates. The rules of each operation live in the EKS service.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::Arc;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::control_plane::ControlPlane;
use super::journal::{Journal, Row};
use crate::clock::now_epoch_seconds;
use crate::config::ClusterConfig;
use crate::ids::{new_cluster_id, new_uuid};
use crate::tokens::SigningKey;

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
pub(crate) struct AssociationSummary {
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
pub(crate) struct IdempotencyRecord {
    /// The request's parameters, canonically serialized.
    pub fingerprint: String,
    pub association_id: String,
}

/// Filters of ListPodIdentityAssociations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ListFilter {
    pub namespace: Option<String>,
    pub service_account: Option<String>,
}

/// A change to an association that EKS Auth does not see yet: until `until` (epoch seconds) it sees `seen`,
/// the version before the change (`None`: the association did not exist).
#[derive(Debug, Clone)]
struct Unseen {
    until: f64,
    seen: Option<Association>,
}

#[derive(Debug)]
pub(crate) struct Cluster {
    pub name: String,
    pub account_id: String,
    pub region: String,
    pub partition: String,
    pub arn: String,
    pub created_at: f64,
    pub version: String,
    pub endpoint: String,
    pub oidc_issuer: String,
    /// Role, certificate authority, networking, logging and access, as DescribeCluster reports them.
    pub control_plane: ControlPlane,
    /// Signs and verifies the cluster's service-account tokens.
    pub signing_key: Arc<SigningKey>,
    tags: BTreeMap<String, String>,
    /// clientRequestToken of a successful create → what it created.
    create_tokens: HashMap<String, IdempotencyRecord>,
    /// (associationId, clientRequestToken) of a successful update → its parameters' fingerprint.
    update_tokens: HashMap<(String, String), String>,
    associations: HashMap<String, Association>,
    by_seq: BTreeMap<u64, String>,
    by_namespace: BTreeMap<(String, u64), String>,
    by_service_account: BTreeMap<(String, u64), String>,
    by_identity: HashMap<(String, String), String>,
    next_seq: u64,
    /// Association id → its changes still propagating to EKS Auth, oldest first. Not saved: a restart makes them
    /// effective at once.
    propagating: HashMap<String, Vec<Unseen>>,
    /// The rows changed since the last commit.
    journal: Journal,
}

impl Cluster {
    pub fn new(config: &ClusterConfig) -> Self {
        let id = new_cluster_id();
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
            signing_key: Arc::new(SigningKey::lazy(config.signing_key_pem.clone())),
            control_plane: ControlPlane::new(&config.partition, &config.account_id, SystemTime::now()),
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
            propagating: HashMap::new(),
            journal: Journal::default(),
        }
    }

    /// The external id of an association of (namespace, service account), which EKS Auth passes as `sts:ExternalId`
    /// when it assumes the target role: with session tags, a new unique id; without them (nothing else then tells
    /// the target role who asks), `{region}/{account}/{cluster}/{namespace}/{service account}`, as EKS documents.
    pub fn external_id(&self, namespace: &str, service_account: &str, disable_session_tags: bool) -> String {
        if disable_session_tags {
            format!(
                "{}/{}/{}/{namespace}/{service_account}",
                self.region, self.account_id, self.name
            )
        } else {
            new_uuid()
        }
    }

    /// `arn:{partition}:eks:{region}:{account}:podidentityassociation/{cluster}/{id}`.
    pub fn association_arn(&self, association_id: &str) -> String {
        format!(
            "arn:{}:eks:{}:{}:podidentityassociation/{}/{}",
            self.partition, self.region, self.account_id, self.name, association_id
        )
    }

    pub fn tags(&self) -> &BTreeMap<String, String> {
        &self.tags
    }

    pub fn tags_mut(&mut self) -> &mut BTreeMap<String, String> {
        self.journal.record(Row::Cluster(self.name.clone()));
        &mut self.tags
    }

    /// What the create with this client request token made.
    pub fn create_token(&self, token: &str) -> Option<&IdempotencyRecord> {
        self.create_tokens.get(token)
    }

    pub fn remember_create_token(&mut self, token: String, record: IdempotencyRecord) {
        self.journal.record(self.create_token_row(&token));
        self.create_tokens.insert(token, record);
    }

    pub fn forget_create_token(&mut self, token: &str) {
        self.journal.record(self.create_token_row(token));
        self.create_tokens.remove(token);
    }

    /// The fingerprint of the update of an association with this client request token.
    pub fn update_token(&self, association_id: &str, token: &str) -> Option<&str> {
        self.update_tokens
            .get(&(association_id.to_owned(), token.to_owned()))
            .map(String::as_str)
    }

    pub fn remember_update_token(&mut self, association_id: String, token: String, fingerprint: String) {
        self.journal.record(self.update_token_row(&association_id, &token));
        self.update_tokens.insert((association_id, token), fingerprint);
    }

    fn association_row(&self, id: &str) -> Row {
        Row::Association {
            cluster: self.name.clone(),
            id: id.to_owned(),
        }
    }

    fn create_token_row(&self, token: &str) -> Row {
        Row::CreateToken {
            cluster: self.name.clone(),
            token: token.to_owned(),
        }
    }

    fn update_token_row(&self, association_id: &str, token: &str) -> Row {
        Row::UpdateToken {
            cluster: self.name.clone(),
            association_id: association_id.to_owned(),
            token: token.to_owned(),
        }
    }

    /// Every row of the cluster: itself, its associations and its tokens.
    pub fn rows(&self) -> Vec<Row> {
        let mut rows = vec![Row::Cluster(self.name.clone())];
        rows.extend(self.associations.keys().map(|id| self.association_row(id)));
        rows.extend(self.create_tokens.keys().map(|token| self.create_token_row(token)));
        rows.extend(
            self.update_tokens
                .keys()
                .map(|(association_id, token)| self.update_token_row(association_id, token)),
        );
        rows
    }

    /// The rows changed since the last call.
    pub fn take_changes(&mut self) -> std::collections::BTreeSet<Row> {
        self.journal.take()
    }

    pub fn len(&self) -> usize {
        self.associations.len()
    }

    pub fn association(&self, id: &str) -> Option<&Association> {
        self.associations.get(id)
    }

    /// Mutable access for updates. Namespace and service account must not be changed through it (they
    /// are indexed); EKS does not allow changing them either.
    pub fn association_mut(&mut self, id: &str) -> Option<&mut Association> {
        self.journal.record(self.association_row(id));
        self.associations.get_mut(id)
    }

    /// The id of the association of (namespace, service account), if any.
    pub fn id_for(&self, namespace: &str, service_account: &str) -> Option<&str> {
        self.by_identity
            .get(&(namespace.to_owned(), service_account.to_owned()))
            .map(String::as_str)
    }

    /// The association that EKS Auth sees for (namespace, service account) at `now` (epoch seconds): the current
    /// one, or while a create or update is still propagating ([`Cluster::propagate`]) the version before it.
    pub fn association_for_eks_auth(&self, namespace: &str, service_account: &str, now: f64) -> Option<&Association> {
        let id = self.id_for(namespace, service_account)?;
        let unseen = self
            .propagating
            .get(id)
            .and_then(|changes| changes.iter().find(|change| now < change.until));
        match unseen {
            Some(change) => change.seen.as_ref(),
            None => self.associations.get(id),
        }
    }

    /// Records that association `id` is about to change (created: `before` is `None`; updated: its version before)
    /// and that EKS Auth sees the change only `delay` seconds after `now`. Changes already effective are dropped.
    pub fn propagate(&mut self, id: &str, before: Option<Association>, now: f64, delay: f64) {
        self.propagating.retain(|_, changes| {
            changes.retain(|change| now < change.until);
            !changes.is_empty()
        });
        if delay > 0.0 {
            self.propagating.entry(id.to_owned()).or_default().push(Unseen {
                until: now + delay,
                seen: before,
            });
        }
    }

    /// Adds an association (its id must be new, its identity free), placing it last in list order.
    pub fn insert(&mut self, mut association: Association) -> &Association {
        let seq = self.next_seq;
        self.next_seq += 1;
        association.seq = seq;
        let id = association.association_id.clone();
        self.journal.record(Row::Cluster(self.name.clone()));
        self.journal.record(self.association_row(&id));
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
        self.journal.record(self.association_row(id));
        let seq = association.seq;
        self.by_seq.remove(&seq);
        self.by_namespace.remove(&(association.namespace.clone(), seq));
        self.by_service_account
            .remove(&(association.service_account.clone(), seq));
        self.by_identity
            .remove(&(association.namespace.clone(), association.service_account.clone()));
        let spent: Vec<(String, String)> = self
            .update_tokens
            .keys()
            .filter(|(association_id, _)| association_id == id)
            .cloned()
            .collect();
        for key in spent {
            self.journal.record(self.update_token_row(&key.0, &key.1));
            self.update_tokens.remove(&key);
        }
        // EKS documents the delay for creates and updates only: a delete reaches EKS Auth at once.
        self.propagating.remove(id);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::new_association_id;

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
        cluster.remember_update_token(id.clone(), "t".into(), "f".into());
        assert!(cluster.remove(&id).is_some());
        assert!(cluster.remove(&id).is_none());
        assert_eq!(cluster.id_for("ns", "sa"), None);
        assert_eq!(cluster.update_token(&id, "t"), None);
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
