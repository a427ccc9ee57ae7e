//! Payment links: a link a customer opens to pay a fixed amount into a till, active for seven
//! days unless paid or cancelled first.

use super::metadata::Metadata;
use super::money::{Amount, Currency};
use super::{Envelope, owned_by_envelope};

pub const LIFETIME_MS: i64 = 7 * 24 * 3600 * 1000;

#[derive(Debug, Clone)]
pub struct PaymentLink {
    pub meta: Envelope,
    pub till_number: String,
    pub till_name: String,
    pub currency: Currency,
    pub amount: Amount,
    pub payment_reference: Option<String>,
    pub note: Option<String>,
    pub metadata: Option<Metadata>,
    pub callback_url: String,
    pub expires_at_ms: i64,
    /// The public URL customers open, served by the sandbox (`/links/{token}`).
    pub link: String,
    pub link_token: uuid::Uuid,
    pub state: LinkState,
    /// The STK prompt of the latest checkout on the link's page, if any.
    pub checkout: Option<uuid::Uuid>,
}

#[derive(Debug, Clone)]
pub enum LinkState {
    Active,
    Paid {
        transaction_reference: String,
        sender_phone_number: String,
        at_ms: i64,
    },
    Cancelled,
    Expired,
}

impl LinkState {
    pub fn status(&self) -> &'static str {
        match self {
            Self::Active => "Active",
            Self::Paid { .. } => "Paid",
            Self::Cancelled => "Cancelled",
            Self::Expired => "Expired",
        }
    }
}

owned_by_envelope!(PaymentLink => |l| !matches!(l.state, LinkState::Active));
