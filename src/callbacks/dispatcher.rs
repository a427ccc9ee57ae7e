//! Queues callbacks and makes their delivery attempts.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::Serialize;
use uuid::Uuid;

use super::client::Client;
use super::signing::mac;
use crate::clock::{Clock, IdGen};
use crate::domain::delivery::{
    Attempt, CallbackKind, Delivery, DeliveryState, Failure, Probe, ResourceRef, Signature,
};
use crate::domain::kinds::ResourceKind;
use crate::scheduler::{Job, Scheduler};
use crate::store::Store;

const USER_AGENT: &str = concat!("k2-sandbox/", env!("CARGO_PKG_VERSION"), " (callbacks)");

#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub timeout: Duration,
    /// Wait before the first retry; doubled after each further failure.
    pub backoff: Duration,
}

impl RetryPolicy {
    /// The wait after failed attempt `n` (1-based): backoff, 2×backoff, 4×backoff, ...
    pub fn delay_after(&self, n: u32) -> Duration {
        self.backoff
            .saturating_mul(1u32 << n.saturating_sub(1).min(20))
    }
}

#[derive(Clone)]
pub struct Dispatcher {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    store: Store,
    scheduler: Scheduler,
    clock: Clock,
    ids: IdGen,
    policy: RetryPolicy,
    sequence: AtomicU64,
    scenarios: Arc<crate::scenarios::Scenarios>,
    /// `--callback-rewrite`'s rules.
    rewrites: Vec<crate::domain::rewrite::Rewrite>,
    started: Instant,
    /// When the last "exhausted" warning was written (ms since `started`), and how many
    /// deliveries were exhausted since.
    exhausted_warned_ms: AtomicU64,
    exhausted_quiet: AtomicU64,
}

/// How deliveries are made: the flags `serve` was given.
#[derive(Debug, Clone)]
pub struct Delivering {
    pub policy: RetryPolicy,
    /// Attempts in flight at once, and connections open to one receiver.
    pub connections_per_host: usize,
    /// `--callback-rewrite`'s rules.
    pub rewrites: Vec<crate::domain::rewrite::Rewrite>,
}

