//! Webhook subscriptions (`POST /api/v2/webhook_subscriptions`) and the webhook event payloads
//! of ledger transactions, in the K2Connect and Daraja shapes (reference, "Webhooks").

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::document::{Document, SelfLink};
use crate::clock::{format_millis, format_seconds, to_eat};
use crate::domain::ledger::{Payer, Sender, Transaction};
use crate::domain::lenient_string;
use crate::domain::webhooks::{
    EventPayload, EventType, NewSubscription, WebhookEvent, WebhookSubscription,
};
use crate::domain::{Invalid, Scope, lenient_bool, required_text};

#[derive(Debug, Deserialize)]
pub struct SubscriptionRequest {
    pub event_type: Option<String>,
    pub url: Option<String>,
    pub scope: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub scope_reference: Option<String>,
    pub enable_daraja_payload: Option<Value>,
}

impl TryFrom<SubscriptionRequest> for NewSubscription {
    type Error = Invalid;

    fn try_from(req: SubscriptionRequest) -> Result<Self, Invalid> {
        let event_type = EventType::parse(req.event_type.as_deref())?;
        let url = required_text(req.url.as_deref(), "Url")?;
        crate::domain::limits::check_url(&url, "Url")?;
        let scope = Scope::parse(req.scope.as_deref(), req.scope_reference.as_deref())?;
        let enable_daraja_payload = lenient_bool(
            req.enable_daraja_payload.as_ref(),
            "Enable daraja payload",
            false,
        )?;
        Ok(Self {
            event_type,
            url,
            scope,
            enable_daraja_payload,
        })
    }
}

#[derive(Debug, Serialize)]
pub struct SubscriptionAttributes {
    pub event_type: &'static str,
    pub url: String,
    /// The same URL under the name the PHP SDK 1.4.0 reads (and the Python SDK calls it).
    pub webhook_uri: String,
    pub scope: &'static str,
    pub scope_reference: Option<String>,
    pub enable_daraja_payload: bool,
    pub status: &'static str,
    pub created_at: String,
    #[serde(rename = "_links")]
    pub links: SelfLink,
}

impl From<&WebhookSubscription> for Document<SubscriptionAttributes> {
    fn from(s: &WebhookSubscription) -> Self {
        Document::new(
            s.meta.id,
            "webhook_subscription",
            SubscriptionAttributes {
                event_type: s.event_type.as_str(),
                url: s.url.clone(),
                webhook_uri: s.url.clone(),
                scope: s.scope.name(),
                scope_reference: s.scope.reference().map(str::to_string),
                enable_daraja_payload: s.enable_daraja_payload,
                status: "Active",
                created_at: format_millis(to_eat(s.meta.created_at_ms)),
                links: SelfLink {
                    self_url: s.meta.self_url().to_string(),
                },
            },
        )
    }
}

// --- event payloads -----------------------------------------------------------------------

/// The hash Kopo Kopo shows instead of a payer's number: hex SHA-256 in K2Connect payloads
/// (`hashed_sender_phone`), base64 SHA-256 in Daraja ones (`MSISDN`).
fn phone_digest(phone: &str) -> [u8; 32] {
    Sha256::digest(phone.as_bytes()).into()
}

/// The pieces of a webhook event every payload shares.
pub struct EventFrame<'a> {
    pub id: uuid::Uuid,
    pub created_at_ms: i64,
    pub base_url: &'a str,
}

impl EventFrame<'_> {
    fn envelope(
        &self,
        topic: EventType,
        kind: &str,
        resource_id: uuid::Uuid,
        resource: Value,
    ) -> Value {
        json!({
            "topic": topic.as_str(),
            "id": self.id,
            "created_at": format_seconds(to_eat(self.created_at_ms)),
            "event": {"type": kind, "resource": resource},
            "_links": {
                "self": format!("{}/webhook_events/{}", self.base_url, self.id),
                "resource": format!("{}/financial_transaction/{}", self.base_url, resource_id),
            }
        })
    }
}

/// An event's K2Connect payload as compact JSON text: the same bytes every time.
pub fn event_payload(event: &WebhookEvent) -> Box<RawValue> {
    match &event.payload {
        EventPayload::Rendered(r) => r.text.clone(),
        EventPayload::Transaction { tx, .. } => {
            let url = event.url();
            let frame = EventFrame {
                id: event.id,
                created_at_ms: event.created_at_ms(),
                base_url: url.base(),
            };
            let (_, payload) = transaction_payload(&frame, tx, event.reversed_at_ms());
            serde_json::value::to_raw_value(&payload).expect("a JSON value always serialises")
        }
    }
}

