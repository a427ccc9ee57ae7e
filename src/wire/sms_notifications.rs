//! `POST /api/v1/transaction_sms_notifications` and its document (reference, "Transaction
//! SMS Notifications").

use serde::{Deserialize, Serialize};

use super::document::{Document, Links, LinksRequest, callback_url_of};
use crate::domain::sms_notification::{NewSmsNotification, SmsNotification, SmsState};
use crate::domain::{Invalid, required_text};

#[derive(Debug, Deserialize)]
pub struct SmsNotificationRequest {
    pub webhook_event_reference: Option<String>,
    pub message: Option<String>,
    #[serde(rename = "_links")]
    pub links: Option<LinksRequest>,
    /// A callback URL sent at the top level, where it is not read: the error says where it goes.
    pub callback_url: Option<serde::de::IgnoredAny>,
}

impl TryFrom<SmsNotificationRequest> for NewSmsNotification {
    type Error = Invalid;

    fn try_from(body: SmsNotificationRequest) -> Result<Self, Invalid> {
        Ok(Self {
            webhook_event_reference: required_text(
                body.webhook_event_reference.as_deref(),
                "Webhook event reference",
            )?,
            message: required_text(body.message.as_deref(), "Message")?,
            callback_url: callback_url_of(body.links.as_ref(), body.callback_url.is_some())?,
        })
    }
}

#[derive(Debug, Serialize)]
pub struct SmsAttributes {
    pub status: &'static str,
    pub message: String,
    pub webhook_event_reference: String,
    /// Only on failure: the reference's success document has no `errors`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<String>>,
    /// Not in the reference's example; the Python SDK's result processing reads it.
    pub metadata: Option<serde_json::Value>,
    #[serde(rename = "_links")]
    pub links: Links,
}

impl From<&SmsNotification> for Document<SmsAttributes> {
    fn from(n: &SmsNotification) -> Self {
        Document::new(
            n.meta.id,
            "transaction_sms_notification",
            SmsAttributes {
                status: n.state.status(),
                message: n.message.clone(),
                webhook_event_reference: n.webhook_event_reference.clone(),
                errors: match &n.state {
                    SmsState::Failed { errors } => Some(errors.clone()),
                    _ => None,
                },
                metadata: None,
                links: Links::new(&n.callback_url, &n.meta),
            },
        )
    }
}
