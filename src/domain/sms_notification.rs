//! Transaction SMS notifications: a message to the customer who paid, naming the
//! buygoods_transaction_received webhook event of their payment.

use super::{Envelope, owned_by_envelope};

#[derive(Debug, Clone)]
pub struct SmsNotification {
    pub meta: Envelope,
    pub webhook_event_reference: String,
    pub message: String,
    pub callback_url: String,
    pub state: SmsState,
}

/// A transaction SMS notification request, parsed: what
/// `service::sms_notifications::request` records.
#[derive(Debug, Clone)]
pub struct NewSmsNotification {
    pub webhook_event_reference: String,
    pub message: String,
    pub callback_url: String,
}

#[derive(Debug, Clone)]
pub enum SmsState {
    Pending,
    /// Sent to this phone number.
    Success {
        phone_number: String,
    },
    Failed {
        errors: Vec<String>,
    },
}

impl SmsState {
    pub fn status(&self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Success { .. } => "Success",
            Self::Failed { .. } => "Failed",
        }
    }
}

/// A message the sandbox "sent" to a customer's phone, kept in an outbox for inspection.
#[derive(Debug, Clone)]
pub struct SentSms {
    /// Shares the notification's id.
    pub meta: Envelope,
    pub phone_number: String,
    pub message: String,
    pub webhook_event_reference: String,
}

owned_by_envelope!(SmsNotification => |n| !matches!(n.state, SmsState::Pending));
owned_by_envelope!(SentSms);
