//! A sharded map of one kind of resource, each owned by one application, that keeps at most
//! the retention cap of each application's resources (see `retention`).

use std::any::TypeId;
use std::sync::{Arc, LazyLock};

use arc_swap::ArcSwapOption;
use bytes::Bytes;
use uuid::Uuid;

use crate::domain::Owned;

use super::page::{Page, PageRequest};
use super::retention::{Evicted, Retention};
use super::table::{Keyed, Table};

/// Locking rule: each call takes one shard lock and releases it before returning; `update`
/// runs its closure under that lock, so the closure must not block or await.
pub struct Collection<T> {
    map: Table<Slot<T>>,
    retention: Retention<Uuid>,
    evicted: Evicted<Uuid>,
}

impl<T: Owned + Clone> Collection<T> {
    /// An empty collection keeping at most `retention` resources of each application.
    pub fn new(retention: usize) -> Self {
        Self {
            map: Table::default(),
            retention: Retention::new(retention),
            evicted: Evicted::new(retention),
        }
    }

    /// Stores `item`; past its owner's retention cap, evicts the owner's oldest finished
    /// resources that no client has read since they were last looked at (a second chance, as
    /// in the CLOCK algorithm: a resource a client keeps polling is never the one to go).
    pub fn insert(&self, item: T) {
        self.insert_shared(Arc::new(item));
    }

    /// As [`insert`](Self::insert), for a resource that something else holds too (a webhook
    /// event holds the transaction it reports): one copy for both until one of them changes.
    pub fn insert_shared(&self, item: Arc<T>) {
        let (id, owner) = (item.id(), item.owner().to_string());
        if self.map.insert(Slot::new(item)).is_some() {
            return;
        }
        self.retention.push(&owner, id, |old| {
            let removed = self
                .map
                .remove_if(&old, |s| s.item.finished() && s.seen.swap(None).is_none());
            if removed {
                self.evicted.remember(old);
            }
            // Gone otherwise (a reset) counts as evicted too: nothing to keep in line.
            removed || !self.map.contains(&old)
        });
    }

    /// Whether the resource `id` was dropped by retention lately.
    pub fn was_evicted(&self, id: &str) -> bool {
        Uuid::parse_str(id.trim()).is_ok_and(|id| self.evicted.contains(&id))
    }

    /// The retention cap, for messages.
    pub fn retention(&self) -> usize {
        self.retention.cap()
    }

    /// A copy of the resource, if it exists and belongs to `owner`: another application's
    /// resource is as good as absent. Marks it read.
    pub fn get(&self, id: Uuid, owner: &str) -> Option<T> {
        self.map
            .read(&id, |s| (s.item.owner() == owner).then(|| s.read().clone()))
            .flatten()
    }

    /// Like [`get`](Self::get) for an id as it came in a URL; malformed ids are not found.
    pub fn find(&self, id: &str, owner: &str) -> Option<T> {
        Uuid::parse_str(id.trim())
            .ok()
            .and_then(|id| self.get(id, owner))
    }

