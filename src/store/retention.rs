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

use super::map::Map;

/// The most items one insert looks at for eviction.
const MAX_CHECKED: usize = 4;

/// Per-application insertion order of keys, capped.
pub struct Retention<K> {
    cap: usize,
    queues: Map<String, Mutex<Ring<K>>>,
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
            queue.push_back(key);
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
        if !kept.is_empty()
            && let Some(queue) = self.queues.get(owner)
        {
            let mut queue = queue.lock().unwrap_or_else(|p| p.into_inner());
            for key in kept {
                queue.push_back(key);
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

/// A queue of an application's items that grows a chunk at a time and never moves what it
/// holds: a ring of up to a million items that grew by copying itself held the one worker
/// for 9-13 ms each time (`perf`: `finish_grow` under `Ledger::record` and the retention
/// queues, at 30k pushes a second), and a doubled one is up to half spare. Here at most one
/// chunk is spare; a chunk fills by doubling up to [`CHUNK`] items, so an application with
/// a few items holds a few.
pub(super) struct Ring<T> {
    chunks: VecDeque<VecDeque<T>>,
    len: usize,
}

/// The items in a full chunk.
const CHUNK: usize = 4096;

impl<T> Default for Ring<T> {
    fn default() -> Self {
        Self {
            chunks: VecDeque::new(),
            len: 0,
        }
    }
}

impl<T> Ring<T> {
    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn push_back(&mut self, item: T) {
        match self.chunks.back_mut() {
            Some(chunk) if chunk.len() < CHUNK => chunk.push_back(item),
            last => {
                let mut chunk = if last.is_some() {
                    VecDeque::with_capacity(CHUNK)
                } else {
                    VecDeque::new()
                };
                chunk.push_back(item);
                self.chunks.push_back(chunk);
            }
        }
        self.len += 1;
    }

    pub(super) fn pop_front(&mut self) -> Option<T> {
        let first = self.chunks.front_mut()?;
        let item = first.pop_front()?;
        if first.is_empty() {
            self.chunks.pop_front();
        }
        self.len -= 1;
        Some(item)
    }

    /// Oldest first.
    pub(super) fn iter(&self) -> impl DoubleEndedIterator<Item = &T> {
        self.chunks.iter().flat_map(VecDeque::iter)
    }
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

    /// A ring keeps its order across chunks, whichever end it is read from, and lets go of
    /// a chunk once it is emptied.
    #[test]
    fn a_ring_keeps_its_order_across_chunks() {
        let mut ring = Ring::default();
        let n = CHUNK * 2 + 7;
        for i in 0..n {
            ring.push_back(i);
        }
        assert_eq!(ring.len(), n);
        assert_eq!(ring.chunks.len(), 3);
        assert!(ring.iter().copied().eq(0..n));
        assert!(ring.iter().rev().copied().eq((0..n).rev()));
        for i in 0..CHUNK + 1 {
            assert_eq!(ring.pop_front(), Some(i));
        }
        assert_eq!(ring.chunks.len(), 2);
        // Pushed past the last chunk's room: a new one, in order.
        for i in n..n + CHUNK {
            ring.push_back(i);
        }
        assert_eq!(ring.len(), n - CHUNK - 1 + CHUNK);
        assert!(ring.iter().copied().eq(CHUNK + 1..n + CHUNK));
        while ring.pop_front().is_some() {}
        assert_eq!((ring.len(), ring.chunks.len()), (0, 0));
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
