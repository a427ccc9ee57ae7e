//! `POST /api/v2/reversals` and the reversal document (reference, "Reversals").

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::document::{Document, Links, LinksRequest};
use crate::clock::{format_millis, to_eat};
use crate::domain::lenient_string;
use crate::domain::metadata::Metadata;
use crate::domain::reversal::{Reversal, ReversalState};

#[derive(Debug, Deserialize)]
pub struct ReversalRequest {
    #[serde(default, deserialize_with = "lenient_string")]
    pub transaction_reference: Option<String>,
    pub reason: Option<String>,
    pub metadata: Option<Value>,
    #[serde(rename = "_links")]
    pub links: Option<LinksRequest>,
    /// A callback URL sent at the top level, where it is not read: the error says where it goes.
    pub callback_url: Option<serde::de::IgnoredAny>,
}

#[derive(Debug, Serialize)]
pub struct ReversalAttributes {
    pub status: &'static str,
    pub created_at: String,
    pub transaction_reference: String,
    pub reason: String,
    /// Absent while Scheduled, as in the reference's status example.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reversal_bulk_payment: Option<BulkPayment>,
    pub errors: Option<Vec<String>>,
    pub metadata: Option<Box<serde_json::value::RawValue>>,
    #[serde(rename = "_links")]
    pub links: Links,
}

#[derive(Debug, Serialize)]
pub struct BulkPayment {
    pub amount: String,
    /// `Transferred` (reversed) or `Cancelled` (failed).
    pub status: &'static str,
    pub origination_time: String,
    pub transaction_reference: Option<String>,
}

impl From<&Reversal> for Document<ReversalAttributes> {
    fn from(r: &Reversal) -> Self {
        let (bulk, errors) = match &r.state {
            ReversalState::Scheduled => (None, None),
            ReversalState::Processed { at_ms } => (
                Some(BulkPayment {
                    amount: r.amount.to_string(),
                    status: "Transferred",
                    origination_time: format_millis(to_eat(*at_ms)),
                    transaction_reference: Some(r.payment_reference.clone()),
                }),
                None,
            ),
            ReversalState::Cancelled { at_ms, errors } => (
                Some(BulkPayment {
                    amount: r.amount.to_string(),
                    status: "Cancelled",
                    origination_time: format_millis(to_eat(*at_ms)),
                    transaction_reference: None,
                }),
                Some(errors.clone()),
            ),
        };
        Document::new(
            r.meta.id,
            "reversal",
            ReversalAttributes {
                status: r.state.status(),
                created_at: format_millis(to_eat(r.meta.created_at_ms)),
                transaction_reference: r.transaction_reference.clone(),
                reason: r.reason.clone(),
                reversal_bulk_payment: bulk,
                errors,
                metadata: r.metadata.as_ref().map(Metadata::to_raw),
                links: Links::new(&r.callback_url, &r.meta),
            },
        )
    }
}