    /// `owner`'s resource `id` (as it came in a URL) as `render`ed bytes, marked read, with
    /// its id. The bytes of a resource read before are kept until it changes, each kind of
    /// rendering (`K`) replacing the other: a client that polls gets the same bytes without
    /// rendering again, while one read once costs no memory. `render` runs under the shard's
    /// read lock and must not block.
    pub fn rendered<K: 'static>(
        &self,
        id: &str,
        owner: &str,
        render: impl FnOnce(&T) -> Bytes,
    ) -> Option<(Uuid, Bytes)> {
        let id = Uuid::parse_str(id.trim()).ok()?;
        let kind = TypeId::of::<K>();
        let body = self.map.read(&id, |slot| {
            if slot.item.owner() != owner {
                return None;
            }
            let seen = slot.seen.load();
            if let Some(kept) = seen.as_ref().filter(|r| r.kind == kind) {
                return Some(kept.body.clone());
            }
            let body = render(&slot.item);
            slot.seen.store(Some(if seen.is_some() {
                Arc::new(Rendered {
                    kind,
                    body: body.clone(),
                })
            } else {
                READ.clone()
            }));
            Some(body)
        })??;
        Some((id, body))
    }

    /// A copy of the resource `id`, whoever owns it (internal use, control plane).
    pub fn get_any(&self, id: Uuid) -> Option<T> {
        self.map.read(&id, |s| T::clone(&s.item))
    }

    /// A page, newest first by `sequence`, of every owner's resources that satisfy `keep`
    /// (control plane). Only the page's resources are copied.
    pub fn page_any(
        &self,
        request: PageRequest,
        sequence: impl Fn(&T) -> u64,
        keep: impl Fn(&T) -> bool,
    ) -> Page<T> {
        let mut found = Vec::new();
        self.map.for_each(|s| {
            if keep(&s.item) {
                found.push((sequence(&s.item), s.item.id()));
            }
        });
        let (ids, next) = request.select(found);
        Page {
            items: ids.iter().filter_map(|id| self.get_any(*id)).collect(),
            next,
        }
    }

    /// Runs `f` on the resource under its shard lock, whoever owns it (internal use).
    pub fn update<R>(&self, id: Uuid, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        self.update_shared(id, f).map(|(r, _)| r)
    }

    /// As [`update`](Self::update), also giving the resource as it is now stored, to be held
    /// by something else (a transaction holds the STK push that paid it).
    pub fn update_shared<R>(&self, id: Uuid, f: impl FnOnce(&mut T) -> R) -> Option<(R, Arc<T>)> {
        self.map.write(&id, |s| {
            s.forget_rendering();
            // Copied first if something else holds it (it keeps what it had).
            let r = f(Arc::make_mut(&mut s.item));
            (r, s.item.clone())
        })
    }

    /// `f` of the resource, whoever owns it (internal use): neither marked read nor copied.
    /// Runs under the shard's read lock, so `f` must not block.
    pub fn inspect<R>(&self, id: Uuid, f: impl FnOnce(&T) -> R) -> Option<R> {
        self.map.read(&id, |s| f(&s.item))
    }

    /// Copies of `owner`'s resources that satisfy `keep`, in no particular order.
    pub fn filter(&self, owner: &str, keep: impl Fn(&T) -> bool) -> Vec<T> {
        self.filter_any(|item| item.owner() == owner && keep(item))
    }

    /// Copies of every owner's resources that satisfy `keep` (control plane).
    pub fn filter_any(&self, keep: impl Fn(&T) -> bool) -> Vec<T> {
        let mut found = Vec::new();
        self.map.for_each(|s| {
            if keep(&s.item) {
                found.push(T::clone(&s.item));
            }
        });
        found
    }

    /// How many resources of any owner satisfy `keep` (control plane), copying none.
    pub fn count_any(&self, keep: impl Fn(&T) -> bool) -> usize {
        let mut count = 0;
        self.map.for_each(|s| count += usize::from(keep(&s.item)));
        count
    }

    /// The first resource of any owner that satisfies `pred` (for capability URLs).
    pub fn find_any(&self, pred: impl Fn(&T) -> bool) -> Option<T> {
        self.map
            .find_map(|s| pred(&s.item).then(|| T::clone(&s.item)))
    }

    pub fn clear(&self) {
        self.map.clear();
        self.retention.clear();
        self.evicted.clear();
    }

    /// Forgets `owner`'s resources.
    pub fn remove_owner(&self, owner: &str) {
        self.map.retain(|s| s.item.owner() != owner);
        self.retention.remove_owner(owner);
    }
}

