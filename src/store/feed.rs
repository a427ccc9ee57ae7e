//! The live feed: every request answered, resource result, callback attempt, webhook event,
//! SMS, prompt, clock move and scenario change, as it happens, for `GET /_sandbox/stream`
//! (the dashboard, `k2-sandbox watch`).
//!
//! A bounded ring of batches: publishers append to an open batch under a short lock; a
//! subscriber, woken once per batch rather than per event, seals it and takes every batch it
//! has not seen, shared with the other subscribers; a batch every subscriber has taken is let
//! go. One that falls more than [`CAPACITY`] events behind loses the oldest batches and is
//! told how many events it missed; no subscriber can grow memory. With no subscriber,
//! publishing costs one atomic load: events are built only for someone.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::Serialize;
use tokio::sync::Notify;

use crate::domain::delivery::ResourceRef;

/// Events kept for a subscriber that is behind, before it misses some.
pub const CAPACITY: usize = 4096;

/// What an event of the feed is about: the stream's SSE `event` and its `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedKind {
    /// A request answered (the app's or a customer's).
    Request,
    /// A resource's result was decided.
    Resource,
    /// A callback attempt.
    Callback,
    /// A webhook event fired.
    Webhook,
    /// A transaction SMS went out.
    Sms,
    /// An STK prompt waits for the customer.
    Prompt,
    /// The clock moved.
    Clock,
    /// A scenario was loaded, replaced or unloaded.
    Scenario,
}

impl FeedKind {
    pub const ALL: [Self; 8] = [
        Self::Request,
        Self::Resource,
        Self::Callback,
        Self::Webhook,
        Self::Sms,
        Self::Prompt,
        Self::Clock,
        Self::Scenario,
    ];

    /// Its name on the stream.
    pub fn name(self) -> &'static str {
        match self {
            Self::Request => "request",
            Self::Resource => "resource",
            Self::Callback => "callback",
            Self::Webhook => "webhook",
            Self::Sms => "sms",
            Self::Prompt => "prompt",
            Self::Clock => "clock",
            Self::Scenario => "scenario",
        }
    }

    /// The kind named `name` (as the stream writes it).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name.trim())
    }
}

/// One thing that happened. Rendered to JSON by the subscriber's task, not by the request
/// that published it (`http::admin::stream` writes it).
#[derive(Debug)]
pub struct FeedEvent {
    /// Increasing over the process's life: the SSE `id`.
    pub seq: u64,
    pub kind: FeedKind,
    /// The application it belongs to, when it belongs to one.
    pub client_id: Option<Arc<str>>,
    /// When, on the application's clock (else the shared one), in milliseconds; written as
    /// the API writes times.
    pub at: i64,
    pub data: Data,
}

/// What an event says. The frequent ones (a request answered, a resource settled, a callback
/// attempt, a webhook event) are kept as typed parts and written straight to JSON by the
/// subscriber (`http::admin::stream`); the rare ones as a JSON value.
#[derive(Debug)]
pub enum Data {
    Request(RequestData),
    Resource(ResourceData),
    Callback(CallbackData),
    Webhook(WebhookData),
    Json(serde_json::Value),
}

impl From<serde_json::Value> for Data {
    fn from(value: serde_json::Value) -> Self {
        Self::Json(value)
    }
}

impl From<ResourceData> for Data {
    fn from(data: ResourceData) -> Self {
        Self::Resource(data)
    }
}

impl From<WebhookData> for Data {
    fn from(data: WebhookData) -> Self {
        Self::Webhook(data)
    }
}

/// A webhook event happened: `{"id", "topic", "till_number"}`.
#[derive(Debug, Serialize)]
pub struct WebhookData {
    pub id: uuid::Uuid,
    pub topic: &'static str,
    pub till_number: Option<String>,
}

/// A resource reached a result: `{"type", "id", "status"}`.
#[derive(Debug)]
pub struct ResourceData {
    pub resource: ResourceRef,
    pub status: String,
}

