//! The request journal: the last N API requests with their bodies, for inspection.
//! Bounded: each insert evicts the entry `capacity` places older. Sharded, no global lock.

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use dashmap::DashMap;

use super::page::{Page, PageRequest, page_of};

#[derive(Debug, Clone)]
pub struct JournalEntry {
    pub sequence: u64,
    pub at_ms: i64,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub status: u16,
    /// The application of the bearer token, when there was a valid one.
    pub client_id: Option<String>,
    /// Up to 64 KiB of each body, shared with the request and response that carried them.
    pub request_body: Bytes,
    pub response_body: Bytes,
    pub latency_ms: u64,
}

pub struct Journal {
    entries: DashMap<u64, JournalEntry>,
    next: AtomicU64,
    capacity: u64,
}

impl Journal {
    pub fn new(capacity: u64) -> Self {
        Self {
            entries: DashMap::new(),
            next: AtomicU64::new(0),
            capacity: capacity.max(1),
        }
    }

    pub fn record(&self, mut entry: JournalEntry) {
        let sequence = self.next.fetch_add(1, Ordering::Relaxed);
        entry.sequence = sequence;
        self.entries.insert(sequence, entry);
        if let Some(evict) = sequence.checked_sub(self.capacity) {
            self.entries.remove(&evict);
        }
    }

    /// A page of the entries that satisfy `keep`, newest first.
    pub fn page(
        &self,
        request: PageRequest,
        keep: impl Fn(&JournalEntry) -> bool,
    ) -> Page<JournalEntry> {
        page_of(&self.entries, request, |e| e.sequence, keep)
    }

    pub fn clear_owner(&self, owner: &str) {
        self.entries
            .retain(|_, e| e.client_id.as_deref() != Some(owner));
    }

    pub fn clear(&self) {
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str) -> JournalEntry {
        JournalEntry {
            sequence: 0,
            at_ms: 0,
            method: "GET".into(),
            path: path.into(),
            query: None,
            status: 200,
            client_id: None,
            request_body: Bytes::new(),
            response_body: Bytes::new(),
            latency_ms: 0,
        }
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
        let paths: Vec<String> = journal
            .page(all, |_| true)
            .items
            .into_iter()
            .map(|e| e.path)
            .collect();
        assert_eq!(paths, ["/c", "/b"]);
    }
}
