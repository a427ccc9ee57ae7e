//! The request journal: the last N API requests with their bodies, for inspection.
//! A ring of `capacity` slots, each behind its own lock: an insert takes a sequence number
//! and overwrites the slot of the entry `capacity` places older. No hashing, no global lock,
//! and a page reads only the slots it shows.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::{Method, Uri};
use bytes::Bytes;

use super::page::{Page, PageRequest};

/// A request's path and query (`/api/v2/x?page=2`), copied out of the buffer the request was
/// read into (sharing it would keep all of that buffer alive as long as the copy): one small
/// allocation, no formatting or parsing; cloned by the live feed for a reference count.
#[derive(Debug, Clone)]
pub struct Target {
    text: Arc<str>,
    /// Where the path ends (the query, if any, starts past a `?` there): read on every
    /// request by the log and the live feed, so not searched for each time.
    path_len: usize,
}

impl Target {
    /// The request's path and query as the journal, the feed and the log show them: a query
    /// parameter named like a secret (`token`, `client_secret`, `password`, `api_key`, …) has
    /// its value [`redacted`].
    pub fn of(uri: &Uri) -> Self {
        let text = uri.path_and_query().map_or("/", |pq| pq.as_str());
        let path_len = text.find('?').unwrap_or(text.len());
        let text: Arc<str> = match text.get(path_len + 1..) {
            Some(query) if names_a_secret(query) => {
                Arc::from(format!("{}?{}", &text[..path_len], redact_pairs(query)))
            }
            _ => Arc::from(text),
        };
        Self { text, path_len }
    }

    pub fn path(&self) -> &str {
        &self.text[..self.path_len]
    }

    pub fn query(&self) -> Option<&str> {
        self.text.get(self.path_len + 1..)
    }
}

/// Whether `text` may hold a secret's name (`secret`, `token`, `password`, `api_key`, in lower
/// or upper case, whatever the first letter's): the quick test before any parsing, so that a
/// request without one costs a few SIMD scans and no copy.
pub fn names_a_secret(text: &str) -> bool {
    const NEEDLES: [&str; 10] = [
        "ecret", "ECRET", "oken", "OKEN", "assword", "ASSWORD", "pi_key", "PI_KEY", "pikey",
        "PIKEY",
    ];
    NEEDLES
        .iter()
        .any(|needle| memchr::memmem::find(text.as_bytes(), needle.as_bytes()).is_some())
}

/// Whether a field or parameter name is a secret's: a client secret, a token, a password, an
/// API key.
pub fn is_secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase().replace('-', "_");
    name == "token"
        || name.ends_with("_token")
        || name.ends_with("secret")
        || name.contains("password")
        || name == "api_key"
        || name == "apikey"
}

/// A secret as it is shown: its first four characters, then a marker.
pub fn redacted(secret: &str) -> String {
    let kept: String = secret.chars().take(4).collect();
    format!("{kept}…[redacted]")
}

/// A kept body as it is shown (the control plane's journal, which the dashboard and the CLI
/// read): with every secret it holds [`redacted`]: in JSON the string values of fields named
/// like a secret (`client_secret`, `token`, `access_token`, `password`, `api_key`, …, at any
/// depth), in a form those fields' values; a body of another kind that names one is not shown.
/// Done when shown, never on the request path; a body naming none is shown as kept.
pub fn shown_body(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    if !names_a_secret(&text) {
        return text.into_owned();
    }
    if let Ok(mut json) = serde_json::from_str::<serde_json::Value>(&text) {
        redact_json(&mut json);
        return json.to_string();
    }
    if !text.contains(['\n', '"', '{']) {
        return redact_pairs(&text);
    }
    "[redacted: a body that names credentials]".into()
}

/// `name=value&…` (a query, a form) with the value of every pair named like a secret
/// [`redacted`].
fn redact_pairs(pairs: &str) -> String {
    pairs
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) if is_secret_name(name) => format!("{name}={}", redacted(value)),
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Every string value of a field named like a secret, at any depth, [`redacted`].
fn redact_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(fields) => {
            for (name, field) in fields.iter_mut() {
                match field {
                    serde_json::Value::String(secret) if is_secret_name(name) => {
                        *secret = redacted(secret);
                    }
                    other => redact_json(other),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_json),
        _ => {}
    }
}

