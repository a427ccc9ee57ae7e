//! `POST /api/v2/send_money` and the send money document (reference, "Send Money").

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::document::{Document, Links, LinksRequest};
use crate::clock::{format_millis, to_eat};
use crate::domain::lenient_string;
use crate::domain::metadata::Metadata;
use crate::domain::money::Amount;
use crate::domain::recipients::RecipientFields;
use crate::domain::send_money::{Flavor, Payment, SendMoney, SendMoneyState, Shown};

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
    /// A callback URL sent at the top level, where it is not read: the error says where it goes.
    pub callback_url: Option<serde::de::IgnoredAny>,
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

/// A disbursement's destination fields, in the reference's key order.
// Over 60 lines: one arm per destination, each listing the fields the reference shows.
fn shown_fields(shown: &Shown, m: &mut Map<String, Value>) {
    let mut put = |key: &str, value: Value| {
        m.insert(key.into(), value);
    };
    match shown {
        Shown::MerchantWallet {
            nickname,
            phone_number,
        } => {
            put("nickname", json!(nickname));
            put("phone_number", json!(phone_number));
        }
        Shown::MerchantBankAccount {
            nickname,
            account_name,
            account_number,
        } => {
            put("nickname", json!(nickname));
            put("account_name", json!(account_name));
            put("account_number", json!(account_number));
        }
        Shown::MobileWallet {
            nickname,
            favourite,
            phone_number,
        } => {
            put("nickname", json!(nickname));
            put("favourite", json!(favourite));
            put("phone_number", json!(phone_number));
        }
        Shown::BankAccount {
            nickname,
            favourite,
            account_name,
            account_number,
            bank_branch_ref,
        } => {
            put("nickname", json!(nickname));
            put("favourite", json!(favourite));
            put("account_name", json!(account_name));
            put("account_number", json!(account_number));
            put("bank_branch_ref", json!(bank_branch_ref));
        }
        Shown::Till {
            nickname,
            favourite,
            till_number,
        } => {
            put("nickname", json!(nickname));
            put("favourite", json!(favourite));
            put("till_number", json!(till_number));
        }
        Shown::Paybill {
            nickname,
            favourite,
            paybill_number,
            paybill_account_number,
        } => {
            put("nickname", json!(nickname));
            put("favourite", json!(favourite));
            put("paybill_number", json!(paybill_number));
            put("paybill_account_number", json!(paybill_account_number));
        }
        Shown::PayRecipient { nickname } => put("nickname", json!(nickname)),
    }
}

/// The batches a processed request shows (none before), and its errors.
fn batches(s: &SendMoney) -> (Vec<TransferBatch>, Option<Vec<String>>) {
    match &s.state {
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
                    shown_fields(&d.shown, &mut m);
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
    }
}