/// K2Connect payload of a transaction received (`buygoods_transaction_received`,
/// `b2b_transaction_received`) or reversed (`..._reversed`, with `reversal_time`, which the
/// SDKs read).
pub fn transaction_payload(
    frame: &EventFrame<'_>,
    tx: &Transaction,
    reversed_at_ms: Option<i64>,
) -> (EventType, Value) {
    let (topic, kind, resource) = match tx.sender() {
        Sender::Buygoods(payer) => {
            let (topic, resource) = buygoods_resource(tx, payer, reversed_at_ms);
            (topic, "Buygoods Transaction", resource)
        }
        Sender::B2b { sending_till } => b2b_resource(tx, sending_till, reversed_at_ms),
    };
    (topic, frame.envelope(topic, kind, tx.id(), resource))
}

/// The `event.resource` of a Buygoods payment received or reversed, keys in the reference's
/// order for each.
fn buygoods_resource(
    tx: &Transaction,
    payer: &Payer,
    reversed_at_ms: Option<i64>,
) -> (EventType, Value) {
    let origination = format_seconds(to_eat(tx.originated_at_ms()));
    let phone = payer.phone_number.to_string();
    match reversed_at_ms {
        None => (
            EventType::BuygoodsTransactionReceived,
            json!({
                "id": tx.id(),
                "amount": tx.amount().to_string(),
                "status": "Received",
                "system": "Lipa Na M-PESA",
                "currency": tx.currency().code(),
                "reference": tx.reference(),
                "till_number": tx.till_number(),
                "sender_phone_number": phone,
                "hashed_sender_phone": hex::encode(phone_digest(&phone)),
                "origination_time": origination,
                "sender_first_name": payer.first_name(),
                "sender_last_name": payer.last_name(),
                "sender_middle_name": payer.middle_name(),
            }),
        ),
        Some(at) => (
            EventType::BuygoodsTransactionReversed,
            json!({
                "id": tx.id(),
                "amount": tx.amount().to_string(),
                "status": "Reversed",
                "system": "Lipa Na Mpesa",
                "currency": tx.currency().code(),
                "reference": tx.reference(),
                "till_number": tx.till_number(),
                "origination_time": origination,
                "sender_last_name": payer.last_name(),
                "sender_first_name": payer.first_name(),
                "sender_middle_name": payer.middle_name(),
                "sender_phone_number": phone,
                "reversal_time": format_seconds(to_eat(at)),
            }),
        ),
    }
}

/// The `event.resource` of a till-to-till payment received or reversed, and its kind.
fn b2b_resource(
    tx: &Transaction,
    sending_till: &str,
    reversed_at_ms: Option<i64>,
) -> (EventType, &'static str, Value) {
    let origination = format_seconds(to_eat(tx.originated_at_ms()));
    match reversed_at_ms {
        None => (
            EventType::B2bTransactionReceived,
            "External Till to Till Transaction",
            json!({
                "id": tx.id(),
                "amount": tx.amount().to_string(),
                "status": "Complete",
                "system": "Lipa Na Mpesa",
                "currency": tx.currency().code(),
                "reference": tx.reference(),
                "till_number": tx.till_number(),
                "sending_till": sending_till,
                "origination_time": origination,
            }),
        ),
        Some(at) => (
            EventType::B2bTransactionReversed,
            "External Till To Till Reversal Transaction",
            json!({
                "id": tx.id(),
                "reference": tx.reference(),
                "origination_time": origination,
                "sending_till": sending_till,
                "amount": tx.amount().to_string(),
                "currency": tx.currency().code(),
                "till_number": tx.till_number(),
                "system": "M-PESA",
                "status": "Reversed",
                "reversal_time": format_seconds(to_eat(at)),
            }),
        ),
    }
}

/// Daraja payload of a received transaction; reversals have none in the reference.
pub fn daraja_payload(tx: &Transaction) -> Value {
    let time = to_eat(tx.originated_at_ms())
        .format("%Y%m%d%H%M%S")
        .to_string();
    let (kind, msisdn, first_name) = match tx.sender() {
        Sender::Buygoods(payer) => (
            "Buygoods",
            base64::engine::general_purpose::STANDARD
                .encode(phone_digest(payer.phone_number.as_str())),
            payer.first_name().map(String::from),
        ),
        Sender::B2b { sending_till } => (
            "Organization To Organization Transfer",
            sending_till.to_string(),
            Some(format!("Till {sending_till}")),
        ),
    };
    json!({
        "TransactionType": kind,
        "TransID": tx.reference(),
        "TransTime": time,
        "TransAmount": tx.amount().to_string(),
        "BusinessShortCode": tx.till_number(),
        "BillRefNumber": "",
        "InvoiceNumber": "",
        "OrgAccountBalance": "",
        "ThirdPartyTransId": "",
        "MSISDN": msisdn,
        "FirstName": first_name,
        "MiddleName": null,
        "LastName": null,
    })
}