/// Who made a journaled request: the app under test (the API), a customer (the checkout
/// page a payment link opens, its form and its status polls), or a person or script on the
/// control plane (its requests that change something; reads are not journaled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    App,
    Customer,
    Control,
}

impl Actor {
    pub const ALL: [Self; 3] = [Self::App, Self::Customer, Self::Control];

    /// Who sends requests to `path`.
    pub fn of_path(path: &str) -> Self {
        if path.starts_with("/links/") {
            Self::Customer
        } else if path.starts_with("/_sandbox/") {
            Self::Control
        } else {
            Self::App
        }
    }

    /// Its name as serialised.
    pub fn name(self) -> &'static str {
        match self {
            Self::App => "app",
            Self::Customer => "customer",
            Self::Control => "control",
        }
    }

    /// `app`, `customer` or `control`, in any case.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name.trim()))
    }

    /// The senders `names` names: `all`, or actors (each also `all`); the message says what
    /// is accepted and what was meant.
    pub fn parse_list<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Vec<Self>, String> {
        const NAMES: [&str; 4] = ["app", "customer", "control", "all"];
        let mut actors = Vec::new();
        for name in names {
            if name.trim().eq_ignore_ascii_case("all") {
                return Ok(Self::ALL.to_vec());
            }
            actors.push(Self::parse(name).ok_or_else(|| {
                format!(
                    "{name:?} is not one of {}{}",
                    NAMES.join(", "),
                    crate::suggest::did_you_mean(name.trim(), NAMES)
                )
            })?);
        }
        Ok(actors)
    }
}

/// One request and its answer. The target and request body are copies of their own (see
/// [`Target`]); the response body and the token's application are shared.
#[derive(Debug, Clone)]
pub struct JournalEntry {
    pub sequence: u64,
    pub at_ms: i64,
    pub method: Method,
    pub target: Target,
    pub status: u16,
    /// Who sent it.
    pub by: Actor,
    /// The application of the bearer token, when there was a valid one.
    pub client_id: Option<Arc<str>>,
    /// Up to 64 KiB of each body.
    pub request_body: Bytes,
    pub response_body: Bytes,
    pub latency_ms: u64,
    /// The connection was cut instead of answered (a scenario's `drop` fault).
    pub dropped: bool,
}

type Slot = Mutex<Option<Box<JournalEntry>>>;

pub struct Journal {
    slots: Box<[Slot]>,
    next: AtomicU64,
}

impl Journal {
    pub fn new(capacity: u64) -> Self {
        let capacity = usize::try_from(capacity.max(1)).unwrap_or(usize::MAX);
        Self {
            slots: (0..capacity).map(|_| Mutex::new(None)).collect(),
            next: AtomicU64::new(0),
        }
    }

