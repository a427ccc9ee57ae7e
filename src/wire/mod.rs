//! Serde types shaped exactly like Kopo Kopo's JSON, key by key and in the reference's key
//! order. Wire types convert to and from domain types; they hold no behaviour of their own.

pub mod incoming_payments;
pub mod oauth;
pub mod payment_links;
pub mod polling;
pub mod recipients;
pub mod reversals;
pub mod send_money;
pub mod sms_notifications;
pub mod webhooks;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};
use uuid::Uuid;

use crate::domain::{Envelope, Invalid};

/// `{"data": {"id", "type", "attributes"}}`: the envelope of every API document.
#[derive(Debug, Serialize)]
pub struct Document<A> {
    pub data: Data<A>,
}

#[derive(Debug, Serialize)]
pub struct Data<A> {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub attributes: A,
}

impl<A> Document<A> {
    pub fn new(id: Uuid, kind: &'static str, attributes: A) -> Self {
        Self {
            data: Data {
                id,
                kind,
                attributes,
            },
        }
    }
}

/// A document's `status`, as its JSON says it (the live feed reports it without rendering).
pub trait Status {
    fn status(&self) -> &str;
}

impl<A: Status> Status for Document<A> {
    fn status(&self) -> &str {
        self.data.attributes.status()
    }
}

impl Status for Value {
    fn status(&self) -> &str {
        self["status"].as_str().unwrap_or_default()
    }
}

/// Implements [`Status`] for attribute structs with a `status` field.
macro_rules! status_field {
    ($($t:ty),* $(,)?) => {$(
        impl $crate::wire::Status for $t {
            fn status(&self) -> &str {
                self.status
            }
        }
    )*};
}

status_field!(
    incoming_payments::Attributes,
    send_money::SendMoneyAttributes,
    polling::PollingAttributes,
    sms_notifications::SmsAttributes,
    reversals::ReversalAttributes,
    payment_links::PaymentLinkAttributes,
);

/// `_links` of a resource that reports to a callback URL.
#[derive(Debug, Serialize)]
pub struct Links {
    pub callback_url: String,
    #[serde(rename = "self")]
    pub self_url: String,
}

impl Links {
    pub fn new(callback_url: &str, meta: &Envelope) -> Self {
        Self {
            callback_url: callback_url.to_string(),
            self_url: meta.self_url().to_string(),
        }
    }
}

/// `_links` of a resource without a callback.
#[derive(Debug, Serialize)]
pub struct SelfLink {
    #[serde(rename = "self")]
    pub self_url: String,
}

/// The `_links` object of a request.
#[derive(Debug, Default, Deserialize)]
pub struct LinksRequest {
    pub callback_url: Option<String>,
}

/// The callback URL of a request's `_links`, validated.
pub fn callback_url_of(links: Option<&LinksRequest>) -> Result<String, Invalid> {
    incoming_payments::callback_url(links.and_then(|l| l.callback_url.as_deref()))
}

/// An amount as a JSON number (payment links show `"amount": 350`): an integer when whole.
pub fn amount_number(amount: Decimal) -> Value {
    let n = amount.normalize();
    if n.scale() == 0 {
        if let Some(i) = n.to_i64() {
            return Value::Number(Number::from(i));
        }
    }
    n.to_f64()
        .and_then(Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

/// The reference's error body: `{"error_code": 400, "error_message": "..."}`.
#[derive(Debug, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error_code: u16,
    pub error_message: String,
}

pub use crate::domain::lenient_string;
