//! Values that many resources repeat (a collection's URL prefix, an application's callback
//! URL), shared instead of copied: a small cache, read and replaced without a lock, since
//! creates on every worker look values up at once. Bounded (the values come from clients'
//! `Host` headers and bodies): a value not in it, or pushed out, is simply allocated for its
//! resource, so a miss costs what sharing saves and nothing more.

use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher, Hash};
use std::sync::Arc;

use arc_swap::ArcSwapOption;

/// `N` slots, each holding the last value hashed to it.
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
    /// takes its slot.
    pub fn get(
        &self,
        key: &impl Hash,
        same: impl Fn(&T) -> bool,
        make: impl FnOnce() -> T,
    ) -> Arc<T> {
        let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(key);
        let slot = &self.0[(hash % N as u64) as usize];
        if let Some(cached) = slot.load_full().filter(|v| same(v)) {
            return cached;
        }
        let fresh = Arc::new(make());
        slot.store(Some(fresh.clone()));
        fresh
    }
}

static CALLBACK_URLS: Interned<Arc<str>, 16> = Interned::new();

/// A callback URL, shared with every resource that names the same one (an application
/// usually has one): 16 bytes per resource instead of a copy.
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
        let c = callback_url("http://shop.test/k2/other");
        assert_eq!(&*c, "http://shop.test/k2/other");
        assert!(!Arc::ptr_eq(&a, &c));
    }
}
