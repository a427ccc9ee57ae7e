//! Webhook subscriptions: which events an application wants, and where.

use super::{AppState, new_envelope};
use crate::domain::webhooks::{NewSubscription, WebhookSubscription};

/// Records a subscription; its URL under `collection`.
pub fn subscribe(
    state: &AppState,
    owner: &str,
    base: &str,
    collection: &str,
    new: NewSubscription,
) -> String {
    let subscription = WebhookSubscription {
        meta: new_envelope(state, owner, base, collection),
        event_type: new.event_type,
        url: new.url,
        scope: new.scope,
        enable_daraja_payload: new.enable_daraja_payload,
    };
    let url = subscription.meta.self_url().to_string();
    tracing::debug!(id = %subscription.meta.id, topic = new.event_type.as_str(), "webhook subscription created");
    state.store.webhook_subscriptions.insert(subscription);
    url
}