/// One callback attempt: `{"delivery", "resource", "url", "attempt", "status", "error",
/// "latency_ms", "outcome"}`; `status` is the receiver's HTTP status (null if it never
/// answered), `outcome` `delivered`, `will retry`, `exhausted` or `dropped`.
#[derive(Debug)]
pub struct CallbackData {
    pub delivery: uuid::Uuid,
    pub resource: ResourceRef,
    pub url: String,
    pub attempt: u32,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub latency_ms: u64,
    pub outcome: &'static str,
}

/// A request answered, as `{"method", "path", "query", "status", "latency_ms", "journal",
/// "error"}`; `journal` is its sequence in the request journal (null if refused before it).
#[derive(Debug)]
pub struct RequestData {
    pub method: axum::http::Method,
    pub target: super::journal::Target,
    pub status: u16,
    pub latency_ms: f64,
    pub journal: Option<u64>,
    pub error: Option<String>,
}

pub struct Feed {
    subscribers: AtomicUsize,
    /// Set by a subscriber about to sleep: the next publisher wakes it (one wake per batch,
    /// not per event).
    waiting: AtomicBool,
    wake: Notify,
    ring: Mutex<Ring>,
    /// Set at shutdown: streams end instead of holding the process.
    closing: tokio::sync::watch::Sender<bool>,
}

/// The events kept: batches already sealed (shared by every subscriber that takes them), and
/// the open one publishers append to. One short lock per event, no allocation of its own.
#[derive(Default)]
struct Ring {
    /// The sequence number of the newest event (they start at 1).
    last: u64,
    open: Vec<FeedEvent>,
    sealed: VecDeque<Arc<Batch>>,
    /// Events in `sealed`.
    kept: usize,
    /// Each subscriber's id and the last sequence number it has taken: batches every
    /// subscriber has taken are let go at once rather than kept to [`CAPACITY`] (a few
    /// milliseconds of events stay in memory, not thousands).
    positions: Vec<(u64, u64)>,
    next_subscriber: u64,
}

/// Events with consecutive sequence numbers.
pub struct Batch {
    events: Vec<FeedEvent>,
}

impl Batch {
    fn first(&self) -> u64 {
        self.events.first().map_or(0, |e| e.seq)
    }

    fn last(&self) -> u64 {
        self.events.last().map_or(0, |e| e.seq)
    }
}

/// A batch is sealed by a publisher once this many events are open (by a subscriber, when
/// it takes them, at any size).
const SEAL_AT: usize = 256;

impl Ring {
    /// Lets go of the oldest batches every subscriber has taken; returns them, to be dropped
    /// after the lock is let go.
    fn release_taken(&mut self, trimmed: &mut Vec<Arc<Batch>>) {
        let Some(taken) = self.positions.iter().map(|&(_, after)| after).min() else {
            return;
        };
        while self.sealed.front().is_some_and(|b| b.last() <= taken) {
            let batch = self.sealed.pop_front().expect("a front batch");
            self.kept -= batch.events.len();
            trimmed.push(batch);
        }
    }

    /// Seals the open batch; returns the batches trimmed to make room, to be dropped (their
    /// events freed) after the lock is let go.
    #[must_use]
    fn seal(&mut self) -> Vec<Arc<Batch>> {
        let mut trimmed = Vec::new();
        if self.open.is_empty() {
            return trimmed;
        }
        // A publisher seals a full batch and starts the next with room for as many; a
        // subscriber seals what a few milliseconds brought, copied out at its size, and the
        // open batch keeps its room.
        let events = if self.open.len() >= SEAL_AT {
            std::mem::replace(&mut self.open, Vec::with_capacity(SEAL_AT))
        } else {
            self.open.drain(..).collect()
        };
        self.kept += events.len();
        self.sealed.push_back(Arc::new(Batch { events }));
        while self.kept > CAPACITY {
            let Some(oldest) = self.sealed.pop_front() else {
                break;
            };
            self.kept -= oldest.events.len();
            trimmed.push(oldest);
        }
        trimmed
    }
}

