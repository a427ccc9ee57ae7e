//! The concurrent map every store uses.

/// Sharded like any `DashMap`, hashed with foldhash's fast hasher instead of SipHash (a
/// request hashes a key in several maps; SipHash was a tenth of a GET's lookups).
pub type Map<K, V> = dashmap::DashMap<K, V, foldhash::fast::RandomState>;
