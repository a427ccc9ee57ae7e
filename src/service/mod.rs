//! The service floor: what a request or a due job does to the world. Accept and settle
//! resources, decide with the script's rules, record received money, emit webhook events and
//! queue signed callbacks; the scheduler and the dispatcher are driven from here. Handlers
//! parse, call a service, render; scenarios are applied through services too.

pub mod jobs;
pub mod lifecycle;
pub mod simulate;
mod state;
pub mod timeline;

pub use self::state::{AppState, Settings};

use crate::domain::Envelope;

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
        owner: owner.to_string(),
        created_at_ms: state.clock.now_ms_of(owner),
        self_url: format!("{base}{collection}/{id}"),
    }
}
