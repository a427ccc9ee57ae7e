//! Transaction SMS notifications: accepted once their fields are present, like the real API;
//! the webhook event they name is looked up when the result is decided.

use super::{AppState, accept, new_envelope};
use crate::domain::sms_notification::{NewSmsNotification, SmsNotification, SmsState};
use crate::scheduler::Settle;

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
    accept(
        state,
        &state.store.sms_notifications,
        notification,
        Settle::SmsNotification,
        due,
    );
    url
}
