//! `POST /api/v2/incoming_payments` and the incoming payment document returned by `GET` and
//! posted as the result callback (reference, "Receive M-PESA payments").

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::document::{Document, Links, LinksRequest, callback_url_of};
use crate::clock::{format_millis, format_seconds, to_eat};
use crate::domain::incoming_payment::{
    IncomingPayment, NewIncomingPayment, PaymentState, Subscriber,
};
use crate::domain::lenient_string;
use crate::domain::metadata::Metadata;
use crate::domain::money::{Amount, Currency};
use crate::domain::phone::PhoneNumber;
use crate::domain::{Invalid, optional_text, required_text};

#[derive(Debug, Deserialize)]
pub struct IncomingPaymentRequest {
    pub payment_channel: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub till_number: Option<String>,
    pub subscriber: Option<SubscriberRequest>,
    pub amount: Option<AmountRequest>,
    pub metadata: Option<Value>,
    #[serde(rename = "_links")]
    pub links: Option<LinksRequest>,
    /// A callback URL sent at the top level, where it is not read: the error says where it goes.
    pub callback_url: Option<serde::de::IgnoredAny>,
}

#[derive(Debug, Deserialize)]
pub struct SubscriberRequest {
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub last_name: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub phone_number: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct AmountRequest {
    pub currency: Option<String>,
    pub value: Option<Value>,
}

impl TryFrom<IncomingPaymentRequest> for NewIncomingPayment {
    type Error = Invalid;

    /// Validates in the order of the reference's parameter table; the first failure wins.
    fn try_from(req: IncomingPaymentRequest) -> Result<Self, Invalid> {
        // Required, but shown nowhere: checked, not kept.
        let channel = required_text(req.payment_channel.as_deref(), "Payment channel")?;
        if !is_mpesa(&channel) {
            return Err(Invalid::expected(
                "Payment channel",
                "an STK push goes through M-PESA: send \"M-PESA STK Push\"",
            ));
        }
        let till_number = required_text(req.till_number.as_deref(), "Till number")?;
        let subscriber = req.subscriber.ok_or_else(|| Invalid::blank("Subscriber"))?;
        let phone_number = PhoneNumber::parse(subscriber.phone_number.as_deref())?;
        let email = optional_text(subscriber.email.as_deref());
        if email
            .as_deref()
            .is_some_and(|e| !e.contains('@') || e.starts_with('@') || e.ends_with('@'))
        {
            return Err(Invalid::malformed("Email"));
        }
        let amount = req.amount.ok_or_else(|| Invalid::blank("Amount"))?;
        let value = Amount::whole_shillings(amount.value.as_ref(), "Amount")?;
        let currency = Currency::parse(amount.currency.as_deref())?;
        let metadata = Metadata::parse(req.metadata.as_ref())?;
        let callback_url = callback_url_of(req.links.as_ref(), req.callback_url.is_some())?;
        Ok(Self {
            till_number: till_number.into(),
            subscriber: Subscriber {
                payer: std::sync::Arc::new(crate::domain::ledger::Payer::new(
                    phone_number,
                    optional_text(subscriber.first_name.as_deref()).as_deref(),
                    optional_text(subscriber.middle_name.as_deref()).as_deref(),
                    optional_text(subscriber.last_name.as_deref()).as_deref(),
                )),
                email: email.map(Into::into),
            },
            amount: value,
            currency,
            metadata,
            callback_url: crate::domain::interned::callback_url(&callback_url),
        })
    }
}

/// Whether a payment channel names M-PESA, in any of the spellings the reference and the
/// SDKs' examples use ("M-PESA STK Push", "M-PESA", "MPESA"): letters and digits only, in
/// any case.
fn is_mpesa(channel: &str) -> bool {
    let letters: String = channel
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    letters.starts_with("MPESA")
}

// --- the document -------------------------------------------------------------------------

pub type IncomingPaymentDocument = Document<Attributes>;

#[derive(Debug, Serialize)]
pub struct Attributes {
    pub initiation_time: String,
    pub status: &'static str,
    pub event: Event,
    pub metadata: Option<Box<serde_json::value::RawValue>>,
    #[serde(rename = "_links")]
    pub links: Links,
}

#[derive(Debug, Serialize)]
pub struct Event {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub resource: Option<BuygoodsResource>,
    pub errors: Option<Vec<String>>,
}

/// The Buygoods transaction a successful push created.
#[derive(Debug, Serialize)]
pub struct BuygoodsResource {
    pub id: Uuid,
    pub reference: String,
    pub origination_time: String,
    pub sender_phone_number: String,
    pub amount: String,
    pub currency: &'static str,
    pub till_number: String,
    pub system: &'static str,
    pub status: &'static str,
    pub sender_first_name: Option<String>,
    pub sender_middle_name: Option<String>,
    pub sender_last_name: Option<String>,
}

impl From<&IncomingPayment> for Document<Attributes> {
    fn from(p: &IncomingPayment) -> Self {
        let req = &p.request;
        let (resource, errors) = match &p.state {
            PaymentState::Pending => (None, None),
            PaymentState::Success { originated_at_ms } => (
                Some(BuygoodsResource {
                    id: p.planned.resource_id,
                    reference: p.planned.reference.to_string(),
                    origination_time: format_seconds(to_eat(*originated_at_ms)),
                    sender_phone_number: req.subscriber.phone_number.to_string(),
                    amount: req.amount.to_string(),
                    currency: req.currency.code(),
                    till_number: req.till_number.to_string(),
                    system: "Lipa Na M-PESA",
                    status: "Received",
                    sender_first_name: req.subscriber.first_name().map(String::from),
                    sender_middle_name: req.subscriber.middle_name().map(String::from),
                    sender_last_name: req.subscriber.last_name().map(String::from),
                }),
                None,
            ),
            PaymentState::Failed { errors } => (None, Some(errors.to_vec())),
        };
        Document::new(
            p.id,
            "incoming_payment",
            Attributes {
                initiation_time: format_millis(to_eat(p.initiated_at_ms)),
                status: p.state.status(),
                event: Event {
                    kind: "Incoming Payment Request",
                    resource,
                    errors,
                },
                metadata: req.metadata.as_ref().map(Metadata::to_raw),
                links: Links {
                    callback_url: req.callback_url.to_string(),
                    self_url: p.self_url().to_string(),
                },
            },
        )
    }
}
