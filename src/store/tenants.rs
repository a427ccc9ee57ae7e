//! OAuth applications: the configured ones, those scenarios declare, and the tenants
//! `--auto-tenants` provisions on first use (with when each was last used, so idle ones go).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use subtle::ConstantTimeEq;

use super::map::Map;

/// An OAuth application: one set of credentials and the API key its callbacks are signed with.
#[derive(Debug, Clone)]
pub struct Application {
    /// Shared: the tokens it is issued and the requests they authenticate carry it.
    pub client_id: Arc<str>,
    pub client_secret: String,
    pub api_key: String,
}

impl Application {
    /// Constant-time check of a presented secret.
    pub fn secret_matches(&self, presented: &str) -> bool {
        self.client_secret
            .as_bytes()
            .ct_eq(presented.as_bytes())
            .into()
    }
}

/// Every application, and which were provisioned as tenants.
pub struct Applications {
    applications: Map<String, Arc<Application>>,
    /// Auto-provisioned applications (`--auto-tenants`) and when each was last used, in
    /// microseconds of real time since `started`: idle ones are dropped.
    tenants: Map<String, AtomicU64>,
    started: std::time::Instant,
    /// The last use stamped: stamps strictly increase, so "unused the longest" has one
    /// answer even for uses in the same microsecond.
    last_use: AtomicU64,
}

impl Default for Applications {
    fn default() -> Self {
        Self {
            applications: Map::default(),
            tenants: Map::default(),
            started: std::time::Instant::now(),
            last_use: AtomicU64::new(0),
        }
    }
}

impl Applications {
    pub fn add(&self, app: Application) {
        self.applications
            .insert(app.client_id.to_string(), Arc::new(app));
    }

    /// Adds `app` as a tenant unless its client id exists already (first one wins,
    /// atomically). Past `max_tenants`, the tenant unused the longest is removed (the caller
    /// forgets its tokens and world); returns whether `app` was added and which went.
    pub fn provision(&self, app: Application, max_tenants: usize) -> (bool, Option<String>) {
        let client_id = app.client_id.to_string();
        let mut added = false;
        self.applications
            .entry(client_id.clone())
            .or_insert_with(|| {
                added = true;
                Arc::new(app)
            });
        if !added {
            return (false, None);
        }
        self.tenants
            .insert(client_id.clone(), AtomicU64::new(self.use_stamp()));
        let mut dropped = None;
        if self.tenants.len() > max_tenants {
            // A scan, but only when a new tenant arrives past the cap.
            dropped = self
                .tenants
                .iter()
                .filter(|t| *t.key() != client_id)
                .min_by_key(|t| t.value().load(Ordering::Relaxed))
                .map(|t| t.key().clone());
            if let Some(old) = &dropped {
                self.remove(old);
            }
        }
        (true, dropped)
    }

    /// Now, in microseconds since start, later than every stamp before it.
    fn use_stamp(&self) -> u64 {
        let now = self.started.elapsed().as_micros() as u64;
        let previous = self
            .last_use
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |last| {
                Some(now.max(last + 1))
            })
            .unwrap_or(now);
        now.max(previous + 1)
    }

    pub fn is_tenant(&self, client_id: &str) -> bool {
        self.tenants.contains_key(client_id)
    }

    /// Notes that a tenant was just used.
    pub fn touch(&self, client_id: &str) {
        if let Some(seen) = self.tenants.get(client_id) {
            seen.store(self.use_stamp(), Ordering::Relaxed);
        }
    }

    /// The tenants unused for longer than `ttl`.
    pub fn idle(&self, ttl: Duration) -> Vec<String> {
        let now = self.started.elapsed().as_micros() as u64;
        let ttl = ttl.as_micros() as u64;
        self.tenants
            .iter()
            .filter(|t| now.saturating_sub(t.value().load(Ordering::Relaxed)) > ttl)
            .map(|t| t.key().clone())
            .collect()
    }

    /// Forgets an application (and its tenancy).
    pub fn remove(&self, client_id: &str) {
        self.tenants.remove(client_id);
        self.applications.remove(client_id);
    }

    /// Every application, by client id.
    pub fn all(&self) -> Vec<Arc<Application>> {
        let mut all: Vec<Arc<Application>> = self
            .applications
            .iter()
            .map(|a| a.value().clone())
            .collect();
        all.sort_by(|a, b| a.client_id.cmp(&b.client_id));
        all
    }

    pub fn get(&self, client_id: &str) -> Option<Arc<Application>> {
        self.applications.get(client_id).map(|a| a.value().clone())
    }

    /// `client_id` as the shared text its application holds; a new copy for an unknown one.
    pub fn owner(&self, client_id: &str) -> Arc<str> {
        self.applications
            .get(client_id)
            .map_or_else(|| client_id.into(), |a| a.client_id.clone())
    }
}
