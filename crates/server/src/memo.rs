//! [`Memo`]: a bounded in-memory map whose entries expire, for what every protected request
//! looks up (the verified token, its user, whether its `jti` or family was revoked).
//!
//! Those four reads are the whole cost of checking a token the server has seen before, so they
//! are made as cheap as a map can be: the key is hashed once (foldhash, seeded at random per
//! map), one of sixteen shards is read under a shared lock, and the clock is read once. A
//! general-purpose cache (moka, which the login throttle keeps) also records every read for its
//! eviction policy and reads the clock several times; measured on this path, its four reads
//! cost more than the rest of the check together (the benchmarks chapter has the profile).
//!
//! Eviction is always safe (whoever reads through a memo asks the source of truth again on a
//! miss) and costs nothing until a shard is full. A full shard then drops its expired entries;
//! if none had expired, those nobody read since the shard was last full, giving the others a
//! second chance (the CLOCK algorithm, swept all at once); if every one had been read, one
//! more. So a flood of entries stored and never read again, such as many fresh tokens each sent
//! once, cannot push out the entries in use.

use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{PoisonError, RwLock, RwLockWriteGuard};
use std::time::{Duration, Instant};

use foldhash::fast::RandomState;
use hashbrown::HashTable;

/// How many independently locked parts a memo has: reads of different keys seldom meet.
const SHARDS: usize = 16;

/// A map of at most `capacity` entries (rounded up to whole shards), each forgotten `ttl` after
/// it was stored.
pub struct Memo<K, V> {
    hasher: RandomState,
    shards: Box<[RwLock<Shard<K, V>>]>,
    per_shard: usize,
    ttl: Duration,
}

type Shard<K, V> = HashTable<Stored<K, V>>;

struct Stored<K, V> {
    key: K,
    value: V,
    at: Instant,
    hash: u64,
    /// Read since the shard was last full.
    read: AtomicBool,
}

impl<K: Hash + Eq, V: Clone> Memo<K, V> {
    /// An empty memo of at most about `capacity` entries that each live `ttl`.
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        Self {
            hasher: RandomState::default(),
            shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
            per_shard: capacity.div_ceil(SHARDS).max(1),
            ttl,
        }
    }

    /// The value stored for `key`, unless it has expired.
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hasher.hash_one(key);
        let shard = self.shards[shard_of(hash)]
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let stored = shard.find(hash, |stored| stored.key.borrow() == key)?;
        if !self.is_live(stored, Instant::now()) {
            return None;
        }
        // Only the first read writes: the others leave the cache line shared between cores.
        if !stored.read.load(Ordering::Relaxed) {
            stored.read.store(true, Ordering::Relaxed);
        }
        Some(stored.value.clone())
    }

    /// Stores `value` for `key`, replacing what was there.
    pub fn insert(&self, key: K, value: V) {
        self.insert_with(key, |_| value);
    }

    /// Stores what `value` makes of the live value stored for `key` (if any), in one step:
    /// no other write to the memo comes between the read and the write.
    pub fn insert_with(&self, key: K, value: impl FnOnce(Option<&V>) -> V) {
        let hash = self.hasher.hash_one(&key);
        let now = Instant::now();
        let mut shard = self.write(hash);
        let known = match shard.find_entry(hash, |stored| stored.key == key) {
            Ok(entry) => {
                let (stored, _) = entry.remove();
                self.is_live(&stored, now).then_some(stored.value)
            }
            Err(_) => None,
        };
        let value = value(known.as_ref());
        if shard.len() >= self.per_shard {
            self.make_room(&mut shard, now);
        }
        let stored = Stored {
            key,
            value,
            at: now,
            hash,
            read: AtomicBool::new(false),
        };
        shard.insert_unique(hash, stored, |stored| stored.hash);
    }

    /// Forgets `key`.
    pub fn invalidate<Q>(&self, key: &Q)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hasher.hash_one(key);
        if let Ok(entry) = self
            .write(hash)
            .find_entry(hash, |stored| stored.key.borrow() == key)
        {
            entry.remove();
        }
    }

    /// Forgets everything.
    pub fn invalidate_all(&self) {
        for shard in &self.shards {
            shard
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .clear();
        }
    }

    fn write(&self, hash: u64) -> RwLockWriteGuard<'_, Shard<K, V>> {
        self.shards[shard_of(hash)]
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn is_live(&self, stored: &Stored<K, V>, now: Instant) -> bool {
        now.saturating_duration_since(stored.at) < self.ttl
    }

    /// Makes room in a full shard: drops the expired entries; if none had, those not read
    /// since the last time (and marks the rest unread); if every one had been read, one more.
    fn make_room(&self, shard: &mut Shard<K, V>, now: Instant) {
        shard.retain(|stored| self.is_live(stored, now));
        if shard.len() >= self.per_shard {
            shard.retain(|stored| std::mem::take(stored.read.get_mut()));
        }
        if shard.len() >= self.per_shard {
            let mut dropped = false;
            shard.retain(|_| std::mem::replace(&mut dropped, true));
        }
    }
}