/// K2Connect payload of `customer_created`. `resource.id` is not in the reference's example,
/// but the SDKs read it.
pub fn customer_payload(
    frame: &EventFrame<'_>,
    customer_id: uuid::Uuid,
    customer: &Value,
) -> Value {
    let mut resource = serde_json::Map::new();
    resource.insert("id".into(), json!(customer_id));
    if let Value::Object(fields) = customer {
        resource.extend(fields.clone());
    }
    json!({
        "topic": EventType::CustomerCreated.as_str(),
        "id": frame.id,
        "created_at": format_seconds(to_eat(frame.created_at_ms)),
        "event": {"type": "Customer Created", "resource": resource},
        "_links": {
            "self": format!("{}/webhook_events/{}", frame.base_url, frame.id),
            "resource": format!("{}/mobile_money_user/{}", frame.base_url, customer_id),
        }
    })
}

/// K2Connect payload of `m2m_transaction_received`, in the shape of the PHP and Node SDKs'
/// fixtures (the reference shows none): another merchant paid the company account.
pub fn m2m_payload(
    frame: &EventFrame<'_>,
    batch_id: uuid::Uuid,
    amount: &str,
    sending_merchant: &str,
) -> Value {
    let at = format_seconds(to_eat(frame.created_at_ms));
    json!({
        "topic": EventType::M2mTransactionReceived.as_str(),
        "id": frame.id,
        "created_at": at,
        "event": {
            "type": "Merchant to Merchant Transaction",
            "resource": {
                "id": batch_id,
                "amount": amount,
                "status": "Received",
                "currency": "KES",
                "origination_time": at,
                "sending_merchant": sending_merchant,
            }
        },
        "_links": {
            "self": format!("{}/webhook_events/{}", frame.base_url, frame.id),
            "resource": format!("{}/payment_batches/{}", frame.base_url, batch_id),
        }
    })
}

/// K2Connect payload of `settlement_transfer_completed`. `resource.reference` (the transfer's
/// M-PESA or bank reference) is not in the reference's example, but the SDKs read it.
pub fn settlement_payload(
    frame: &EventFrame<'_>,
    transfer_id: uuid::Uuid,
    reference: Option<&str>,
    amount: &str,
    destination: Value,
) -> Value {
    let at = format_millis(to_eat(frame.created_at_ms));
    json!({
        "topic": EventType::SettlementTransferCompleted.as_str(),
        "id": frame.id,
        "created_at": format_seconds(to_eat(frame.created_at_ms)),
        "event": {
            "type": "Settlement Transfer",
            "resource": {
                "id": transfer_id,
                "reference": reference,
                "amount": amount,
                "status": "Transferred",
                "currency": "KES",
                "destination": destination,
                "disbursements": [{
                    "amount": amount,
                    "status": "Transferred",
                    "origination_time": at,
                    "transaction_reference": reference,
                }],
                "origination_time": at,
            }
        },
        "_links": {
            "self": format!("{}/webhook_events/{}", frame.base_url, frame.id),
            "resource": format!("{}/transfer_batch/{}", frame.base_url, transfer_id),
        }
    })
}

/// K2Connect payload of the card topics, whose resources differ only in type and status.
pub fn card_payload(
    frame: &EventFrame<'_>,
    topic: EventType,
    resource_id: uuid::Uuid,
    fields: CardFields<'_>,
) -> Value {
    let (kind, status) = match topic {
        EventType::CardTransactionVoided => ("Card Void Transaction", "Complete"),
        EventType::CardTransactionReversed => ("Card Reversal Transaction", "Complete"),
        _ => ("Card Transaction", "Received"),
    };
    let origination = format_seconds(to_eat(frame.created_at_ms));
    let mut resource = json!({
        "id": resource_id,
        "amount": fields.amount,
        "status": status,
        "system": "LittlePay",
        "currency": "KES",
        "reference": fields.reference,
        "till_number": fields.till_number,
        "origination_time": origination,
        "customer_cc_number": fields.card_number,
    });
    if topic == EventType::CardTransactionReceived {
        // `settled` sits after `system` in the reference's example.
        let map = resource.as_object_mut().expect("object literal");
        let tail: Vec<(String, Value)> = [
            "currency",
            "reference",
            "till_number",
            "origination_time",
            "customer_cc_number",
        ]
        .iter()
        .filter_map(|k| map.shift_remove(*k).map(|v| ((*k).to_string(), v)))
        .collect();
        map.insert("settled".into(), json!(false));
        map.extend(tail);
    }
    frame.envelope(topic, kind, resource_id, resource)
}

pub struct CardFields<'a> {
    pub amount: &'a str,
    pub reference: &'a str,
    pub till_number: &'a str,
    pub card_number: &'a str,
}
