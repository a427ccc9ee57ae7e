//! Polling: a request for the transactions a till or the company received in a window, listed
//! in its result when it falls due.

use super::{AppState, accept, new_envelope};
use crate::domain::polling::{NewPolling, Polling, PollingState};
use crate::scheduler::Settle;

/// Records a polling request and schedules its result; its URL under `collection`.
pub fn request(
    state: &AppState,
    owner: &str,
    base: &str,
    collection: &str,
    request: NewPolling,
) -> String {
    let polling = Polling {
        meta: new_envelope(state, owner, base, collection),
        scope: request.scope,
        from_time: request.from_time,
        to_time: request.to_time,
        callback_url: request.callback_url,
        state: PollingState::Pending,
    };
    let url = polling.meta.self_url().to_string();
    let due = Some(state.settings.callback_delay);
    accept(state, &state.store.pollings, polling, Settle::Polling, due);
    url
}
