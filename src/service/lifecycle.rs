//! What happens when work falls due, and the side effects shared by several resources:
//! settling pending resources, recording received transactions in the ledger, and emitting
//! webhook events. Runs on the scheduler's worker (and the payment-link page), never inside a
//! store lock held across an await.

use std::sync::Arc;

use serde::Serialize;
use uuid::Uuid;

use crate::domain::Verdict;
use crate::domain::delivery::{CallbackKind, ResourceRef};
use crate::domain::handset::{Answer, Behaviour};
use crate::domain::incoming_payment::Outcome;
use crate::domain::ledger::{
    Account, Payer, Transaction, TransactionFacts, TransactionKind, TransactionStatus,
};
use crate::domain::payment_link::{LinkState, PaymentLink};
use crate::domain::phone::PhoneNumber;
use crate::domain::polling::PollingState;
use crate::domain::reversal::ReversalState;
use crate::domain::sms_notification::{SentSms, SmsState};
use crate::domain::webhooks::{EventType, WebhookEvent};
use crate::scheduler::{Job, Settle};
use crate::service::AppState;
use crate::store::Memo;
use crate::store::feed::{ResourceData, WebhookData};
use crate::wire::webhooks::{daraja_payload, event_payload};
use crate::wire::{Document, Status};

/// Queues a result callback signed with the owner's API key.
pub fn call_back(
    state: &AppState,
    owner: &str,
    kind: CallbackKind,
    id: Uuid,
    url: Arc<str>,
    document: &impl Serialize,
) {
    let Some(app) = state.store.application(owner) else {
        return;
    };
    state
        .dispatcher
        .enqueue(owner, &app.api_key, ResourceRef { kind, id }, url, document);
}

/// Applies `settle` to a resource under its lock; when it changed state, calls back with the
/// document rendered at that moment, so GET and the callback never disagree, and returns the
/// resource as it settled.
fn settle_and_call_back<T, D>(
    state: &AppState,
    collection: &crate::store::Collection<T>,
    kind: CallbackKind,
    id: Uuid,
    settle: impl FnOnce(&mut T) -> bool,
    callback_url: impl FnOnce(&T) -> Option<Arc<str>>,
    owner: impl FnOnce(&T) -> Arc<str>,
) -> Option<Arc<T>>
where
    T: crate::domain::Owned + Clone,
    D: for<'a> From<&'a T> + Serialize + Status,
{
    let (settled, resource) = collection.update_shared(id, |resource| {
        let owner = owner(resource);
        // An early callback: GET keeps showing the document from before the result.
        let early = state.scenarios.callback_faults.early(kind, &owner);
        let before = early.and_then(|_| serde_json::to_value(D::from(resource)).ok());
        settle(resource).then(|| {
            (
                owner,
                callback_url(resource),
                D::from(resource),
                early,
                before,
            )
        })
    })?;
    let (owner, url, document, early, before) = settled?;
    tracing::debug!(%id, ?kind, "settled");
    super::publish(
        state,
        crate::store::feed::FeedKind::Resource,
        Some(&owner),
        || ResourceData {
            resource: ResourceRef { kind, id },
            status: document.status().into(),
        },
    );
    if let (Some(lead), Some(before)) = (early, before) {
        let until = state
            .clock
            .now_ms_of(&owner)
            .saturating_add(crate::clock::millis(lead));
        state.scenarios.hide(id, &owner, until, before);
    }
    if let Some(url) = url {
        call_back(state, &owner, kind, id, url, &document);
    }
    Some(resource)
}

/// STK prompts still waiting for an answer, oldest first: on one phone and of one application
/// when given.
pub fn pending_prompts(
    state: &AppState,
    phone: Option<&PhoneNumber>,
    client_id: Option<&str>,
) -> Vec<crate::domain::incoming_payment::IncomingPayment> {
    let mut pending = state.store.incoming_payments.filter_any(|p| {
        p.state.is_pending()
            && phone.is_none_or(|ph| &p.request.subscriber.phone_number == ph)
            && client_id.is_none_or(|c| *c == *p.owner)
    });
    pending.sort_by_key(|p| p.sequence);
    pending
}