/// A resource, and whether a client read it since retention last looked at it (see
/// [`Collection::insert`]) with its rendering once a client reads it again (see
/// [`Collection::rendered`]). The resource is behind a pointer: a hash table keeps spare
/// capacity, and spare slots of a few hundred bytes each (an STK push is some 300) would cost
/// more than the pointers; and a shared one, so that another record can hold the same
/// resource without a copy.
struct Slot<T> {
    item: Arc<T>,
    /// `None`: not read since retention looked; [`READ`]: read; else the kept rendering,
    /// which was read too. One word for both, so a slot is 16 bytes.
    seen: ArcSwapOption<Rendered>,
}

/// A resource's document as bytes, and which rendering it is.
struct Rendered {
    kind: TypeId,
    body: Bytes,
}

/// The kind of [`READ`], which no caller of [`Collection::rendered`] can name.
enum Read {}

/// What a slot read and not rendered for keeping holds.
static READ: LazyLock<Arc<Rendered>> = LazyLock::new(|| {
    Arc::new(Rendered {
        kind: TypeId::of::<Read>(),
        body: Bytes::new(),
    })
});

impl<T> Slot<T> {
    fn new(item: Arc<T>) -> Self {
        Self {
            item,
            seen: ArcSwapOption::empty(),
        }
    }

    /// The resource, marked read (a store only the first time, so polling stays read-only
    /// on the cache line most of the time).
    fn read(&self) -> &T {
        if self.seen.load().is_none() {
            self.seen.store(Some(READ.clone()));
        }
        &self.item
    }

    /// Drops the kept rendering (the resource changed), remembering that it was read.
    fn forget_rendering(&self) {
        if self
            .seen
            .load()
            .as_ref()
            .is_some_and(|r| !Arc::ptr_eq(r, &READ))
        {
            self.seen.store(Some(READ.clone()));
        }
    }
}

impl<T: Owned> Keyed for Slot<T> {
    fn key(&self) -> Uuid {
        self.item.id()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone)]
    struct Note {
        id: Uuid,
        text: String,
    }

    impl Owned for Note {
        fn id(&self) -> Uuid {
            self.id
        }
        fn owner(&self) -> &str {
            "app"
        }
        fn owner_shared(&self) -> Arc<str> {
            "app".into()
        }
        fn sequence(&self) -> u64 {
            0
        }
    }

    struct Plain;

    fn read(notes: &Collection<Note>, id: Uuid, renders: &mut u32) -> Bytes {
        let (_, body) = notes
            .rendered::<Plain>(&id.to_string(), "app", |n| {
                *renders += 1;
                Bytes::from(n.text.clone())
            })
            .expect("found");
        body
    }

    #[test]
    fn a_rendering_is_kept_from_the_second_read_until_the_resource_changes() {
        let notes = Collection::new(10);
        let id = Uuid::new_v4();
        notes.insert(Note {
            id,
            text: "pending".into(),
        });
        let mut renders = 0;
        for _ in 0..3 {
            assert_eq!(read(&notes, id, &mut renders), "pending");
        }
        assert_eq!(renders, 2, "read once: rendered, not kept; then kept");
        notes.update(id, |n| n.text = "settled".into());
        assert_eq!(read(&notes, id, &mut renders), "settled");
        assert_eq!(read(&notes, id, &mut renders), "settled");
        assert_eq!(renders, 3);
        assert!(
            notes
                .rendered::<Plain>(&id.to_string(), "other", |_| Bytes::new())
                .is_none(),
            "another application's resource is absent"
        );
    }

    #[test]
    fn a_shared_resource_is_copied_when_it_changes_and_the_other_holder_keeps_what_it_had() {
        let notes = Collection::new(10);
        let id = Uuid::new_v4();
        let held = Arc::new(Note {
            id,
            text: "received".into(),
        });
        notes.insert_shared(held.clone());
        assert_eq!(Arc::strong_count(&held), 2, "one copy for both");
        notes.update(id, |n| n.text = "reversed".into());
        assert_eq!(held.text, "received");
        assert_eq!(notes.get(id, "app").expect("stored").text, "reversed");
        assert_eq!(Arc::strong_count(&held), 1);
    }
}
