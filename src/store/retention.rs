//! Retention: how much history the sandbox keeps, so that it can run forever in flat memory.
//!
//! Each application keeps at most `cap` items of each kind (resources of a collection,
//! deliveries, ledger entries, tokens). Inserting past the cap evicts that application's
//! oldest finished items; pending work is never evicted, only moved to the back of the line.
//! The work per insert is bounded ([`MAX_CHECKED`]), so no request pays for a sweep.
//!
//! Locking rule: each application's queue has its own mutex, held only to push or pop a key.

use std::collections::{HashSet, VecDeque};
use std::hash::Hash;
use std::sync::Mutex;

use crate::store::Map;

/// The most items one insert looks at for eviction.
const MAX_CHECKED: usize = 4;

/// Per-application insertion order of keys, capped.
pub struct Retention<K> {
    cap: usize,
    queues: Map<String, Mutex<VecDeque<K>>>,
}

impl<K: Copy> Retention<K> {
    pub fn new(cap: usize) -> Self {
        Self {
            cap: cap.max(1),
            queues: Map::default(),
        }
    }

    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Records `key` as `owner`'s newest; then offers `owner`'s oldest keys past the cap to
    /// `evict`, which removes the item and returns true, or returns false to keep it (pending
    /// work), which sends it to the back of the line.
    pub fn push(&self, owner: &str, key: K, mut evict: impl FnMut(K) -> bool) {
        let over = {
            let queue = of_owner(&self.queues, owner);
            let mut queue = queue.lock().unwrap_or_else(|p| p.into_inner());
            push_gently(&mut queue, key, self.cap);
            let excess = queue.len().saturating_sub(self.cap).min(MAX_CHECKED);
            let over: Vec<K> = (0..excess).filter_map(|_| queue.pop_front()).collect();
            over
        };
        // Evicting takes other locks (the item's shard): not under the queue's.
        let mut kept = Vec::new();
        for key in over {
            if !evict(key) {
                kept.push(key);
            }
        }
        if !kept.is_empty() {
            if let Some(queue) = self.queues.get(owner) {
                queue.lock().unwrap_or_else(|p| p.into_inner()).extend(kept);
            }
        }
    }

    /// Forgets `owner`'s order (its items were removed otherwise).
    pub fn remove_owner(&self, owner: &str) {
        self.queues.remove(owner);
    }

    pub fn clear(&self) {
        self.queues.clear();
    }
}

/// Appends to a ring that holds up to `cap` of an application's items for as long as it
/// runs, growing it by an eighth at a time instead of doubling it: a doubled ring is a quarter
/// spare on average, and up to half. Amortised, each item is moved some eight times more.
pub(super) fn push_gently<T>(ring: &mut VecDeque<T>, item: T, cap: usize) {
    if ring.len() == ring.capacity() {
        let room = (ring.len() / 8).max(16).min(cap.saturating_sub(ring.len()));
        ring.reserve_exact(room.max(1));
    }
    ring.push_back(item);
}

/// `owner`'s value in `map`, made (default) the first time: looked up without copying the
/// owner's name, which is copied only to insert it.
pub(super) fn of_owner<'a, V: Default>(
    map: &'a Map<String, V>,
    owner: &str,
) -> dashmap::mapref::one::Ref<'a, String, V> {
    match map.get(owner) {
        Some(value) => value,
        None => map.entry(owner.to_string()).or_default().downgrade(),
    }
}

/// The ids evicted lately, so that a GET on one says "evicted by retention" rather than
/// "not found". Remembers at most as many ids as the cap, then forgets the oldest.
pub struct Evicted<K> {
    cap: usize,
    ids: Mutex<(VecDeque<K>, HashSet<K>)>,
}

impl<K: Copy + Eq + Hash> Evicted<K> {
    pub fn new(cap: usize) -> Self {
        Self {
            cap: cap.max(1),
            ids: Mutex::default(),
        }
    }

    pub fn remember(&self, id: K) {
        let mut ids = self.ids.lock().unwrap_or_else(|p| p.into_inner());
        let (order, set) = &mut *ids;
        if set.insert(id) {
            order.push_back(id);
        }
        while order.len() > self.cap {
            if let Some(old) = order.pop_front() {
                set.remove(&old);
            }
        }
    }

    pub fn contains(&self, id: &K) -> bool {
        self.ids
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .1
            .contains(id)
    }

    pub fn clear(&self) {
        let mut ids = self.ids.lock().unwrap_or_else(|p| p.into_inner());
        ids.0.clear();
        ids.1.clear();
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    #[test]
    fn the_oldest_finished_items_go_first_and_pending_ones_stay() {
        let retention = Retention::new(3);
        let removed = RefCell::new(Vec::new());
        let pending = [1, 2];
        for key in 0..8 {
            retention.push("app", key, |k| {
                if pending.contains(&k) {
                    false
                } else {
                    removed.borrow_mut().push(k);
                    true
                }
            });
        }
        assert_eq!(*removed.borrow(), vec![0, 3, 4, 5]);
        // Another application's items are its own.
        retention.push("other", 100, |_| panic!("under the cap"));
    }

    #[test]
    fn evicted_ids_are_remembered_up_to_the_cap() {
        let evicted = Evicted::new(2);
        for id in 0..3 {
            evicted.remember(id);
        }
        assert!(!evicted.contains(&0));
        assert!(evicted.contains(&1) && evicted.contains(&2));
    }
}