    fn slot(&self, sequence: u64) -> std::sync::MutexGuard<'_, Option<Box<JournalEntry>>> {
        let index = (sequence % self.slots.len() as u64) as usize;
        self.slots[index]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records `entry`; its sequence number (`GET /_sandbox/requests?cursor={sequence + 1}`
    /// pages from it).
    pub fn record(&self, mut entry: JournalEntry) -> u64 {
        let sequence = self.next.fetch_add(1, Ordering::Relaxed);
        entry.sequence = sequence;
        let old = {
            let mut slot = self.slot(sequence);
            match slot.as_deref_mut() {
                // A slower writer of an older sequence never overwrites a newer entry.
                Some(current) if current.sequence > sequence => return sequence,
                // The evicted entry's allocation is reused: no allocation and no free per
                // request once the ring is full.
                Some(current) => Some(std::mem::replace(current, entry)),
                None => {
                    *slot = Some(Box::new(entry));
                    None
                }
            }
        };
        drop(old); // its target and bodies freed outside the lock
        sequence
    }

    /// A page of the entries that satisfy `keep`, newest first.
    pub fn page(
        &self,
        request: PageRequest,
        keep: impl Fn(&JournalEntry) -> bool,
    ) -> Page<JournalEntry> {
        let end = self.next.load(Ordering::Relaxed);
        let end = request.before.map_or(end, |b| b.min(end));
        let oldest = end.saturating_sub(self.slots.len() as u64);
        let mut items = Vec::new();
        let mut next = None;
        for sequence in (oldest..end).rev() {
            let slot = self.slot(sequence);
            let Some(entry) = slot.as_deref().filter(|e| e.sequence == sequence) else {
                continue;
            };
            if !keep(entry) {
                continue;
            }
            if items.len() == request.limit {
                next = items.last().map(|e: &JournalEntry| e.sequence);
                break;
            }
            items.push(entry.clone());
        }
        Page { items, next }
    }

    /// The sequence the next entry will get.
    pub fn end(&self) -> u64 {
        self.next.load(Ordering::Relaxed)
    }

    /// Visits every entry kept from sequence `from` on, oldest first; false when some
    /// entries from `from` on were already overwritten (the journal keeps its capacity).
    pub fn scan(&self, from: u64, mut visit: impl FnMut(&JournalEntry)) -> bool {
        let end = self.end();
        let oldest = end.saturating_sub(self.slots.len() as u64);
        for sequence in from.max(oldest)..end {
            let slot = self.slot(sequence);
            if let Some(entry) = slot.as_deref().filter(|e| e.sequence == sequence) {
                visit(entry);
            }
        }
        oldest <= from
    }

    pub fn clear_owner(&self, owner: &str) {
        for slot in &self.slots {
            let mut slot = slot
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if slot
                .as_ref()
                .is_some_and(|e| e.client_id.as_deref() == Some(owner))
            {
                *slot = None;
            }
        }
    }

    pub fn clear(&self) {
        for slot in &self.slots {
            *slot
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str) -> JournalEntry {
        JournalEntry {
            sequence: 0,
            at_ms: 0,
            method: Method::GET,
            target: Target::of(&Uri::try_from(path).expect("a path")),
            status: 200,
            by: Actor::of_path(path),
            client_id: None,
            request_body: Bytes::new(),
            response_body: Bytes::new(),
            latency_ms: 0,
            dropped: false,
        }
    }

    fn paths(page: &Page<JournalEntry>) -> Vec<&str> {
        page.items.iter().map(|e| e.target.path()).collect()
    }

    #[test]
    fn a_target_splits_into_the_path_and_query_the_uri_gives() {
        for text in ["/a/b", "/a/b?x=1&y=%22", "/a?", "/?q", "/"] {
            let uri = Uri::try_from(text).expect("a URI");
            let target = Target::of(&uri);
            assert_eq!(
                (target.path(), target.query()),
                (uri.path(), uri.query()),
                "{text}"
            );
        }
        let absolute = Uri::try_from("http://example.com/p?q=1").expect("a URI");
        assert_eq!(Target::of(&absolute).path(), "/p");
    }

    #[test]
    fn keeps_only_the_last_capacity_entries_in_order() {
        let journal = Journal::new(2);
        for p in ["/a", "/b", "/c"] {
            journal.record(entry(p));
        }
        let all = PageRequest {
            before: None,
            limit: 10,
        };
        assert_eq!(paths(&journal.page(all, |_| true)), ["/c", "/b"]);
    }

    #[test]
    fn pages_follow_the_cursor_and_skip_what_the_filter_drops() {
        let journal = Journal::new(10);
        for p in ["/a", "/x", "/b", "/x", "/c", "/d"] {
            journal.record(entry(p));
        }
        let keep = |e: &JournalEntry| e.target.path() != "/x";
        let first = journal.page(
            PageRequest {
                before: None,
                limit: 2,
            },
            keep,
        );
        assert_eq!(paths(&first), ["/d", "/c"]);
        assert_eq!(first.next, Some(4));
        let second = journal.page(
            PageRequest {
                before: first.next,
                limit: 2,
            },
            keep,
        );
        assert_eq!(paths(&second), ["/b", "/a"]);
        assert_eq!(second.next, None);
    }
}
