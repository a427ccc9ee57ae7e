//! Transaction SMS notifications: accepted once their fields are present, like the real API;
//! the webhook event they name is looked up when the result is decided.

use super::resource::{Documented, Resource};
use super::settle::settle_and_call_back;
use super::{AppState, accept, new_envelope};
use crate::domain::kinds::ResourceKind;
use crate::domain::sms_notification::SentSms;
use crate::domain::sms_notification::{NewSmsNotification, SmsNotification, SmsState};
use crate::domain::webhooks::EventType;
use crate::store::{Collection, Store};
use crate::wire::Document;
use crate::wire::sms_notifications::SmsAttributes;
use uuid::Uuid;

/// Records an SMS notification and schedules its result; its URL under `collection`.
pub fn request(
    state: &AppState,
    owner: &str,
    base: &str,
    collection: &str,
    request: NewSmsNotification,
) -> String {
    let notification = SmsNotification {
        meta: new_envelope(state, owner, base, collection),
        webhook_event_reference: request.webhook_event_reference,
        message: request.message,
        callback_url: request.callback_url,
        state: SmsState::Pending,
    };
    let url = notification.meta.self_url().to_string();
    let due = Some(state.settings.callback_delay);
    accept(state, notification, due);
    url
}

fn settle_sms_notification(state: &AppState, id: Uuid) {
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
    settle_and_call_back::<SmsNotification>(
        state,
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
    );
    if let Some(sms) = sent {
        send_sms(state, sms);
    }
}

/// An SMS goes out: into the outbox, and onto the live feed.
fn send_sms(state: &AppState, sms: SentSms) {
    super::publish_view(
        state,
        crate::store::feed::FeedKind::Sms,
        Some(&sms.meta.owner),
        || crate::wire::control::SmsEvent {
            id: sms.meta.id,
            phone_number: sms.phone_number.clone(),
            message: sms.message.clone(),
        },
    );
    state.store.sms_outbox.insert(sms);
}

impl Resource for SmsNotification {
    const KIND: ResourceKind = ResourceKind::TransactionSmsNotification;

    fn collection(store: &Store) -> &Collection<Self> {
        &store.sms_notifications
    }

    fn status(&self) -> &'static str {
        self.state.status()
    }

    fn settle(state: &AppState, id: Uuid) {
        settle_sms_notification(state, id);
    }
}

impl Documented for SmsNotification {
    const WHAT: &'static str = "Transaction SMS notification";
    type Document = Document<SmsAttributes>;
}