impl Default for Feed {
    fn default() -> Self {
        Self {
            subscribers: AtomicUsize::new(0),
            waiting: AtomicBool::new(false),
            wake: Notify::new(),
            ring: Mutex::default(),
            closing: tokio::sync::watch::channel(false).0,
        }
    }
}

impl Feed {
    /// Whether anyone listens: publishers build their event only then.
    pub fn active(&self) -> bool {
        self.subscribers.load(Ordering::Relaxed) > 0
    }

    fn ring(&self) -> MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Publishes an event built by `data`, if anyone listens; `at_ms` is when, on the
    /// application's clock.
    pub fn publish(
        &self,
        kind: FeedKind,
        client_id: impl ClientId,
        at_ms: impl FnOnce() -> i64,
        data: impl FnOnce() -> Data,
    ) {
        if !self.active() {
            return;
        }
        let (client_id, at, data) = (client_id.into_shared(), at_ms(), data());
        let _trimmed = {
            let mut ring = self.ring();
            let seq = ring.last + 1;
            ring.last = seq;
            ring.open.push(FeedEvent {
                seq,
                kind,
                client_id,
                at,
                data,
            });
            if ring.open.len() >= SEAL_AT {
                ring.seal()
            } else {
                Vec::new()
            }
        };
        // A subscriber that set `waiting` before checking the ring under its lock is seen
        // here: the lock orders the two.
        if self.waiting.load(Ordering::Relaxed) && self.waiting.swap(false, Ordering::Relaxed) {
            self.wake.notify_waiters();
        }
    }

    /// A new subscriber, for events published from now on; dropping it unsubscribes.
    pub fn subscribe(self: &Arc<Self>) -> Subscription {
        let (id, last) = {
            let mut ring = self.ring();
            self.subscribers.fetch_add(1, Ordering::Relaxed);
            let id = ring.next_subscriber;
            ring.next_subscriber += 1;
            let last = ring.last;
            ring.positions.push((id, last));
            (id, last)
        };
        Subscription {
            id,
            after: last,
            closing: self.closing.subscribe(),
            feed: self.clone(),
        }
    }

    /// Ends every subscription (shutdown).
    pub fn close(&self) {
        let _ = self.closing.send(true);
    }
}

/// The application an event belongs to: borrowed (copied only if someone listens) or
/// already shared (moved in).
pub trait ClientId {
    fn into_shared(self) -> Option<Arc<str>>;
}

impl ClientId for Option<&str> {
    fn into_shared(self) -> Option<Arc<str>> {
        self.map(Arc::from)
    }
}

impl ClientId for Option<Arc<str>> {
    fn into_shared(self) -> Option<Arc<str>> {
        self
    }
}

/// What a subscriber takes at once: the events it had not seen, oldest first, and how many
/// went past it because it fell more than [`CAPACITY`] behind.
pub struct Taken {
    pub missed: u64,
    batches: Vec<Arc<Batch>>,
    after: u64,
}

impl Taken {
    /// How many events it holds (some may be older than the subscriber's, and skipped).
    pub fn held(&self) -> usize {
        self.batches.iter().map(|b| b.events.len()).sum()
    }

    pub fn events(&self) -> impl Iterator<Item = &FeedEvent> {
        let after = self.after;
        self.batches
            .iter()
            .flat_map(|b| b.events.iter())
            .filter(move |e| e.seq > after)
    }
}

pub struct Subscription {
    /// Its place in the ring's `positions`.
    id: u64,
    /// The last sequence number it has seen.
    after: u64,
    closing: tokio::sync::watch::Receiver<bool>,
    feed: Arc<Feed>,
}

impl Subscription {
    /// Waits until there is something to take: true, or false once the sandbox is shutting
    /// down.
    pub async fn wait(&mut self) -> bool {
        loop {
            if *self.closing.borrow() {
                return false;
            }
            let woken = self.feed.wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            self.feed.waiting.store(true, Ordering::Relaxed);
            if self.feed.ring().last > self.after {
                return true;
            }
            tokio::select! {
                _ = woken => {}
                _ = self.closing.changed() => {}
            }
        }
    }

