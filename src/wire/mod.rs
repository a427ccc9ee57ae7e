//! Serde types shaped exactly like Kopo Kopo's JSON, key by key and in the reference's key
//! order. Wire types convert to and from domain types; they hold no behaviour of their own.

pub mod control;
pub mod incoming_payments;
pub mod json;
pub mod oauth;
pub mod payment_links;
pub mod polling;
pub mod recipients;
pub mod reversals;
pub mod send_money;
pub mod sms_notifications;
pub mod webhooks;

mod document;

pub use self::document::{
    Data, Document, ErrorBody, Links, LinksRequest, SelfLink, Status, amount_number,
    callback_url_of,
};

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

pub use crate::domain::lenient_string;
