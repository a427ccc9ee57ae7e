//! The service floor: what a request or a due job does to the world. Accept and settle
//! resources, decide with the script's rules, record received money, emit webhook events and
//! queue signed callbacks; the scheduler and the dispatcher are driven from here. Handlers
//! parse, call a service, render; scenarios are applied through services too.

pub mod incoming_payments;
pub mod jobs;
pub mod oauth;
pub mod payment_links;
pub mod polling;
pub mod prompts;
pub mod recipients;
pub mod resource;
pub mod reversals;
pub mod send_money;
pub mod settle;
pub mod simulate;
pub mod sms_notifications;
mod state;
pub mod timeline;
pub mod transactions;
pub mod verify;
pub mod webhook_subscriptions;

use std::time::Duration;

use self::resource::Resource;
pub use self::state::{AppState, Parts, Settings};
use crate::domain::{Envelope, Invalid, Verdict};
use crate::scenarios::rules::Decision;
use crate::scheduler::Job;

/// Why a service refused a request: one message, or (for reversals, as the reference shows)
/// a list of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Invalid(Invalid),
    List(Vec<String>),
}

impl From<Invalid> for Refusal {
    fn from(e: Invalid) -> Self {
        Self::Invalid(e)
    }
}

/// When the result of a request falls due, as a scenario rule may have decided: never for a
/// pending verdict (only an answer from the control plane, or nothing, resolves it), after
/// the rule's delay, or after `--callback-delay-ms`. The one place a decision becomes a time.
pub fn due(state: &AppState, decision: Option<&Decision>) -> Option<Duration> {
    match decision {
        Some(d) if d.verdict == Verdict::Pending => None,
        Some(Decision { delay: Some(d), .. }) => Some(*d),
        _ => Some(state.settings.callback_delay),
    }
}

/// The failure a scenario rule imposes on a request, if it decided one: its text, or the
/// endpoint's `default`.
pub fn imposed_failure(decision: Option<&Decision>, default: &str) -> Option<String> {
    match decision.map(|d| &d.verdict) {
        Some(Verdict::Failure(error)) => Some(error.clone().unwrap_or_else(|| default.into())),
        _ => None,
    }
}

/// Records a new pending resource and schedules its result `due` later on its owner's clock
/// (or never, for `None`).
pub fn accept<R: Resource>(state: &AppState, resource: R, due: Option<Duration>) {
    let (id, owner) = (resource.id(), resource.owner().to_string());
    R::collection(&state.store).insert(resource);
    if let Some(due) = due {
        state
            .scheduler
            .schedule(Job::Settle(R::KIND, id), &owner, due);
    }
}

/// A new resource's envelope: a fresh id, the next creation sequence, now on the owner's
/// clock, and its absolute URL `{base}{collection}/{id}`.
pub fn new_envelope(state: &AppState, owner: &str, base: &str, collection: &str) -> Envelope {
    envelope_of(state, state.ids.uuid(), owner, base, collection)
}

/// As [`new_envelope`], for an id drawn already (a webhook event's, named in its payload).
pub fn envelope_of(
    state: &AppState,
    id: uuid::Uuid,
    owner: &str,
    base: &str,
    collection: &str,
) -> Envelope {
    Envelope {
        id,
        sequence: state.ids.next_sequence(),
        owner: state.store.owner(owner),
        created_at_ms: state.clock.now_ms_of(owner),
        url: crate::domain::self_url::UrlPrefix::new(base, collection),
    }
}

/// Publishes a control-plane view (`wire::control`) to the live feed, built only if someone
/// listens.
pub fn publish_view<T: serde::Serialize>(
    state: &AppState,
    kind: crate::store::feed::FeedKind,
    owner: Option<&str>,
    view: impl FnOnce() -> T,
) {
    publish(state, kind, owner, || {
        serde_json::to_value(view()).unwrap_or_default()
    });
}

/// Tells the live feed a clock moved: one application's (`client_id`), or everyone's.
pub fn clock_moved(state: &AppState, client_id: Option<&str>, by_ms: i64) {
    publish_view(
        state,
        crate::store::feed::FeedKind::Clock,
        client_id,
        || crate::wire::control::ClockEvent {
            by_ms,
            client_id: client_id.map(str::to_string),
        },
    );
}

/// Publishes to the live feed, stamped on `owner`'s clock; `data` (a typed part or a JSON
/// value) is built only if someone listens.
pub fn publish<D: Into<crate::store::feed::Data>>(
    state: &AppState,
    kind: crate::store::feed::FeedKind,
    owner: Option<&str>,
    data: impl FnOnce() -> D,
) {
    state.store.feed.publish(
        kind,
        owner,
        || owner.map_or_else(|| state.clock.now_ms(), |o| state.clock.now_ms_of(o)),
        || data().into(),
    );
}
