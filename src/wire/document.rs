//! What every document shares: the `{"data": …}` envelope, its status, `_links`, amounts as
//! numbers and the error body. The resources' own files build on these.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};
use uuid::Uuid;

use crate::domain::{Envelope, Invalid, required_text};

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

/// An absolute http(s) URL with a host, kept as the client wrote it (it is echoed back in
/// `_links.callback_url`). Plain http is accepted: sandbox receivers are usually local.
pub fn callback_url(value: Option<&str>) -> Result<String, Invalid> {
    let text = required_text(value, "Callback url")?;
    crate::domain::limits::check_url(&text, "Callback url").map(|_| text)
}

/// The callback URL of a request's `_links`, validated; when it is missing and one was sent at
/// the top level (`misplaced`), the error says where it goes.
pub fn callback_url_of(links: Option<&LinksRequest>, misplaced: bool) -> Result<String, Invalid> {
    let url = links.and_then(|l| l.callback_url.as_deref());
    if url.is_none() && misplaced {
        return Err(Invalid(
            "Callback url can't be blank: it goes in _links.callback_url, not at the top level"
                .into(),
        ));
    }
    callback_url(url)
}

/// An amount as a JSON number (payment links show `"amount": 350`): an integer when whole.
pub fn amount_number(amount: Decimal) -> Value {
    let n = amount.normalize();
    if n.scale() == 0
        && let Some(i) = n.to_i64()
    {
        return Value::Number(Number::from(i));
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
