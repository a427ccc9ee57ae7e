//! Polling: a request for the transactions a till or the company received in a window, listed
//! in its result when it falls due.

use super::resource::{Documented, Resource};
use super::settle::settle_and_call_back;
use super::{AppState, accept, new_envelope};
use crate::domain::kinds::ResourceKind;
use crate::domain::polling::{NewPolling, Polling, PollingState};
use crate::store::{Collection, Store};
use crate::wire::Document;
use crate::wire::polling::PollingAttributes;
use uuid::Uuid;

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
    accept(state, polling, due);
    url
}

fn settle_polling(state: &AppState, id: Uuid) {
    // Read the window first: the transactions map is not touched under the polling's lock.
    let Some((owner, scope, from, to)) = state.store.pollings.inspect(id, |p| {
        (
            p.meta.owner.clone(),
            p.scope.clone(),
            p.from_time.1.timestamp_millis(),
            p.to_time.1.timestamp_millis(),
        )
    }) else {
        return;
    };
    let mut transactions = state.store.transactions.filter(&owner, |tx| {
        scope.covers(tx.till_number()) && (from..=to).contains(&tx.originated_at_ms())
    });
    transactions.sort_by_key(|tx| (tx.originated_at_ms(), tx.sequence));
    settle_and_call_back::<Polling>(
        state,
        id,
        |p| {
            if !matches!(p.state, PollingState::Pending) {
                return false;
            }
            p.state = PollingState::Success { transactions };
            true
        },
        |p| Some(p.callback_url.as_str().into()),
    );
}

impl Resource for Polling {
    const KIND: ResourceKind = ResourceKind::Polling;

    fn collection(store: &Store) -> &Collection<Self> {
        &store.pollings
    }

    fn status(&self) -> &'static str {
        self.state.status()
    }

    fn settle(state: &AppState, id: Uuid) {
        settle_polling(state, id);
    }
}

impl Documented for Polling {
    const WHAT: &'static str = "Polling request";
    type Document = Document<PollingAttributes>;
}
