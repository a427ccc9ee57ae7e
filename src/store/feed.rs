//! The live feed: every request answered, resource result, callback attempt, webhook event,
//! SMS, prompt, clock move and scenario change, as it happens, for `GET /_sandbox/stream`
//! (the dashboard, `k2-sandbox watch`).
//!
//! A bounded broadcast ring: a subscriber that falls more than [`CAPACITY`] events behind
//! loses the oldest and is told how many it missed; no subscriber can grow memory. With no
//! subscriber, publishing costs one atomic load: events are built only for someone.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use serde::Serialize;
use tokio::sync::broadcast;

use crate::domain::delivery::ResourceRef;

/// Events kept for a subscriber that is behind, before it misses some.
pub const CAPACITY: usize = 4096;

/// One thing that happened. Rendered to JSON by the subscriber's task, not by the request
/// that published it (`http::admin::stream` writes it).
#[derive(Debug)]
pub struct FeedEvent {
    /// Increasing over the process's life: the SSE `id`.
    pub seq: u64,
    /// `request`, `resource`, `callback`, `webhook`, `sms`, `prompt`, `clock` or `scenario`.
    pub kind: &'static str,
    /// The application it belongs to, when it belongs to one.
    pub client_id: Option<Arc<str>>,
    /// When, on the application's clock (else the shared one), in milliseconds; written as
    /// the API writes times.
    pub at: i64,
    pub data: Data,
}

/// What an event says. The frequent ones (a request answered, a resource settled, a callback
/// attempt) are kept as typed parts and written straight to JSON by the subscriber; the rare
/// ones as a JSON value.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Data {
    Request(RequestData),
    Resource(ResourceData),
    Callback(CallbackData),
    Json(serde_json::Value),
}

/// A resource reached a result: `{"type", "id", "status"}`.
#[derive(Debug, Serialize)]
pub struct ResourceData {
    #[serde(flatten)]
    pub resource: ResourceRef,
    pub status: String,
}

/// One callback attempt: `{"delivery", "resource", "url", "attempt", "status", "error",
/// "latency_ms", "outcome"}`; `status` is the receiver's HTTP status (null if it never
/// answered), `outcome` `delivered`, `will retry`, `exhausted` or `dropped`.
#[derive(Debug, Serialize)]
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
    pub uri: axum::http::Uri,
    pub status: u16,
    pub latency_ms: f64,
    pub journal: Option<u64>,
    pub error: Option<String>,
}

impl Serialize for RequestData {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = s.serialize_map(Some(7))?;
        map.serialize_entry("method", self.method.as_str())?;
        map.serialize_entry("path", self.uri.path())?;
        map.serialize_entry("query", &self.uri.query())?;
        map.serialize_entry("status", &self.status)?;
        map.serialize_entry("latency_ms", &self.latency_ms)?;
        map.serialize_entry("journal", &self.journal)?;
        map.serialize_entry("error", &self.error)?;
        map.end()
    }
}

pub struct Feed {
    sender: broadcast::Sender<Arc<FeedEvent>>,
    subscribers: AtomicUsize,
    seq: AtomicU64,
    /// Set at shutdown: streams end instead of holding the process.
    closing: tokio::sync::watch::Sender<bool>,
}

impl Default for Feed {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(CAPACITY).0,
            subscribers: AtomicUsize::new(0),
            seq: AtomicU64::new(0),
            closing: tokio::sync::watch::channel(false).0,
        }
    }
}

impl Feed {
    /// Whether anyone listens: publishers build their event only then.
    pub fn active(&self) -> bool {
        self.subscribers.load(Ordering::Relaxed) > 0
    }

    /// Publishes an event built by `data`, if anyone listens; `at_ms` is when, on the
    /// application's clock.
    pub fn publish(
        &self,
        kind: &'static str,
        client_id: impl ClientId,
        at_ms: impl FnOnce() -> i64,
        data: impl FnOnce() -> Data,
    ) {
        if !self.active() {
            return;
        }
        let event = FeedEvent {
            seq: self.seq.fetch_add(1, Ordering::Relaxed) + 1,
            kind,
            client_id: client_id.into_shared(),
            at: at_ms(),
            data: data(),
        };
        // No receiver left between the check and here: nothing to do.
        let _ = self.sender.send(Arc::new(event));
    }

    /// A new subscriber; dropping it unsubscribes.
    pub fn subscribe(self: &Arc<Self>) -> Subscription {
        self.subscribers.fetch_add(1, Ordering::Relaxed);
        Subscription {
            receiver: self.sender.subscribe(),
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

/// What a subscriber receives next.
pub enum Next {
    Event(Arc<FeedEvent>),
    /// It fell behind and these many events went past it.
    Missed(u64),
    /// The sandbox is shutting down.
    Closed,
}

pub struct Subscription {
    receiver: broadcast::Receiver<Arc<FeedEvent>>,
    closing: tokio::sync::watch::Receiver<bool>,
    feed: Arc<Feed>,
}

impl Subscription {
    pub async fn next(&mut self) -> Next {
        if *self.closing.borrow() {
            return Next::Closed;
        }
        tokio::select! {
            received = self.receiver.recv() => match received {
                Ok(event) => Next::Event(event),
                Err(broadcast::error::RecvError::Lagged(n)) => Next::Missed(n),
                Err(broadcast::error::RecvError::Closed) => Next::Closed,
            },
            _ = self.closing.changed() => Next::Closed,
        }
    }
}

impl Subscription {
    /// What is already waiting, without waiting: `None` when nothing is.
    pub fn ready(&mut self) -> Option<Next> {
        match self.receiver.try_recv() {
            Ok(event) => Some(Next::Event(event)),
            Err(broadcast::error::TryRecvError::Lagged(n)) => Some(Next::Missed(n)),
            Err(broadcast::error::TryRecvError::Closed) => Some(Next::Closed),
            Err(broadcast::error::TryRecvError::Empty) => None,
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.feed.subscribers.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn publish(feed: &Feed, n: u64) {
        feed.publish(
            "clock",
            None::<&str>,
            || 0,
            || Data::Json(serde_json::json!({ "n": n })),
        );
    }

    #[tokio::test]
    async fn subscribers_get_events_in_order_and_a_slow_one_is_told_what_it_missed() {
        let feed = Arc::new(Feed::default());
        publish(&feed, 0); // nobody listens: not even built
        let mut sub = feed.subscribe();
        assert!(feed.active());
        publish(&feed, 1);
        publish(&feed, 2);
        for n in [1, 2] {
            match sub.next().await {
                Next::Event(e) => match &e.data {
                    Data::Json(data) => assert_eq!(data["n"], n),
                    _ => panic!("the event published"),
                },
                _ => panic!("an event"),
            }
        }
        for n in 0..(CAPACITY as u64 + 10) {
            publish(&feed, n);
        }
        match sub.next().await {
            Next::Missed(n) => assert_eq!(n, 10),
            _ => panic!("a missed notice"),
        }
        feed.close();
        assert!(matches!(sub.next().await, Next::Closed));
        drop(sub);
        assert!(!feed.active());
    }
}
