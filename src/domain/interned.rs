//! Values that many resources repeat (a collection's URL prefix, an application's callback
//! URL), shared instead of copied: a small cache, read and replaced without a lock, since
//! creates on every worker look values up at once. Bounded (the values come from clients'
//! `Host` headers and bodies): a value not in it, or pushed out, is simply allocated for its
//! resource, so a miss costs what sharing saves and nothing more.

use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher, Hash};
use std::sync::Arc;

use arc_swap::ArcSwapOption;

/// `N` slots. A value may sit in either of two slots that its hash picks, so that two values
/// in use at once (a push's prefix and its webhook event's) take one each even when their
/// first choices are the same slot, instead of pushing each other out on every use.
pub struct Interned<T, const N: usize>([ArcSwapOption<T>; N]);

impl<T, const N: usize> Default for Interned<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, const N: usize> Interned<T, N> {
    pub const fn new() -> Self {
        Self([const { ArcSwapOption::const_empty() }; N])
    }

    /// The cached value of `key` when `same` says it is the one wanted, else `make`'s, which
    /// takes an empty one of its slots, or else its first.
    pub fn get(
        &self,
        key: &impl Hash,
        same: impl Fn(&T) -> bool,
        make: impl FnOnce() -> T,
    ) -> Arc<T> {
        let slots = self.slots(key);
        let mut empty = None;
        for slot in slots {
            match slot.load_full() {
                Some(cached) if same(&cached) => return cached,
                Some(_) => {}
                None => empty = empty.or(Some(slot)),
            }
        }
        let fresh = Arc::new(make());
        empty.unwrap_or(slots[0]).store(Some(fresh.clone()));
        fresh
    }

    /// Whether `key`'s value is cached (`same` says which is).
    pub fn contains(&self, key: &impl Hash, same: impl Fn(&T) -> bool) -> bool {
        self.slots(key)
            .iter()
            .any(|slot| slot.load().as_deref().is_some_and(&same))
    }

    /// The two slots `key` may sit in: different ones (for N > 1), picked by its hash.
    fn slots(&self, key: &impl Hash) -> [&ArcSwapOption<T>; 2] {
        let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(key);
        let (n, first) = (N as u64, hash % N as u64);
        let second = (first + 1 + (hash >> 32) % (n - 1).max(1)) % n;
        [first, second].map(|i| &self.0[i as usize])
    }
}

static CALLBACK_URLS: Interned<Arc<str>, 16> = Interned::new();

/// A callback URL (or a webhook subscription's), shared with every resource and delivery
/// that names the same one (an application usually has one or two): 16 bytes each instead of
/// a copy.
pub fn callback_url(url: &str) -> Arc<str> {
    Arc::clone(&CALLBACK_URLS.get(&url, |u| **u == *url, || url.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_text_is_one_allocation_and_another_is_its_own() {
        let a = callback_url("http://shop.test/k2/result");
        let b = callback_url(&String::from("http://shop.test/k2/result"));
        assert!(Arc::ptr_eq(&a, &b));
        assert!(CALLBACK_URLS.contains(&"http://shop.test/k2/result", |u| {
            **u == *"http://shop.test/k2/result"
        }));
        assert!(!CALLBACK_URLS.contains(&"http://shop.test/k2/other", |u| {
            **u == *"http://shop.test/k2/other"
        }));
        let c = callback_url("http://shop.test/k2/other");
        assert_eq!(&*c, "http://shop.test/k2/other");
        assert!(!Arc::ptr_eq(&a, &c));
    }

    #[test]
    fn two_values_whose_first_slot_is_the_same_are_both_kept() {
        // Two slots, and two keys whose first choice is the same one.
        let cache: Interned<String, 2> = Interned::new();
        let first = |k: &u32| BuildHasherDefault::<DefaultHasher>::default().hash_one(k) % 2;
        let a = 0u32;
        let b = (1..1000u32)
            .find(|k| first(k) == first(&a))
            .expect("a key with the same first slot");
        let get = |k: u32| cache.get(&k, |v| *v == k.to_string(), || k.to_string());
        let (a1, b1) = (get(a), get(b));
        let (a2, b2) = (get(a), get(b));
        assert!(Arc::ptr_eq(&a1, &a2) && Arc::ptr_eq(&b1, &b2));
    }
}
