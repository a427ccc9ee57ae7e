//! A resource's absolute URL, `{base}{collection}/{id}` (`Location`, `_links.self`), kept as
//! its parts: the prefix `{base}{collection}` is the same for every resource of a kind that
//! clients reach the same way, so it is shared, and a resource keeps 16 bytes (beside the id
//! it has anyway) and no allocation of its own instead of a string of a hundred.

use std::fmt;
use std::sync::Arc;

use uuid::Uuid;

use super::interned::Interned;

/// Where a kind of resource lives, `{base}{collection}`: what a resource keeps of its URL
/// (16 bytes), the id being its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlPrefix {
    prefix: Arc<String>,
    /// Where the base ends in `prefix`.
    base_len: u32,
}

impl UrlPrefix {
    pub fn new(base: &str, collection: &str) -> Self {
        Self {
            prefix: prefix(base, collection),
            base_len: u32::try_from(base.len()).unwrap_or(u32::MAX),
        }
    }

    /// The base URL the resource was created through (`http://host:port`, or the public
    /// URL): where its related resources' URLs start.
    pub fn base(&self) -> &str {
        self.prefix
            .get(..self.base_len as usize)
            .unwrap_or(&self.prefix)
    }

    /// The URL of the resource `id`.
    pub fn of(&self, id: Uuid) -> SelfUrl<'_> {
        SelfUrl { prefix: self, id }
    }
}

/// A resource's URL, `{base}{collection}/{id}`, written out when it is shown.
#[derive(Debug, Clone, Copy)]
pub struct SelfUrl<'a> {
    prefix: &'a UrlPrefix,
    id: Uuid,
}

impl<'a> SelfUrl<'a> {
    /// See [`UrlPrefix::base`].
    pub fn base(&self) -> &'a str {
        self.prefix.base()
    }
}

impl fmt::Display for SelfUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.prefix.prefix, self.id)
    }
}

impl serde::Serialize for SelfUrl<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Prefixes in use: a base comes from a client's `Host` header (see [`Interned`]).
static PREFIXES: Interned<String, 16> = Interned::new();

/// The shared `{base}{collection}`.
fn prefix(base: &str, collection: &str) -> Arc<String> {
    PREFIXES.get(
        &(base, collection),
        |p| {
            p.len() == base.len() + collection.len()
                && p.starts_with(base)
                && p.ends_with(collection)
        },
        || format!("{base}{collection}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_as_the_whole_url_and_shares_its_prefix() {
        let id = Uuid::nil();
        let (a, b) = (
            UrlPrefix::new("http://k2:8080", "/api/v1/incoming_payments"),
            UrlPrefix::new("http://k2:8080", "/api/v1/incoming_payments"),
        );
        let (a, b) = (a.of(id), b.of(Uuid::max()));
        assert_eq!(
            a.to_string(),
            "http://k2:8080/api/v1/incoming_payments/00000000-0000-0000-0000-000000000000"
        );
        assert_eq!(
            serde_json::to_string(&a).expect("serialises"),
            format!("\"{a}\"")
        );
        assert!(Arc::ptr_eq(&a.prefix.prefix, &b.prefix.prefix));
        assert_eq!(a.base(), "http://k2:8080");
        let other = UrlPrefix::new("http://localhost:8080", "/api/v1/incoming_payments");
        assert_eq!(other.base(), "http://localhost:8080");
        assert_eq!(
            UrlPrefix::new("https://example.com/api/k2", "/webhook_events").base(),
            "https://example.com/api/k2"
        );
    }
}
