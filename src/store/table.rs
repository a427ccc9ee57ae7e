//! A sharded hash table of values that carry their own key. Like the store's `Map`, but an
//! entry is the value alone, not a copy of its key beside it: a collection's slot is 24 bytes
//! instead of 40, and a table keeps spare slots (a quarter to a half of them, between growths).
//!
//! Locking rule: as a `DashMap`'s. Each call takes one shard's lock and releases it before it
//! returns; the closures it is given run under that lock, so they must not block or await.

use std::hash::BuildHasher;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use hashbrown::HashTable;
use uuid::Uuid;

/// A value that knows the key it is stored under.
pub trait Keyed {
    fn key(&self) -> Uuid;
}

pub struct Table<V> {
    shards: Box<[RwLock<HashTable<V>>]>,
    hasher: foldhash::fast::RandomState,
}

impl<V: Keyed> Default for Table<V> {
    fn default() -> Self {
        // As many shards as a DashMap: four per core, so workers seldom meet on one.
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let shards = (cores * 4).next_power_of_two();
        Self {
            shards: (0..shards).map(|_| RwLock::default()).collect(),
            hasher: foldhash::fast::RandomState::default(),
        }
    }
}

impl<V: Keyed> Table<V> {
    /// The key's hash, and its shard: chosen by bits the shard's own table does not use to
    /// place it (the low ones) or to tag it (the top seven).
    fn locate(&self, key: &Uuid) -> (u64, &RwLock<HashTable<V>>) {
        let hash = self.hasher.hash_one(key);
        let shard = (hash >> 32) as usize & (self.shards.len() - 1);
        (hash, &self.shards[shard])
    }

    fn read_shard(shard: &RwLock<HashTable<V>>) -> RwLockReadGuard<'_, HashTable<V>> {
        shard.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write_shard(shard: &RwLock<HashTable<V>>) -> RwLockWriteGuard<'_, HashTable<V>> {
        shard.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores `value` under its key, replacing (and returning) the one there.
    pub fn insert(&self, value: V) -> Option<V> {
        let key = value.key();
        let (hash, shard) = self.locate(&key);
        let mut table = Self::write_shard(shard);
        match table.find_mut(hash, |v| v.key() == key) {
            Some(old) => Some(std::mem::replace(old, value)),
            None => {
                table.insert_unique(hash, value, |v| self.hasher.hash_one(v.key()));
                None
            }
        }
    }

    /// `f` of the value under `key`, under its shard's read lock.
    pub fn read<R>(&self, key: &Uuid, f: impl FnOnce(&V) -> R) -> Option<R> {
        let (hash, shard) = self.locate(key);
        Self::read_shard(shard)
            .find(hash, |v| v.key() == *key)
            .map(f)
    }

    /// `f` of the value under `key`, under its shard's write lock.
    pub fn write<R>(&self, key: &Uuid, f: impl FnOnce(&mut V) -> R) -> Option<R> {
        let (hash, shard) = self.locate(key);
        Self::write_shard(shard)
            .find_mut(hash, |v| v.key() == *key)
            .map(f)
    }

    pub fn contains(&self, key: &Uuid) -> bool {
        self.read(key, |_| ()).is_some()
    }

    /// Removes the value under `key` if `remove` says so; whether it did.
    pub fn remove_if(&self, key: &Uuid, remove: impl FnOnce(&V) -> bool) -> bool {
        let (hash, shard) = self.locate(key);
        let mut table = Self::write_shard(shard);
        match table.find_entry(hash, |v| v.key() == *key) {
            Ok(entry) if remove(entry.get()) => {
                entry.remove();
                true
            }
            _ => false,
        }
    }

    /// The first `Some` of `f` over the values, one shard at a time, in no particular order.
    pub fn find_map<R>(&self, mut f: impl FnMut(&V) -> Option<R>) -> Option<R> {
        self.shards
            .iter()
            .find_map(|shard| Self::read_shard(shard).iter().find_map(&mut f))
    }

    /// Runs `f` on every value, one shard at a time.
    pub fn for_each(&self, mut f: impl FnMut(&V)) {
        for shard in &self.shards {
            Self::read_shard(shard).iter().for_each(&mut f);
        }
    }

    /// Keeps the values `keep` says to.
    pub fn retain(&self, mut keep: impl FnMut(&V) -> bool) {
        for shard in &self.shards {
            Self::write_shard(shard).retain(|v| keep(v));
        }
    }

    pub fn clear(&self) {
        for shard in &self.shards {
            // Let the memory go too: a reset is how a long session starts over.
            *Self::write_shard(shard) = HashTable::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Item(Uuid, &'static str);

    impl Keyed for Item {
        fn key(&self) -> Uuid {
            self.0
        }
    }

    #[test]
    fn values_are_found_replaced_changed_and_removed_by_their_own_key() {
        let table = Table::default();
        let ids: Vec<Uuid> = (0..1000).map(|_| Uuid::new_v4()).collect();
        for id in &ids {
            assert_eq!(table.insert(Item(*id, "first")), None);
        }
        assert_eq!(
            table.insert(Item(ids[7], "second")),
            Some(Item(ids[7], "first"))
        );
        assert_eq!(table.read(&ids[7], |v| v.1), Some("second"));
        assert_eq!(table.write(&ids[8], |v| v.1 = "changed"), Some(()));
        assert_eq!(table.read(&ids[8], |v| v.1), Some("changed"));
        assert!(!table.remove_if(&ids[9], |v| v.1 == "second"));
        assert!(table.remove_if(&ids[9], |v| v.1 == "first"));
        assert!(!table.contains(&ids[9]));
        assert_eq!(table.read(&Uuid::nil(), |v| v.1), None);
        let mut count = 0;
        table.for_each(|_| count += 1);
        assert_eq!(count, 999);
        table.retain(|v| v.1 != "first");
        assert_eq!(
            table.find_map(|v| (v.1 == "second").then_some(v.0)),
            Some(ids[7])
        );
        let mut left = Vec::new();
        table.for_each(|v| left.push(v.1));
        left.sort_unstable();
        assert_eq!(left, ["changed", "second"]);
        table.clear();
        assert!(!table.contains(&ids[7]));
    }
}
