//! A sharded map of one kind of resource, each owned by one application.

use dashmap::DashMap;
use uuid::Uuid;

/// A resource that belongs to one OAuth application.
pub trait Owned {
    fn id(&self) -> Uuid;
    fn owner(&self) -> &str;
}

/// Locking rule: each call takes one shard lock and releases it before returning; `update`
/// runs its closure under that lock, so the closure must not block or await.
pub struct Collection<T> {
    map: DashMap<Uuid, T>,
}

impl<T> Default for Collection<T> {
    fn default() -> Self {
        Self {
            map: DashMap::new(),
        }
    }
}

impl<T: Owned + Clone> Collection<T> {
    pub fn insert(&self, item: T) {
        self.map.insert(item.id(), item);
    }

    /// A copy of the resource, if it exists and belongs to `owner`: another application's
    /// resource is as good as absent.
    pub fn get(&self, id: Uuid, owner: &str) -> Option<T> {
        self.map
            .get(&id)
            .filter(|r| r.owner() == owner)
            .map(|r| r.value().clone())
    }

    /// Like [`get`](Self::get) for an id as it came in a URL; malformed ids are not found.
    pub fn find(&self, id: &str, owner: &str) -> Option<T> {
        Uuid::parse_str(id.trim())
            .ok()
            .and_then(|id| self.get(id, owner))
    }

    /// Runs `f` on the resource under its shard lock, whoever owns it (internal use).
    pub fn update<R>(&self, id: Uuid, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        self.map.get_mut(&id).map(|mut r| f(&mut r))
    }

    /// Copies of `owner`'s resources that satisfy `keep`, in no particular order.
    pub fn filter(&self, owner: &str, keep: impl Fn(&T) -> bool) -> Vec<T> {
        self.map
            .iter()
            .filter(|r| r.owner() == owner && keep(r.value()))
            .map(|r| r.value().clone())
            .collect()
    }

    /// Copies of every owner's resources that satisfy `keep` (control plane).
    pub fn filter_any(&self, keep: impl Fn(&T) -> bool) -> Vec<T> {
        self.map
            .iter()
            .filter(|r| keep(r.value()))
            .map(|r| r.value().clone())
            .collect()
    }

    /// The first resource of any owner that satisfies `pred` (for capability URLs).
    pub fn find_any(&self, pred: impl Fn(&T) -> bool) -> Option<T> {
        self.map
            .iter()
            .find(|r| pred(r.value()))
            .map(|r| r.value().clone())
    }

    pub fn clear(&self) {
        self.map.clear();
    }

    /// Forgets `owner`'s resources.
    pub fn remove_owner(&self, owner: &str) {
        self.map.retain(|_, r| r.owner() != owner);
    }
}