impl From<&SendMoney> for Document<SendMoneyAttributes> {
    fn from(s: &SendMoney) -> Self {
        let (transfer_batches, errors) = batches(s);
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

/// `{"currency", "value"}` as v1 documents show amounts.
fn v1_amount(currency: &str, value: Option<String>) -> Value {
    json!({"currency": currency, "value": value})
}

/// A v1 payment (`/api/v1/payments`): the Python SDK's decomposer reads `status`,
/// `created_at`, `origination_time`, `amount`, `transfer_batches`, `metadata` and `_links`.
fn payment_document(s: &SendMoney, p: &Payment) -> Document<Value> {
    let (transfer_batches, errors) = batches(s);
    let origination = match &s.state {
        SendMoneyState::Processed { at_ms } => Some(format_millis(to_eat(*at_ms))),
        _ => None,
    };
    let reference = s
        .disbursements
        .first()
        .and_then(|d| d.transaction_reference.clone())
        .filter(|_| origination.is_some());
    let attributes = json!({
        "status": s.state.status(),
        "created_at": format_millis(to_eat(s.meta.created_at_ms)),
        "reference": reference,
        "origination_time": origination,
        "destination_type": p.destination_type,
        "destination_reference": p.destination_reference,
        "amount": v1_amount(s.currency.code(), Some(p.amount.to_string())),
        "description": p.description,
        "category": p.category,
        "tags": p.tags,
        "transfer_batches": transfer_batches,
        "errors": errors,
        "metadata": s.metadata.as_ref().map(Metadata::to_value),
        "_links": Links::new(&s.callback_url, &s.meta),
    });
    Document::new(s.meta.id, "payment", attributes)
}

/// A v1 settlement transfer, in the reference's `settlement_transfer` shape (plus
/// `origination_time`, which the Python SDK's decomposer reads, and `metadata`, null, which
/// every result carries).
fn settlement_transfer_document(s: &SendMoney, requested: Option<&Amount>) -> Document<Value> {
    let (batches, errors) = batches(s);
    let origination = match &s.state {
        SendMoneyState::Processed { at_ms } => Some(format_millis(to_eat(*at_ms))),
        _ => None,
    };
    let transfer_batches: Vec<Value> = batches
        .into_iter()
        .map(|b| {
            let disbursements: Vec<Value> = b
                .disbursements
                .into_iter()
                .map(|d| {
                    json!({
                        "amount": d["amount"],
                        "status": d["status"],
                        "destination_type": d["destination_type"],
                        "origination_time": d["origination_time"],
                        "destination_reference": d["destination_reference"],
                        "transaction_reference": d["transaction_reference"],
                    })
                })
                .collect();
            json!({"status": b.status, "disbursements": disbursements})
        })
        .collect();
    let attributes = json!({
        "status": s.state.status(),
        "created_at": format_millis(to_eat(s.meta.created_at_ms)),
        "origination_time": origination,
        "amount": v1_amount(s.currency.code(), requested.map(ToString::to_string)),
        "transfer_batches": transfer_batches,
        "errors": errors,
        "metadata": null,
        "_links": Links::new(&s.callback_url, &s.meta),
    });
    Document::new(s.meta.id, "settlement_transfer", attributes)
}

/// A send money resource as its API generation shows it: GET and callbacks.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum SendMoneyView {
    V2(Box<Document<SendMoneyAttributes>>),
    V1(Document<Value>),
}

impl super::document::Status for SendMoneyView {
    fn status(&self) -> &str {
        match self {
            Self::V2(document) => document.status(),
            Self::V1(document) => document.status(),
        }
    }
}

impl From<&SendMoney> for SendMoneyView {
    fn from(s: &SendMoney) -> Self {
        match &s.flavor {
            Flavor::SendMoney => Self::V2(Box::new(Document::from(s))),
            Flavor::Payment(p) => Self::V1(payment_document(s, p)),
            Flavor::SettlementTransfer { requested } => {
                Self::V1(settlement_transfer_document(s, requested.as_ref()))
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct V1Amount {
    pub currency: Option<String>,
    pub value: Option<Value>,
}

/// `POST /api/v1/payments` (the Node SDK's `PayService.sendPay`).
#[derive(Debug, Deserialize)]
pub struct PaymentRequest {
    pub destination_type: Option<String>,
    pub destination_reference: Option<String>,
    pub amount: Option<V1Amount>,
    pub description: Option<String>,
    pub category: Option<String>,
    pub tags: Option<Value>,
    pub metadata: Option<Value>,
    #[serde(rename = "_links")]
    pub links: Option<LinksRequest>,
    /// A callback URL sent at the top level, where it is not read: the error says where it goes.
    pub callback_url: Option<serde::de::IgnoredAny>,
}

/// `POST /api/v1/settlement_transfers` (the Node SDK's `TransferService.settleFunds`); a
/// blind transfer sends `"amount": {}` and no destination.
#[derive(Debug, Deserialize)]
pub struct SettlementTransferRequest {
    pub amount: Option<V1Amount>,
    pub destination_type: Option<String>,
    pub destination_reference: Option<String>,
    #[serde(rename = "_links")]
    pub links: Option<LinksRequest>,
    /// A callback URL sent at the top level, where it is not read: the error says where it goes.
    pub callback_url: Option<serde::de::IgnoredAny>,
}
