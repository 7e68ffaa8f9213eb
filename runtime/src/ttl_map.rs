//! The map behind every cache of database rows: entries expire after a fixed time, and a value
//! read from the database before an invalidation is never stored after it.
//!
//! Filling a cache is a read followed by an insert, with an `.await` between them. An
//! invalidation (a write here, or another replica's, [`crate::invalidation`]) can land in that
//! gap: it finds nothing to drop, and the insert that follows would then keep the value read
//! before the write for a whole TTL. So every fill takes a [`Ticket`] before it reads, every
//! invalidation advances the map's epoch, and an insert whose ticket is older than the last
//! invalidation is dropped. The next lookup reads again, after the write.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// Proof of when a fill started reading; see [`TtlMap::ticket`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "a ticket is only useful when given to `insert`"]
pub struct Ticket(u64);

struct Inner<K, V> {
    /// How many invalidations there have been.
    epoch: u64,
    entries: HashMap<K, (Instant, V)>,
}

/// `K` → `V`, each entry trusted for `ttl` after it was read.
pub struct TtlMap<K, V> {
    ttl: Duration,
    inner: RwLock<Inner<K, V>>,
}

impl<K, V> std::fmt::Debug for TtlMap<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TtlMap").field("ttl", &self.ttl).finish_non_exhaustive()
    }
}

impl<K: Hash + Eq, V: Clone> TtlMap<K, V> {
    /// An empty map whose entries expire `ttl` after they were read.
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, inner: RwLock::new(Inner { epoch: 0, entries: HashMap::new() }) }
    }

    /// The value of `key` if it was read less than the TTL ago.
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let inner = self.inner.read().ok()?;
        let (at, value) = inner.entries.get(key)?;
        (at.elapsed() < self.ttl).then(|| value.clone())
    }

    /// Take this before reading the value to [`insert`](Self::insert).
    pub fn ticket(&self) -> Ticket {
        Ticket(self.inner.read().map_or(u64::MAX, |inner| inner.epoch))
    }

    /// Stores `value`, read after `ticket` was taken, unless the map was invalidated since: the
    /// value may then predate the write that invalidated it.
    pub fn insert(&self, ticket: Ticket, key: K, value: V) {
        if let Ok(mut inner) = self.inner.write()
            && inner.epoch == ticket.0
        {
            inner.entries.insert(key, (Instant::now(), value));
        }
    }

    /// Forgets every entry, and every fill under way.
    pub fn clear(&self) {
        self.invalidate(|entries| entries.clear());
    }

    /// Forgets the entries not kept by `keep`, and every fill under way.
    pub fn retain(&self, mut keep: impl FnMut(&K) -> bool) {
        self.invalidate(|entries| entries.retain(|key, _| keep(key)));
    }

    fn invalidate(&self, drop: impl FnOnce(&mut HashMap<K, (Instant, V)>)) {
        // A poisoned lock cannot be filled either (`insert` needs it too).
        if let Ok(mut inner) = self.inner.write() {
            inner.epoch += 1;
            drop(&mut inner.entries);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: Duration = Duration::from_secs(60);

    #[test]
    fn a_fill_that_read_before_an_invalidation_is_not_stored() {
        let map = TtlMap::new(TTL);
        let ticket = map.ticket();
        // The write and its invalidation happen while the fill is reading.
        map.clear();
        map.insert(ticket, "dana", "no roles");
        assert_eq!(map.get("dana"), None);
        let ticket = map.ticket();
        map.insert(ticket, "dana", "operator");
        assert_eq!(map.get("dana"), Some("operator"));
    }

    #[test]
    fn retain_drops_other_entries_and_fills_under_way() {
        let map = TtlMap::new(TTL);
        map.insert(map.ticket(), 1, "one");
        map.insert(map.ticket(), 2, "two");
        let ticket = map.ticket();
        map.retain(|key| *key != 1);
        assert_eq!((map.get(&1), map.get(&2)), (None, Some("two")));
        map.insert(ticket, 3, "three");
        assert_eq!(map.get(&3), None);
    }

    #[test]
    fn entries_expire() {
        let map = TtlMap::new(Duration::ZERO);
        map.insert(map.ticket(), 1, "one");
        assert_eq!(map.get(&1), None);
    }
}
