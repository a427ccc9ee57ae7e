//! `POST /api/v2/payment_links` and the payment link document (reference, "Payment Links").
//! `GET` and the callback share the callback's fuller shape.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::document::{Document, Links, LinksRequest, amount_number};
use crate::clock::{format_millis, to_eat};
use crate::domain::lenient_string;
use crate::domain::metadata::Metadata;
use crate::domain::payment_link::{LinkState, PaymentLink};

#[derive(Debug, Deserialize)]
pub struct PaymentLinkRequest {
    #[serde(default, deserialize_with = "lenient_string")]
    pub till_number: Option<String>,
    pub currency: Option<String>,
    pub amount: Option<Value>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub payment_reference: Option<String>,
    pub note: Option<String>,
    pub metadata: Option<Value>,
    #[serde(rename = "_links")]
    pub links: Option<LinksRequest>,
    /// A callback URL sent at the top level, where it is not read: the error says where it goes.
    pub callback_url: Option<serde::de::IgnoredAny>,
}

#[derive(Debug, Serialize)]
pub struct PaymentLinkAttributes {
    pub status: &'static str,
    pub created_at: String,
    pub till_name: String,
    pub till_number: String,
    pub payment_reference: Option<String>,
    pub currency: &'static str,
    pub amount: Value,
    pub note: Option<String>,
    pub payment_link: LinkView,
    pub errors: Option<Vec<String>>,
    pub metadata: Option<Box<serde_json::value::RawValue>>,
    #[serde(rename = "_links")]
    pub links: Links,
}

#[derive(Debug, Serialize)]
pub struct LinkView {
    pub status: &'static str,
    pub expires_at: String,
    pub link: String,
    pub transaction_reference: Option<String>,
    pub sender_phone_number: Option<String>,
    pub origination_time: Option<String>,
}

impl From<&PaymentLink> for Document<PaymentLinkAttributes> {
    fn from(l: &PaymentLink) -> Self {
        let (transaction_reference, sender_phone_number, origination_time) = match &l.state {
            LinkState::Paid {
                transaction_reference,
                sender_phone_number,
                at_ms,
            } => (
                Some(transaction_reference.clone()),
                Some(sender_phone_number.clone()),
                Some(format_millis(to_eat(*at_ms))),
            ),
            _ => (None, None, None),
        };
        Document::new(
            l.meta.id,
            "payment_link",
            PaymentLinkAttributes {
                status: "Processed",
                created_at: format_millis(to_eat(l.meta.created_at_ms)),
                till_name: l.till_name.clone(),
                till_number: l.till_number.clone(),
                payment_reference: l.payment_reference.clone(),
                currency: l.currency.code(),
                amount: amount_number(l.amount.decimal()),
                note: l.note.clone(),
                payment_link: LinkView {
                    status: l.state.status(),
                    expires_at: format_millis(to_eat(l.expires_at_ms)),
                    link: l.link.clone(),
                    transaction_reference,
                    sender_phone_number,
                    origination_time,
                },
                errors: None,
                metadata: l.metadata.as_ref().map(Metadata::to_raw),
                links: Links::new(&l.callback_url, &l.meta),
            },
        )
    }
}