fn shard_of(hash: u64) -> usize {
    // Bits the table inside the shard does not use: it indexes by the bottom bits and tags
    // each entry with the top seven.
    (hash >> 48) as usize % SHARDS
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: Duration = Duration::from_secs(3600);

    #[test]
    fn a_stored_value_is_read_back_by_a_borrowed_key() {
        let memo = Memo::new(10, LONG);
        memo.insert("jti".to_owned(), true);
        assert_eq!(memo.get("jti"), Some(true));
        assert_eq!(memo.get("other"), None);
    }

    #[test]
    fn an_entry_is_forgotten_once_its_time_to_live_has_passed() {
        let memo = Memo::new(10, Duration::from_millis(1));
        memo.insert(1, "user");
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(memo.get(&1), None);
    }

    #[test]
    fn insert_with_sees_the_live_value_and_ignores_an_expired_one() {
        let memo = Memo::new(10, LONG);
        memo.insert(1, 5);
        memo.insert_with(1, |known| known.map_or(0, |n| n + 1));
        assert_eq!(memo.get(&1), Some(6));

        let short = Memo::new(10, Duration::from_millis(1));
        short.insert(1, 5);
        std::thread::sleep(Duration::from_millis(20));
        short.insert_with(1, |known| known.map_or(0, |n| n + 1));
        assert_eq!(short.get(&1), Some(0));
    }

    #[test]
    fn the_memo_never_holds_more_than_its_capacity() {
        let memo = Memo::new(SHARDS * 4, LONG);
        for key in 0..10_000 {
            memo.insert(key, key);
        }
        let held: usize = memo
            .shards
            .iter()
            .map(|shard| shard.read().unwrap().len())
            .sum();
        assert!(held <= SHARDS * 4, "{held} entries held");
        assert_eq!(memo.get(&9_999), Some(9_999), "the newest entry stays");
    }

    #[test]
    fn a_full_memo_keeps_the_entries_in_use_over_ones_never_read() {
        // Eight shards' worth of room; eight keys in use cannot fill one shard alone.
        let memo = Memo::new(SHARDS * 8, LONG);
        let in_use: Vec<u32> = (0..8).collect();
        for key in &in_use {
            memo.insert(*key, *key);
        }
        for flood in 1_000..6_000 {
            for key in &in_use {
                assert_eq!(memo.get(key), Some(*key), "{key} pushed out by {flood}");
            }
            memo.insert(flood, flood);
        }
    }

    #[test]
    fn invalidating_forgets_one_key_or_all() {
        let memo = Memo::new(10, LONG);
        memo.insert(1, 'a');
        memo.insert(2, 'b');
        memo.invalidate(&1);
        assert_eq!((memo.get(&1), memo.get(&2)), (None, Some('b')));
        memo.invalidate_all();
        assert_eq!(memo.get(&2), None);
    }
}
