//! The agent's credentials cache: per service-account token, bounded, each entry with the time it is due for
//! renewal, which the background renewal ([`super::renewal`]) honours. As in the real agent, a full cache evicts
//! the entry stored (fetched or renewed) longest ago; a hit does not reorder, so hits share a read lock.

use std::num::NonZeroUsize;
use std::sync::{PoisonError, RwLock, RwLockWriteGuard};
use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use lru::LruCache;

use super::token::Validity;

/// Credentials closer than this to their expiry are neither served nor cached (the real agent's 15 s).
pub(crate) const MIN_CREDENTIAL_TTL: Duration = Duration::from_secs(15);
/// Renewal comes this long before expiry (at most half the credentials' lifetime).
const RENEW_BEFORE_EXPIRY: Duration = Duration::from_secs(300);

#[derive(Debug, Clone)]
pub(crate) struct Cached {
    /// The answer as sent: a hit costs a reference count, not a serialization.
    pub body: Bytes,
    pub expiration: SystemTime,
    pub renew_at: SystemTime,
    /// The token's own validity, checked on every hit.
    pub token: Validity,
}

impl Cached {
    /// Whether the credentials may still be handed out.
    pub(crate) fn usable(&self, now: SystemTime) -> bool {
        self.expiration
            .duration_since(now)
            .is_ok_and(|left| left > MIN_CREDENTIAL_TTL)
    }
}

/// When credentials fetched `now` are due for renewal: at most `max_retention` later, and before they expire.
pub(crate) fn renewal_time(now: SystemTime, expiration: SystemTime, max_retention: Duration) -> SystemTime {
    let lifetime = expiration.duration_since(now).unwrap_or_default();
    now + max_retention.min(lifetime - RENEW_BEFORE_EXPIRY.min(lifetime / 2))
}

/// `None` inside: caching is off.
pub(crate) struct Cache(Option<RwLock<LruCache<String, Cached>>>);

impl Cache {
    pub(crate) fn new(max_entries: usize) -> Self {
        Self(NonZeroUsize::new(max_entries).map(|capacity| RwLock::new(LruCache::new(capacity))))
    }

    pub(crate) fn enabled(&self) -> bool {
        self.0.is_some()
    }

    fn lock(&self) -> Option<RwLockWriteGuard<'_, LruCache<String, Cached>>> {
        self.0
            .as_ref()
            .map(|entries| entries.write().unwrap_or_else(PoisonError::into_inner))
    }

    pub(crate) fn get(&self, token: &str) -> Option<Cached> {
        let entries = self.0.as_ref()?.read().unwrap_or_else(PoisonError::into_inner);
        entries.peek(token).cloned()
    }

    /// Stores the entry; returns whether another token's entry was evicted to make room.
    pub(crate) fn put(&self, token: &str, entry: Cached) -> bool {
        let Some(mut entries) = self.lock() else {
            return false;
        };
        entries
            .push(token.to_owned(), entry)
            .is_some_and(|(evicted, _)| evicted != token)
    }

    /// Stores renewed credentials (now the newest entry), unless the entry went meanwhile (evicted, or the cache
    /// cleared).
    pub(crate) fn renewed(&self, token: &str, body: Bytes, expiration: SystemTime, renew_at: SystemTime) {
        if let Some(current) = self.lock().as_mut().and_then(|entries| entries.get_mut(token)) {
            current.body = body;
            current.expiration = expiration;
            current.renew_at = renew_at;
        }
    }

    /// Postpones an entry's renewal (stored again, as the real agent does).
    pub(crate) fn postpone(&self, token: &str, renew_at: SystemTime) {
        if let Some(current) = self.lock().as_mut().and_then(|entries| entries.get_mut(token)) {
            current.renew_at = renew_at;
        }
    }

    pub(crate) fn remove(&self, token: &str) -> bool {
        self.lock().is_some_and(|mut entries| entries.pop(token).is_some())
    }

    /// The tokens whose entries are due for renewal.
    pub(crate) fn due(&self, now: SystemTime) -> Vec<String> {
        self.lock().map_or_else(Vec::new, |entries| {
            entries
                .iter()
                .filter(|(_, entry)| entry.renew_at <= now)
                .map(|(token, _)| token.clone())
                .collect()
        })
    }

    /// Drops the entries that can no longer be served; returns how many.
    pub(crate) fn remove_unusable(&self, now: SystemTime) -> usize {
        let Some(mut entries) = self.lock() else {
            return 0;
        };
        let gone: Vec<String> = entries
            .iter()
            .filter(|(_, entry)| !entry.usable(now))
            .map(|(token, _)| token.clone())
            .collect();
        for token in &gone {
            entries.pop(token);
        }
        gone.len()
    }

    pub(crate) fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |entries| {
            entries.read().unwrap_or_else(PoisonError::into_inner).len()
        })
    }

    pub(crate) fn clear(&self) {
        if let Some(mut entries) = self.lock() {
            entries.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renewal_comes_before_expiry_and_within_the_retention() {
        let now = SystemTime::now();
        let hour = Duration::from_secs(3600);
        assert_eq!(renewal_time(now, now + 6 * hour, 3 * hour), now + 3 * hour);
        assert_eq!(
            renewal_time(now, now + hour, 3 * hour),
            now + hour - RENEW_BEFORE_EXPIRY
        );
        let short = Duration::from_secs(60);
        assert_eq!(renewal_time(now, now + short, 3 * hour), now + short / 2);
        assert_eq!(renewal_time(now, now - short, 3 * hour), now);
    }
}
