//! `POST /api/v2/send_money` and the send money document (reference, "Send Money").

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::recipients::RecipientFields;
use super::{Document, Links, LinksRequest, lenient_string};
use crate::clock::{format_millis, to_eat};
use crate::domain::metadata::Metadata;
use crate::domain::send_money::{SendMoney, SendMoneyState};

#[derive(Debug, Deserialize)]
pub struct SendMoneyRequest {
    /// Absent, null or `[]`: a blind transfer. Kept raw: it is echoed back in the result.
    pub destinations: Option<Value>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub source_identifier: Option<String>,
    pub currency: Option<String>,
    pub metadata: Option<Value>,
    #[serde(rename = "_links")]
    pub links: Option<LinksRequest>,
}

#[derive(Debug, Deserialize)]
pub struct DestinationRequest {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Merchant account destinations name the account.
    pub reference: Option<String>,
    pub amount: Option<Value>,
    pub description: Option<String>,
    pub favourite: Option<Value>,
    #[serde(flatten)]
    pub fields: RecipientFields,
}

#[derive(Debug, Serialize)]
pub struct SendMoneyAttributes {
    pub status: &'static str,
    pub created_at: String,
    pub source_identifier: Option<String>,
    pub destinations: Option<Value>,
    pub currency: &'static str,
    pub transfer_batches: Vec<TransferBatch>,
    pub errors: Option<Vec<String>>,
    pub metadata: Option<Value>,
    #[serde(rename = "_links")]
    pub links: Links,
}

#[derive(Debug, Serialize)]
pub struct TransferBatch {
    pub status: &'static str,
    pub amount: String,
    pub disbursements: Vec<Map<String, Value>>,
}

impl From<&SendMoney> for Document<SendMoneyAttributes> {
    fn from(s: &SendMoney) -> Self {
        let (transfer_batches, errors) = match &s.state {
            SendMoneyState::Pending => (Vec::new(), None),
            SendMoneyState::Failed { errors } => (Vec::new(), Some(errors.clone())),
            SendMoneyState::Processed { at_ms } => {
                let at = format_millis(to_eat(*at_ms));
                let batches = s
                    .disbursements
                    .iter()
                    .map(|d| {
                        let amount = crate::domain::money::format_amount(d.amount);
                        // Key order as in the reference's example.
                        let mut m = Map::new();
                        m.insert("amount".into(), Value::String(amount.clone()));
                        m.insert("errors".into(), Value::Null);
                        m.insert("status".into(), "Transferred".into());
                        m.extend(d.details.clone());
                        m.insert("destination_type".into(), d.destination_type.into());
                        m.insert("origination_time".into(), at.clone().into());
                        m.insert(
                            "destination_reference".into(),
                            d.destination_reference.to_string().into(),
                        );
                        m.insert(
                            "transaction_reference".into(),
                            d.transaction_reference
                                .clone()
                                .map_or(Value::Null, Value::String),
                        );
                        TransferBatch {
                            status: "Transferred",
                            amount,
                            disbursements: vec![m],
                        }
                    })
                    .collect();
                (batches, None)
            }
        };
        Document::new(
            s.meta.id,
            "send_money",
            SendMoneyAttributes {
                status: s.state.status(),
                created_at: format_millis(to_eat(s.meta.created_at_ms)),
                source_identifier: s.source_identifier.clone(),
                destinations: s.destinations.clone(),
                currency: s.currency.code(),
                transfer_batches,
                errors,
                metadata: s.metadata.as_ref().map(Metadata::to_jsonb_value),
                links: Links::new(&s.callback_url, &s.meta),
            },
        )
    }
}