impl Dispatcher {
    pub fn new(
        store: Store,
        scheduler: Scheduler,
        clock: Clock,
        ids: IdGen,
        delivering: Delivering,
        scenarios: Arc<crate::scenarios::Scenarios>,
    ) -> anyhow::Result<Self> {
        let Delivering {
            policy,
            connections_per_host,
            rewrites,
        } = delivering;
        let client = Client::new(
            USER_AGENT,
            policy.timeout,
            super::client::REFUSED_FOR,
            connections_per_host,
        )?;
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                store,
                scheduler,
                clock,
                ids,
                policy,
                sequence: AtomicU64::new(0),
                scenarios,
                rewrites,
                started: Instant::now(),
                exhausted_warned_ms: AtomicU64::new(0),
                exhausted_quiet: AtomicU64::new(0),
            }),
        })
    }

    /// Serialises, signs and records a callback, and schedules its first attempt now.
    pub fn enqueue(
        &self,
        owner: &str,
        api_key: &str,
        resource: ResourceRef,
        target: Arc<str>,
        payload: &impl Serialize,
    ) -> Uuid {
        // Compact, escaped as Rails escapes: a Rails receiver that re-serialises the parsed
        // JSON gets these bytes back (`wire::json`).
        let body = crate::wire::json::to_string(payload);
        let treatment = self
            .inner
            .scenarios
            .callback_faults
            .treatment(resource.kind, owner)
            .unwrap_or_default();
        let conflicting = treatment
            .conflicting
            .then(|| crate::scenarios::callback_faults::conflicting_body(&body))
            .flatten();
        // Kept as long as the delivery record, in an allocation of exactly its size (a result
        // of ~900 bytes sits in 1,024 in the string that grew).
        let body: Arc<[u8]> = body.into_bytes().into();
        // Records one delivery and schedules its first attempt (or drops it).
        let record = |body: Arc<[u8]>, of_resource: bool| {
            let signature = Signature::Hmac(mac(api_key, &body));
            let mut delivery = self.new_delivery(owner, resource, target.clone(), body, signature);
            delivery.of_resource = of_resource;
            if treatment.drop {
                delivery.state = DeliveryState::Dropped;
                return self.queue(delivery, None);
            }
            self.queue(delivery, Some(treatment.delay.unwrap_or(Duration::ZERO)))
        };
        let id = record(body.clone(), true);
        for _ in 0..treatment.duplicates {
            record(body.clone(), true);
        }
        if let Some(conflict) = conflicting {
            record(conflict.into_bytes().into(), false);
        }
        id
    }

    /// The sequence the next delivery will get (deliveries are listed in its order).
    pub fn sequence_now(&self) -> u64 {
        self.inner.sequence.load(Ordering::Relaxed)
    }

    /// The exact bytes a delivery sends (sent): kept, or, once released, its resource's result
    /// document rendered again. `None` if that resource is gone (a reset, or retention).
    pub fn body_of(&self, delivery: &Delivery) -> Option<Bytes> {
        if let Some(body) = &delivery.body {
            return Some(Bytes::from_owner(body.clone()));
        }
        render_again(delivery.resource.kind)?(&self.inner.store, delivery.resource.id)
    }

    /// Queues a recorded delivery again as a new one (same target, bytes and signature), to
    /// check a receiver's handling of duplicates. Returns the new delivery's id.
    pub fn replay(&self, id: Uuid) -> Option<Uuid> {
        let original = self.inner.store.delivery(id)?;
        let body = self.body_of(&original)?;
        let mut replay = self.new_delivery(
            &original.owner,
            original.resource,
            original.target.clone(),
            Arc::from(&*body),
            original.signature(),
        );
        replay.of_resource = original.of_resource;
        replay.replays_mut().of = Some(id);
        let replay_id = replay.id;
        self.inner
            .store
            .update_delivery(id, |d| d.replays_mut().by = Some(replay_id));
        Some(self.queue(replay, Some(Duration::ZERO)))
    }

    /// Queues a receiver probe: `body` sent once to `target` with `signature` (empty: none),
    /// `after` from now; the log records whether the app accepted it.
    pub fn probe(
        &self,
        owner: &str,
        target: Arc<str>,
        probe: Probe,
        body: Bytes,
        signature: String,
        after: Duration,
    ) -> Uuid {
        let resource = ResourceRef {
            kind: CallbackKind::ReceiverProbe,
            id: Uuid::nil(),
        };
        let body = Arc::from(&*body);
        let mut delivery = self.new_delivery(owner, resource, target, body, signature.into());
        delivery.set_probe(probe);
        self.queue(delivery, Some(after))
    }

    /// A new pending delivery record, not yet queued: a fresh id, the next sequence, now.
    fn new_delivery(
        &self,
        owner: &str,
        resource: ResourceRef,
        target: Arc<str>,
        body: Arc<[u8]>,
        signature: Signature,
    ) -> Delivery {
        // Sent elsewhere under `--callback-rewrite`, the URL asked for kept beside it.
        let (target, rewritten_from) =
            match crate::domain::rewrite::rewritten(&self.inner.rewrites, &target) {
                Some(url) => (Arc::from(url), Some(target)),
                None => (target, None),
            };
        let mut delivery = Delivery {
            id: self.inner.ids.uuid(),
            sequence: self.inner.sequence.fetch_add(1, Ordering::Relaxed),
            owner: self.inner.store.owner(owner),
            resource,
            target,
            body: Some(body),
            of_resource: false,
            hmac: None,
            created_at_ms: self.inner.clock.now_ms_of(owner),
            attempts: Box::default(),
            state: DeliveryState::Pending,
            rare: None,
        };
        delivery.sign(signature);
        if rewritten_from.is_some() {
            delivery.rare.get_or_insert_default().rewritten_from = rewritten_from;
        }
        delivery
    }

    /// Records `delivery` and schedules its first attempt `after` from now (`None`: never,
    /// for a dropped one). Returns its id.
    fn queue(&self, delivery: Delivery, after: Option<Duration>) -> Uuid {
        let (id, owner) = (delivery.id, delivery.owner.clone());
        self.inner.store.insert_delivery(delivery);
        if let Some(after) = after {
            self.inner
                .scheduler
                .schedule(Job::Deliver(id), &owner, after);
        }
        id
    }

    /// The next attempt of a pending delivery, due now. If its target's last connection
    /// failed lately ([`Client::failing`]) it fails as that one did, recorded at once, and
    /// there is nothing to wait for (`None`; nor for a delivery a reset forgot or that has
    /// ended); else the attempt to make, which looks the delivery up again when it starts.
    pub fn attempt(&self, id: Uuid) -> Option<impl Future<Output = ()> + Send + 'static> {
        let failing = self.inner.store.read_delivery(id, |d| {
            (d.state == DeliveryState::Pending).then(|| self.inner.client.failing(&d.target))
        })??;
        if failing {
            let delivery = self.inner.store.delivery(id)?;
            let attempt = Attempt {
                number: delivery.attempts.len() as u32 + 1,
                at_ms: self.inner.clock.now_ms_of(&delivery.owner),
                status: None,
                error: Some(Failure::Connect),
                latency_ms: 0,
            };
            self.record(&delivery, attempt);
            return None;
        }
        let this = self.clone();
        Some(async move { this.attempt_now(id).await })
    }

    /// Makes the next attempt of a pending delivery and records it.
    async fn attempt_now(&self, id: Uuid) {
        let Some(delivery) = self.inner.store.delivery(id) else {
            return; // forgotten by a reset
        };
        if delivery.state != DeliveryState::Pending {
            return;
        }
        let number = delivery.attempts.len() as u32 + 1;
        let attempt = self.send(&delivery, number).await;
        self.record(&delivery, attempt);
    }

    /// Records an attempt of `delivery`, schedules the next if it failed and may retry, and
    /// tells the live stream and the log.
    fn record(&self, delivery: &Delivery, attempt: Attempt) {
        let (id, number) = (delivery.id, attempt.number);
        let (status, latency_ms) = (attempt.status, attempt.latency_ms);
        let error = attempt.error;
        let policy = self.inner.policy;
        let state = self.inner.store.update_delivery(id, |d| {
            let state = d.record(attempt, policy.attempts);
            if render_again(d.resource.kind).is_some() {
                d.release();
            }
            state
        });
        let outcome = match state {
            Some(DeliveryState::Delivered) => "delivered",
            Some(DeliveryState::Exhausted) => {
                self.warn_exhausted(&delivery.target, status);
                "exhausted"
            }
            Some(DeliveryState::Pending) => {
                let wait = policy.delay_after(number);
                self.inner
                    .scheduler
                    .schedule(Job::Deliver(id), &delivery.owner, wait);
                "will retry"
            }
            Some(DeliveryState::Dropped) | None => "dropped",
        };
        self.inner.store.feed.publish(
            crate::store::feed::FeedKind::Callback,
            Some(&*delivery.owner),
            || self.inner.clock.now_ms_of(&delivery.owner),
            || {
                crate::store::feed::Data::Callback(crate::store::feed::CallbackData {
                    delivery: id,
                    resource: delivery.resource,
                    url: delivery.target.to_string(),
                    attempt: number,
                    status,
                    error: error.map(|e| e.describe().to_owned()),
                    latency_ms,
                    outcome,
                })
            },
        );
        self.log_attempt(delivery, number, status, error, latency_ms, outcome);
    }

    /// Warns that a callback ran out of attempts: at once the first time, then at most every
    /// ten seconds with how many more did (a receiver that is down under load would otherwise
    /// write a line per request).
    fn warn_exhausted(&self, target: &str, status: Option<u16>) {
        const EVERY_MS: u64 = 10_000;
        self.inner.exhausted_quiet.fetch_add(1, Ordering::Relaxed);
        // Never 0, which means "not warned yet".
        let now = self.inner.started.elapsed().as_millis() as u64 + 1;
        let last = self.inner.exhausted_warned_ms.load(Ordering::Relaxed);
        let due = last == 0 || now.saturating_sub(last) >= EVERY_MS;
        if due
            && self
                .inner
                .exhausted_warned_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            let count = self.inner.exhausted_quiet.swap(0, Ordering::Relaxed);
            tracing::warn!(
                target,
                status,
                exhausted = count,
                "callbacks ran out of attempts (see GET /_sandbox/callbacks?status=exhausted)"
            );
        }
    }

    /// The log's line for an attempt (info, `k2_sandbox::callbacks`), written directly when
    /// the log is plain text (a line per attempt: under load, one per create).
    fn log_attempt(
        &self,
        delivery: &Delivery,
        attempt: u32,
        status: Option<u16>,
        error: Option<Failure>,
        latency_ms: u64,
        outcome: &str,
    ) {
        use crate::telemetry::Value::{Str, U64};
        if !tracing::enabled!(target: "k2_sandbox::callbacks", tracing::Level::INFO) {
            return;
        }
        let (mut id, mut resource) = (Uuid::encode_buffer(), Uuid::encode_buffer());
        let written = crate::telemetry::info_line(
            "k2_sandbox::callbacks",
            "callback attempt",
            &[
                (
                    "delivery",
                    Some(Str(delivery.id.hyphenated().encode_lower(&mut id))),
                ),
                (
                    "resource",
                    Some(Str(delivery
                        .resource
                        .id
                        .hyphenated()
                        .encode_lower(&mut resource))),
                ),
                ("client_id", Some(Str(&delivery.owner))),
                ("url", Some(Str(&delivery.target))),
                ("attempt", Some(U64(attempt.into()))),
                ("status", status.map(|s| U64(s.into()))),
                ("error", error.map(|e| Str(e.describe()))),
                ("latency_ms", Some(U64(latency_ms))),
                ("outcome", Some(Str(outcome))),
            ],
        );
        if !written {
            tracing::info!(
                target: "k2_sandbox::callbacks",
                delivery = %delivery.id,
                resource = %delivery.resource.id,
                client_id = %delivery.owner,
                url = %delivery.target,
                attempt,
                status,
                error = error.map(tracing::field::display),
                latency_ms,
                %outcome,
                "callback attempt"
            );
        }
    }

    /// POSTs the delivery's exact bytes and signature once; what happened.
    async fn send(&self, delivery: &Delivery, number: u32) -> Attempt {
        let at_ms = self.inner.clock.now_ms_of(&delivery.owner);
        let started = Instant::now();
        // A released body was delivered already and is never sent again.
        let body = delivery
            .body
            .clone()
            .map_or_else(Bytes::new, Bytes::from_owner);
        // A probe may send no signature at all.
        let signature = delivery.signature();
        let result = self
            .inner
            .client
            .post(&delivery.target, body, &signature)
            .await;
        let (status, error) = match result {
            Ok(status) => (Some(status), None),
            Err(failure) => (None, Some(failure)),
        };
        Attempt {
            number,
            at_ms,
            status,
            error,
            latency_ms: started.elapsed().as_millis() as u64,
        }
    }
}

/// How to render a delivered result's body again, byte for byte, from its resource: only for
/// the kinds whose result document never changes once decided (an incoming payment is final
/// when it settles, and its callback is `Document<incoming_payments::Attributes>`, as
/// `service::prompts::settle_prompt` sends it). The others keep their bytes: rarer, and
/// some change later (a link that is paid, send money whose v1 and v2 views differ).
fn render_again(kind: CallbackKind) -> Option<fn(&Store, Uuid) -> Option<Bytes>> {
    match kind {
        CallbackKind::Of(ResourceKind::IncomingPayment) => Some(|store, id| {
            let payment = store.incoming_payments.get_any(id)?;
            let document =
                crate::wire::Document::<crate::wire::incoming_payments::Attributes>::from(&payment);
            let body = crate::wire::json::to_vec(&document);
            Some(body.into())
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles() {
        let p = RetryPolicy {
            attempts: 5,
            timeout: Duration::from_secs(1),
            backoff: Duration::from_millis(100),
        };
        let waits: Vec<u128> = (1..=4).map(|n| p.delay_after(n).as_millis()).collect();
        assert_eq!(waits, vec![100, 200, 400, 800]);
    }
}