    /// Everything published since it last took.
    pub fn take(&mut self) -> Taken {
        let mut ring = self.feed.ring();
        let mut trimmed = ring.seal();
        let after = self.after;
        let batches: Vec<Arc<Batch>> = ring
            .sealed
            .iter()
            .filter(|b| b.last() > after)
            .cloned()
            .collect();
        let oldest = batches.first().map_or(after + 1, |b| b.first());
        self.after = ring.last;
        let (id, last) = (self.id, ring.last);
        if let Some(position) = ring.positions.iter_mut().find(|(i, _)| *i == id) {
            position.1 = last;
        }
        ring.release_taken(&mut trimmed);
        drop(ring);
        drop(trimmed);
        Taken {
            missed: oldest.saturating_sub(after + 1),
            batches,
            after,
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut ring = self.feed.ring();
        let id = self.id;
        ring.positions.retain(|(i, _)| *i != id);
        if self.feed.subscribers.fetch_sub(1, Ordering::Relaxed) == 1 {
            // Nobody listens: nothing is kept.
            *ring = Ring {
                last: ring.last,
                next_subscriber: ring.next_subscriber,
                ..Ring::default()
            };
        } else {
            // It may have been the one furthest behind.
            let mut trimmed = Vec::new();
            ring.release_taken(&mut trimmed);
            drop(ring);
            drop(trimmed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn publish(feed: &Feed, n: u64) {
        feed.publish(
            FeedKind::Clock,
            None::<&str>,
            || 0,
            || Data::Json(serde_json::json!({ "n": n })),
        );
    }

    fn numbers(taken: &Taken) -> Vec<u64> {
        taken
            .events()
            .map(|e| match &e.data {
                Data::Json(data) => data["n"].as_u64().expect("a number"),
                _ => panic!("the event published"),
            })
            .collect()
    }

    #[tokio::test]
    async fn subscribers_get_events_in_order_and_a_slow_one_is_told_what_it_missed() {
        let feed = Arc::new(Feed::default());
        publish(&feed, 0); // nobody listens: not even built
        let mut sub = feed.subscribe();
        let mut other = feed.subscribe();
        assert!(feed.active());
        let waiting = tokio::spawn(async move {
            assert!(other.wait().await);
            other
        });
        tokio::task::yield_now().await;
        publish(&feed, 1);
        publish(&feed, 2);
        let mut other = waiting.await.expect("woken by the first event");
        assert!(sub.wait().await);
        let taken = sub.take();
        assert_eq!((taken.missed, numbers(&taken)), (0, vec![1, 2]));
        assert_eq!(numbers(&sub.take()), Vec::<u64>::new());
        // The other subscriber shares the same batch.
        assert_eq!(numbers(&other.take()), vec![1, 2]);

        let published = CAPACITY as u64 + 300;
        for n in 0..published {
            publish(&feed, n);
        }
        // The slow one lost the oldest whole batches, and is told how many events they held.
        let taken = sub.take();
        let received = numbers(&taken);
        assert!(taken.missed > 0 && taken.missed <= 300 + SEAL_AT as u64);
        assert_eq!(taken.missed + received.len() as u64, published);
        assert_eq!(received.last(), Some(&(published - 1)));
        assert!(received.windows(2).all(|w| w[1] == w[0] + 1));

        // Once every subscriber has taken them, batches are let go; the slow one is caught up.
        let _ = other.take();
        assert_eq!(feed.ring().kept, 0);
        publish(&feed, 1);
        let _ = sub.take();
        assert_eq!(feed.ring().kept, 1, "the other has not taken it yet");
        let _ = other.take();
        assert_eq!(feed.ring().kept, 0);

        feed.close();
        assert!(!sub.wait().await);
        drop((sub, other));
        assert!(!feed.active());
    }
}
