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

/// Events kept for a subscriber that is behind, before it misses some.
pub const CAPACITY: usize = 4096;

/// One thing that happened.
#[derive(Debug, Serialize)]
pub struct FeedEvent {
    /// Increasing over the process's life: the SSE `id`.
    pub seq: u64,
    /// `request`, `resource`, `callback`, `webhook`, `sms`, `prompt`, `clock` or `scenario`.
    pub kind: &'static str,
    /// The application it belongs to, when it belongs to one.
    pub client_id: Option<String>,
    /// When, on the application's clock (else the shared one), as the API writes times.
    pub at: String,
    pub data: serde_json::Value,
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

    /// Publishes an event built by `data`, if anyone listens.
    pub fn publish(
        &self,
        kind: &'static str,
        client_id: Option<&str>,
        at: impl FnOnce() -> String,
        data: impl FnOnce() -> serde_json::Value,
    ) {
        if !self.active() {
            return;
        }
        let event = FeedEvent {
            seq: self.seq.fetch_add(1, Ordering::Relaxed) + 1,
            kind,
            client_id: client_id.map(str::to_string),
            at: at(),
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

impl Drop for Subscription {
    fn drop(&mut self) {
        self.feed.subscribers.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn publish(feed: &Feed, n: u64) {
        feed.publish("clock", None, String::new, || serde_json::json!({ "n": n }));
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
                Next::Event(e) => assert_eq!(e.data["n"], n),
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