/// A pending STK push falls due: its phone answers as its behaviour says, or, if it waits for
/// a control-plane answer, the prompt expires after the STK timeout.
pub fn prompt_due(state: &AppState, id: Uuid) {
    let Some((owner, phone, initiated_at_ms)) = state.store.incoming_payments.inspect(id, |p| {
        (
            p.owner.clone(),
            p.request.subscriber.phone_number,
            p.initiated_at_ms,
        )
    }) else {
        return;
    };
    let forced = state
        .store
        .incoming_payments
        .inspect(id, |p| p.forced().cloned())
        .flatten();
    match forced {
        // A pending verdict is never scheduled (`service::due`); kept for completeness.
        Some(Verdict::Pending) => return,
        Some(Verdict::Success) => {
            settle_prompt(state, id, Outcome::Paid);
            return;
        }
        Some(Verdict::Failure(error)) => {
            let error = error.unwrap_or_else(|| "Request cancelled by user".into());
            settle_prompt(state, id, Outcome::Failed(error));
            return;
        }
        None => {}
    }
    match state.store.handsets.behaviour(&owner, &phone) {
        Behaviour::Auto(answer) => {
            answer_prompt(state, id, answer);
        }
        Behaviour::Manual => {
            super::publish(
                state,
                crate::store::feed::FeedKind::Prompt,
                Some(&owner),
                || serde_json::json!({"id": id, "phone_number": phone.to_string(), "status": "waiting"}),
            );
            let expires_at =
                initiated_at_ms.saturating_add(crate::clock::millis(state.settings.stk_timeout));
            let wait = (expires_at - state.clock.now_ms_of(&owner)).max(0) as u64;
            state.scheduler.schedule(
                Job::Settle(Settle::IncomingPaymentExpiry, id),
                &owner,
                std::time::Duration::from_millis(wait),
            );
        }
    }
}

/// Answers a pending STK prompt: the payment settles with the answer's outcome, calls back,
/// and a payment becomes a received transaction. False if it was no longer pending.
pub fn answer_prompt(state: &AppState, id: Uuid, answer: Answer) -> bool {
    settle_prompt(state, id, answer.outcome())
}

/// Settles a pending STK push with `outcome`; see [`answer_prompt`].
fn settle_prompt(state: &AppState, id: Uuid, outcome: Outcome) -> bool {
    // Only a pending push is settled; one settled already is not even touched (its
    // transaction holds it: a write would copy it).
    let Some(owner) = state
        .store
        .incoming_payments
        .inspect(id, |p| p.state.is_pending().then(|| p.owner.clone()))
        .flatten()
    else {
        return false;
    };
    let now_ms = state.clock.now_ms_of(&owner);
    let Some(push) = settle_and_call_back::<_, Document<crate::wire::incoming_payments::Attributes>>(
        state,
        &state.store.incoming_payments,
        Settle::IncomingPayment.callback_kind(),
        id,
        |p| p.settle(outcome, now_ms),
        // A link's checkout prompt: the link calls back instead.
        |p| {
            p.for_link()
                .is_none()
                .then(|| p.request.callback_url.clone())
        },
        |p| p.owner.clone(),
    ) else {
        return false;
    };
    if let Some(tx) = Transaction::paid_by(push.clone(), || state.ids.next_sequence()) {
        if let Some(link) = push.for_link() {
            // Paid on its page: the link reports Paid (a link that ended meanwhile stays as
            // it is; the money arrived all the same).
            let paid = LinkState::Paid {
                transaction_reference: tx.reference().to_string(),
                sender_phone_number: push.request.subscriber.phone_number.to_string(),
                at_ms: now_ms,
            };
            finish_payment_link(state, link, paid);
        }
        receive_transaction(state, tx);
    }
    true
}

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
                kind: CallbackKind::WebhookEvent,
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

pub fn settle_send_money(state: &AppState, id: Uuid) {
    settle_and_call_back::<_, crate::wire::send_money::SendMoneyView>(
        state,
        &state.store.send_money,
        Settle::SendMoney.callback_kind(),
        id,
        |s| s.settle(state.clock.now_ms_of(&s.meta.owner)),
        |s| Some(s.callback_url.as_str().into()),
        |s| s.meta.owner.clone(),
    );
}

pub fn settle_polling(state: &AppState, id: Uuid) {
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
    settle_and_call_back::<_, Document<crate::wire::polling::PollingAttributes>>(
        state,
        &state.store.pollings,
        Settle::Polling.callback_kind(),
        id,
        |p| {
            if !matches!(p.state, PollingState::Pending) {
                return false;
            }
            p.state = PollingState::Success { transactions };
            true
        },
        |p| Some(p.callback_url.as_str().into()),
        |p| p.meta.owner.clone(),
    );
}

pub fn settle_sms_notification(state: &AppState, id: Uuid) {
    let Some((owner, reference)) = state.store.sms_notifications.inspect(id, |n| {
        (n.meta.owner.clone(), n.webhook_event_reference.clone())
    }) else {
        return;
    };
    // The reference must name a buygoods_transaction_received event this sandbox sent.
    let phone = state
        .store
        .webhook_events
        .find(&reference, &owner)
        .filter(|e| e.topic == EventType::BuygoodsTransactionReceived)
        .and_then(|e| e.sender_phone().map(str::to_string));
    let mut sent: Option<SentSms> = None;
    settle_and_call_back::<_, Document<crate::wire::sms_notifications::SmsAttributes>>(
        state,
        &state.store.sms_notifications,
        Settle::SmsNotification.callback_kind(),
        id,
        |n| {
            if !matches!(n.state, SmsState::Pending) {
                return false;
            }
            if let Some(phone_number) = &phone {
                let mut meta = n.meta.clone();
                meta.created_at_ms = state.clock.now_ms_of(&n.meta.owner);
                sent = Some(SentSms {
                    meta,
                    phone_number: phone_number.clone(),
                    message: n.message.clone(),
                    webhook_event_reference: n.webhook_event_reference.clone(),
                });
            }
            n.state = match phone {
                Some(phone_number) => SmsState::Success { phone_number },
                None => SmsState::Failed {
                    errors: vec![
                        "Webhook event reference does not name a buygoods_transaction_received \
                         webhook event"
                            .into(),
                    ],
                },
            };
            true
        },
        |n| Some(n.callback_url.as_str().into()),
        |n| n.meta.owner.clone(),
    );
    if let Some(sms) = sent {
        send_sms(state, sms);
    }
}

