//! Money received: the transaction credited to its till and recorded (for polling and
//! reversals), and its webhook event emitted to the subscribers.

use std::sync::Arc;

use uuid::Uuid;

use super::resource::Resource;
use crate::domain::delivery::{CallbackKind, ResourceRef};
use crate::domain::kinds::ResourceKind;
use crate::domain::ledger::{Account, Transaction};
use crate::domain::webhooks::WebhookEvent;
use crate::service::AppState;
use crate::store::feed::WebhookData;
use crate::store::{Collection, Memo, Store};
use crate::wire::webhooks::{daraja_payload, event_payload};

/// Money received into a till: credits it, records the transaction (polling, reversals) and
/// sends its `*_transaction_received` webhook event, whose id it returns.
pub fn receive_transaction(state: &AppState, tx: Transaction) -> Uuid {
    state.store.ledger.credit(
        tx.owner_id(),
        &Account::Till(tx.till_number().into()),
        tx.amount().decimal(),
        Memo::received(tx.reference()),
    );
    let tx = Arc::new(tx);
    state.store.transactions.insert_shared(tx.clone());
    emit_transaction_event(state, tx, None)
}

/// Sends the webhook event of a transaction received (`reversal: None`) or reversed (when,
/// and the base URL the reversal came through) to every matching subscription, and records
/// it. Returns the event id.
pub fn emit_transaction_event(
    state: &AppState,
    tx: Arc<Transaction>,
    reversal: Option<(i64, &str)>,
) -> Uuid {
    let id = state.ids.uuid();
    let daraja = || reversal.is_none().then(|| daraja_payload(&tx));
    let event = WebhookEvent::of_transaction(id, state.ids.next_sequence(), tx.clone(), reversal);
    emit(state, event, daraja);
    id
}

/// A payload as the compact JSON text it is sent as.
pub fn raw(payload: &serde_json::Value) -> Box<serde_json::value::RawValue> {
    serde_json::value::to_raw_value(payload).expect("a JSON value always serialises")
}

/// Records an event and queues a signed delivery to each subscription it matches, in the
/// shape the subscription chose: the K2Connect payload, or `daraja`'s (rendered once, and only
/// when a subscription asks for it).
pub fn emit(
    state: &AppState,
    event: WebhookEvent,
    daraja: impl FnOnce() -> Option<serde_json::Value>,
) {
    let owner = event.owner_id().clone();
    let mut subscriptions = state
        .store
        .webhook_subscriptions
        .filter(&owner, |s| s.matches(event.topic, event.till_number()));
    subscriptions.sort_by_key(|s| s.meta.sequence);
    if let Some(app) = state.store.application(&owner) {
        let daraja = subscriptions
            .iter()
            .any(|s| s.enable_daraja_payload)
            .then(daraja)
            .flatten();
        let payload = subscriptions
            .iter()
            .any(|s| !(s.enable_daraja_payload && daraja.is_some()))
            .then(|| event_payload(&event));
        for s in subscriptions {
            let resource = ResourceRef {
                kind: CallbackKind::Of(WebhookEvent::KIND),
                id: event.id,
            };
            match (&daraja, s.enable_daraja_payload) {
                (Some(daraja), true) => state.dispatcher.enqueue(
                    &owner,
                    &app.api_key,
                    resource,
                    crate::domain::interned::callback_url(&s.url),
                    daraja,
                ),
                _ => {
                    let payload = payload.as_ref().expect("rendered for this subscription");
                    state.dispatcher.enqueue(
                        &owner,
                        &app.api_key,
                        resource,
                        crate::domain::interned::callback_url(&s.url),
                        payload,
                    )
                }
            };
        }
    }
    tracing::debug!(id = %event.id, topic = event.topic.as_str(), "webhook event");
    super::publish(
        state,
        crate::store::feed::FeedKind::Webhook,
        Some(&owner),
        || WebhookData {
            id: event.id,
            topic: event.topic.as_str(),
            till_number: event.till_number().map(str::to_string),
        },
    );
    state.store.webhook_events.insert(event);
}

/// A webhook event is sent when its transaction is received: nothing falls due for it.
impl Resource for WebhookEvent {
    const KIND: ResourceKind = ResourceKind::WebhookEvent;

    fn collection(store: &Store) -> &Collection<Self> {
        &store.webhook_events
    }

    fn status(&self) -> &'static str {
        ""
    }

    fn settle(_: &AppState, _: Uuid) {}
}
