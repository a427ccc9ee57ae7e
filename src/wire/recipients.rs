//! Merchant accounts (`/api/v2/merchant_wallets`, `/api/v2/merchant_bank_accounts`) and
//! external recipients (`/api/v2/external_recipients`, shown as `/api/v1/pay_recipients`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::document::{Document, SelfLink};
use crate::domain::Invalid;
use crate::domain::recipients::{
    BankAccount, ExternalRecipient, MerchantAccount, MerchantAccountKind, RecipientDetails,
    RecipientFields, recipient_type,
};

#[derive(Debug, Deserialize)]
pub struct ExternalRecipientRequest {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// v2 nests the details here; v1 (`/pay_recipients`) under `pay_recipient`.
    pub external_recipient: Option<RecipientFields>,
    pub pay_recipient: Option<RecipientFields>,
}

impl ExternalRecipientRequest {
    pub fn validate(self) -> Result<(Option<String>, RecipientDetails), Invalid> {
        let kind = recipient_type(self.kind.as_deref())?;
        let fields = self
            .external_recipient
            .or(self.pay_recipient)
            .ok_or_else(|| Invalid::blank("External recipient"))?;
        Ok((fields.nickname(), fields.external_recipient(kind)?))
    }
}

fn insert_opt(map: &mut Map<String, Value>, key: &str, value: &Option<String>) {
    map.insert(key.into(), value.clone().map_or(Value::Null, Value::String));
}

/// The type-specific fields of a recipient, in the reference's order.
pub fn recipient_fields(details: &RecipientDetails) -> Map<String, Value> {
    let mut m = Map::new();
    match details {
        RecipientDetails::MobileWallet {
            first_name,
            last_name,
            email,
            wallet,
        } => {
            insert_opt(&mut m, "first_name", first_name);
            insert_opt(&mut m, "last_name", last_name);
            m.insert("phone_number".into(), json!(wallet.phone.to_string()));
            m.insert("network".into(), json!(wallet.network));
            insert_opt(&mut m, "email", email);
        }
        RecipientDetails::BankAccount(bank) => bank_fields(&mut m, bank),
        RecipientDetails::Till {
            till_name,
            till_number,
        } => {
            insert_opt(&mut m, "till_name", till_name);
            m.insert("till_number".into(), json!(till_number));
        }
        RecipientDetails::Paybill {
            paybill_name,
            paybill_number,
            paybill_account_number,
        } => {
            insert_opt(&mut m, "paybill_name", paybill_name);
            m.insert("paybill_number".into(), json!(paybill_number));
            m.insert(
                "paybill_account_number".into(),
                json!(paybill_account_number),
            );
        }
    }
    m
}

fn bank_fields(m: &mut Map<String, Value>, bank: &BankAccount) {
    m.insert("account_name".into(), json!(bank.account_name));
    m.insert("account_number".into(), json!(bank.account_number));
    m.insert("bank_branch_ref".into(), json!(bank.bank_branch_ref));
    m.insert(
        "settlement_method".into(),
        json!(bank.settlement_method.as_str()),
    );
}

/// A pay recipient, as seed 004 shows it (`GET /api/v1/pay_recipients/{id}`) and as
/// `GET /api/v2/external_recipients/{id}` answers.
#[derive(Debug, Serialize)]
pub struct RecipientAttributes {
    pub recipient_type: &'static str,
    pub status: &'static str,
    #[serde(flatten)]
    pub fields: Map<String, Value>,
    pub recipient_reference: uuid::Uuid,
}

pub fn recipient_document(
    r: &ExternalRecipient,
    kind: &'static str,
) -> Document<RecipientAttributes> {
    Document::new(
        r.meta.id,
        kind,
        RecipientAttributes {
            recipient_type: r.details.label(),
            status: "Approved",
            fields: recipient_fields(&r.details),
            recipient_reference: r.recipient_reference,
        },
    )
}

#[derive(Debug, Serialize)]
pub struct MerchantAccountAttributes {
    #[serde(flatten)]
    pub fields: Map<String, Value>,
    pub nickname: Option<String>,
    pub status: &'static str,
    /// What a transfer names it by (its id), as the PHP SDK 1.4.0 reads it.
    pub account_reference: uuid::Uuid,
    #[serde(rename = "_links")]
    pub links: SelfLink,
}

/// The type-specific fields of a merchant account.
pub fn merchant_fields(account: &MerchantAccount) -> Map<String, Value> {
    let mut m = Map::new();
    match &account.kind {
        MerchantAccountKind::Wallet {
            first_name,
            last_name,
            wallet,
        } => {
            m.insert("first_name".into(), json!(first_name));
            m.insert("last_name".into(), json!(last_name));
            m.insert("phone_number".into(), json!(wallet.phone.to_string()));
            m.insert("network".into(), json!(wallet.network));
        }
        MerchantAccountKind::Bank(bank) => bank_fields(&mut m, bank),
    }
    m
}

impl From<&MerchantAccount> for Document<MerchantAccountAttributes> {
    fn from(a: &MerchantAccount) -> Self {
        Document::new(
            a.meta.id,
            a.destination_type(),
            MerchantAccountAttributes {
                fields: merchant_fields(a),
                nickname: a.nickname.clone(),
                status: "Active",
                account_reference: a.meta.id,
                links: SelfLink {
                    self_url: a.meta.self_url().to_string(),
                },
            },
        )
    }
}
