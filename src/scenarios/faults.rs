//! API faults from scenarios: which requests answer an error (429 with `Retry-After`, 5xx),
//! are slowed down, or have their connection dropped — always, for the first N, or with a
//! seeded probability. The decision is a plain [`FaultAction`]; `http::faults` acts on it.
//!
//! The rules are read on every request without a lock (`ArcSwap`); counters are atomics.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::listed::Listed;
use super::spec::Fault;

/// What a fault does to a request that matches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultAction {
    /// Answer this status in the API's error shape; `None`: serve the request after the
    /// latency.
    pub status: Option<u16>,
    pub retry_after: Option<u32>,
    pub latency: Option<Duration>,
    /// Close the connection without an answer.
    pub drop: bool,
}

#[derive(Debug)]
struct Rule {
    /// Upper-case, e.g. `POST`; `None`: any method.
    method: Option<String>,
    path: String,
    client_id: Option<String>,
    action: FaultAction,
    /// Matching requests let through before the fault applies.
    after: u64,
    times: Option<u64>,
    probability: Option<f64>,
    seen: AtomicU64,
}

/// Parses `METHOD /path` or `/path` into the method (upper-case) and the path prefix.
pub fn endpoint(text: &str) -> Option<(Option<String>, String)> {
    let text = text.trim();
    match text.split_once(' ') {
        Some((method, path))
            if path.trim().starts_with('/')
                && !method.trim().is_empty()
                && method.trim().bytes().all(|b| b.is_ascii_alphabetic()) =>
        {
            Some((
                Some(method.trim().to_ascii_uppercase()),
                path.trim().to_string(),
            ))
        }
        None if text.starts_with('/') => Some((None, text.to_string())),
        _ => None,
    }
}

impl Rule {
    fn matches(&self, method: &str, path: &str) -> bool {
        self.method.as_deref().is_none_or(|m| m == method) && path.starts_with(&self.path)
    }
}

#[derive(Default)]
pub struct Faults {
    rules: Listed<Rule>,
}

impl Faults {
    pub fn add(&self, scenario: &std::sync::Arc<str>, f: &Fault) {
        let Some((method, path)) = endpoint(&f.endpoint) else {
            return; // checked when the scenario was parsed
        };
        let rule = Rule {
            method,
            path,
            client_id: f.client_id.clone(),
            action: FaultAction {
                status: f.status,
                retry_after: f
                    .retry_after
                    .map(|r| u32::try_from(r.whole_seconds()).unwrap_or(u32::MAX)),
                latency: f.latency.map(|l| l.0),
                drop: f.drop,
            },
            after: f.after.unwrap_or(0),
            times: f.times,
            probability: f.probability,
            seen: AtomicU64::new(0),
        };
        self.rules.push(scenario, rule);
    }

    pub fn clear(&self) {
        self.rules.clear();
    }

    /// Removes the scenario `name`'s; how many went.
    pub fn remove_scenario(&self, name: &str) -> usize {
        self.rules.remove_scenario(name)
    }

    /// What the first rule that applies to a request does, counting it. `client` (the
    /// application whose token the request bears) is asked only when a matching rule names
    /// one; `draw` (a number in [0, 1) from the seeded generator) only for a rule with a
    /// probability.
    pub fn decide(
        &self,
        method: &str,
        path: &str,
        client: impl FnOnce() -> Option<String>,
        mut draw: impl FnMut() -> f64,
    ) -> Option<FaultAction> {
        let rules = self.rules.load();
        let mut client = Some(client);
        let mut known: Option<Option<String>> = None;
        rules
            .iter()
            .find(|r| {
                if !r.matches(method, path) {
                    return false;
                }
                if let Some(wanted) = &r.client_id {
                    if known.is_none() {
                        known = Some(client.take().and_then(|c| c()));
                    }
                    if known.as_ref().and_then(Option::as_ref) != Some(wanted) {
                        return false;
                    }
                }
                // The first `after` matching requests pass; then `times` are faulted.
                let n = r.seen.fetch_add(1, Ordering::Relaxed);
                n >= r.after
                    && r.times.is_none_or(|t| n - r.after < t)
                    && r.probability.is_none_or(|p| draw() < p)
            })
            .map(|r| r.action.clone())
    }
}