/// An SMS goes out: into the outbox, and onto the live feed.
fn send_sms(state: &AppState, sms: SentSms) {
    super::publish(
        state,
        crate::store::feed::FeedKind::Sms,
        Some(&sms.meta.owner),
        || {
            serde_json::json!({
                "id": sms.meta.id,
                "phone_number": sms.phone_number,
                "message": sms.message,
            })
        },
    );
    state.store.sms_outbox.insert(sms);
}

pub fn settle_reversal(state: &AppState, id: Uuid) {
    let Some(owner) = state.store.reversals.inspect(id, |r| r.meta.owner.clone()) else {
        return;
    };
    let now_ms = state.clock.now_ms_of(&owner);
    let mut outcome: Option<(Uuid, bool, String)> = None;
    settle_and_call_back::<_, Document<crate::wire::reversals::ReversalAttributes>>(
        state,
        &state.store.reversals,
        Settle::Reversal.callback_kind(),
        id,
        |r| {
            if !matches!(r.state, ReversalState::Scheduled) {
                return false;
            }
            r.state = match &r.failure {
                None => ReversalState::Processed { at_ms: now_ms },
                Some(error) => ReversalState::Cancelled {
                    at_ms: now_ms,
                    errors: vec![error.clone()],
                },
            };
            outcome = Some((
                r.transaction_id,
                r.failure.is_none(),
                r.meta.self_url().base().to_string(),
            ));
            true
        },
        |r| Some(r.callback_url.as_str().into()),
        |r| r.meta.owner.clone(),
    );
    let Some((tx_id, reversed, base)) = outcome else {
        return;
    };
    let tx = state.store.transactions.update(tx_id, |tx| {
        tx.status = if reversed {
            TransactionStatus::Reversed
        } else {
            TransactionStatus::Received
        };
        tx.clone()
    });
    if let (Some(tx), true) = (tx, reversed) {
        // The money left the till when the reversal was accepted (see http::reversals).
        emit_transaction_event(state, Arc::new(tx), Some((now_ms, &base)));
    }
}

pub fn expire_payment_link(state: &AppState, id: Uuid) {
    finish_payment_link(state, id, LinkState::Expired);
}

/// Ends an active payment link as `to` (Paid, Cancelled or Expired) and calls back. Returns false when
/// the link was not active.
pub fn finish_payment_link(state: &AppState, id: Uuid, to: LinkState) -> bool {
    let mut changed = false;
    settle_and_call_back::<_, Document<crate::wire::payment_links::PaymentLinkAttributes>>(
        state,
        &state.store.payment_links,
        Settle::PaymentLinkExpiry.callback_kind(),
        id,
        |l| {
            if !matches!(l.state, LinkState::Active) {
                return false;
            }
            l.state = to;
            changed = true;
            true
        },
        |l| Some(l.callback_url.as_str().into()),
        |l| l.meta.owner.clone(),
    );
    changed
}

/// A customer pays an active payment link: the link reports Paid (and calls back), and the
/// payment is a Buygoods transaction received into the link's till. False if not active.
pub fn pay_payment_link(state: &AppState, link: &PaymentLink, phone: PhoneNumber) -> bool {
    let now_ms = state.clock.now_ms_of(&link.meta.owner);
    let reference = state.ids.mpesa_reference();
    let paid = LinkState::Paid {
        transaction_reference: reference.clone(),
        sender_phone_number: phone.to_string(),
        at_ms: now_ms,
    };
    if !finish_payment_link(state, link.meta.id, paid) {
        return false;
    }
    receive_transaction(
        state,
        Transaction::new(
            state.ids.next_sequence(),
            TransactionFacts {
                id: state.ids.uuid(),
                owner: link.meta.owner.clone(),
                reference,
                till_number: link.till_number.clone(),
                amount: link.amount,
                currency: link.currency,
                originated_at_ms: now_ms,
                kind: TransactionKind::Buygoods(Arc::new(Payer::new(phone, None, None, None))),
                base_url: link.meta.self_url().base().into(),
            },
        ),
    );
    true
}
