//! `POST /api/v2/polling` and the polling document (reference, "Polling").

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::document::{Document, Links, LinksRequest, callback_url_of};
use crate::clock::{format_millis, format_seconds, to_eat};
use crate::domain::Invalid;
use crate::domain::Scope;
use crate::domain::ledger::{Sender, Transaction, TransactionStatus};
use crate::domain::lenient_string;
use crate::domain::polling::{NewPolling, Polling, PollingState, instant};

#[derive(Debug, Deserialize)]
pub struct PollingRequest {
    pub scope: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub scope_reference: Option<String>,
    pub from_time: Option<String>,
    pub to_time: Option<String>,
    #[serde(rename = "_links")]
    pub links: Option<LinksRequest>,
    /// A callback URL sent at the top level, where it is not read: the error says where it goes.
    pub callback_url: Option<serde::de::IgnoredAny>,
}

impl TryFrom<PollingRequest> for NewPolling {
    type Error = Invalid;

    fn try_from(body: PollingRequest) -> Result<Self, Invalid> {
        let scope = Scope::parse(body.scope.as_deref(), body.scope_reference.as_deref())?;
        let from_time = instant(body.from_time.as_deref(), "From time")?;
        let to_time = instant(body.to_time.as_deref(), "To time")?;
        if to_time.1 < from_time.1 {
            return Err(Invalid("To time must not be before from time".into()));
        }
        Ok(Self {
            scope,
            from_time,
            to_time,
            callback_url: callback_url_of(body.links.as_ref(), body.callback_url.is_some())?,
        })
    }
}

#[derive(Debug, Serialize)]
pub struct PollingAttributes {
    pub status: &'static str,
    pub created_at: String,
    pub from_time: String,
    pub to_time: String,
    pub transactions: Vec<Value>,
    pub scope: &'static str,
    pub scope_reference: Option<String>,
    /// Not in the reference's example; the Python SDK's result processing reads it.
    pub metadata: Option<Value>,
    #[serde(rename = "_links")]
    pub links: Links,
}

/// A transaction as polling lists it: `{"type", "resource"}` in the reference's key order.
pub fn polled_transaction(tx: &Transaction) -> Value {
    let origination = format_seconds(to_eat(tx.originated_at_ms()));
    match tx.sender() {
        Sender::Buygoods(payer) => json!({
            "type": "Buygoods Transaction",
            "resource": {
                "id": tx.id(),
                "amount": tx.amount().to_string(),
                "status": if tx.status == TransactionStatus::Reversed { "Reversed" } else { "Received" },
                "system": "Lipa Na M-PESA",
                "currency": tx.currency().code(),
                "reference": tx.reference(),
                "till_number": tx.till_number(),
                "origination_time": origination,
                "sender_last_name": payer.last_name(),
                "sender_first_name": payer.first_name(),
                "sender_middle_name": payer.middle_name(),
                "sender_phone_number": payer.phone_number.to_string(),
            }
        }),
        Sender::B2b { sending_till } => json!({
            "type": "External Till to Till Transaction",
            "resource": {
                "id": tx.id(),
                "amount": tx.amount().to_string(),
                "status": if tx.status == TransactionStatus::Reversed { "Reversed" } else { "Complete" },
                "system": "M-PESA",
                "currency": tx.currency().code(),
                "reference": tx.reference(),
                "till_number": tx.till_number(),
                "sending_till": sending_till,
                "origination_time": origination,
            }
        }),
    }
}

impl From<&Polling> for Document<PollingAttributes> {
    fn from(p: &Polling) -> Self {
        let transactions = match &p.state {
            PollingState::Pending => Vec::new(),
            PollingState::Success { transactions } => {
                transactions.iter().map(polled_transaction).collect()
            }
        };
        Document::new(
            p.meta.id,
            "polling",
            PollingAttributes {
                status: p.state.status(),
                created_at: format_millis(to_eat(p.meta.created_at_ms)),
                from_time: p.from_time.0.clone(),
                to_time: p.to_time.0.clone(),
                transactions,
                scope: match p.scope {
                    Scope::Company => "Company",
                    Scope::Till(_) => "Till",
                },
                scope_reference: p.scope.reference().map(str::to_string),
                metadata: None,
                links: Links::new(&p.callback_url, &p.meta),
            },
        )
    }
}
