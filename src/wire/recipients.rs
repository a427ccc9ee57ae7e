//! Merchant accounts (`/api/v2/merchant_wallets`, `/api/v2/merchant_bank_accounts`) and
//! external recipients (`/api/v2/external_recipients`, shown as `/api/v1/pay_recipients`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::{Document, SelfLink, lenient_string};
use crate::domain::recipients::{
    BankAccount, ExternalRecipient, MerchantAccount, MerchantAccountKind, RecipientDetails,
    SettlementMethod, Wallet, nickname, recipient_type,
};
use crate::domain::{Invalid, optional_text, required_text};

/// Every field any recipient or merchant account may have; which are required depends on
/// the type. Unknown fields are ignored.
#[derive(Debug, Default, Deserialize)]
pub struct RecipientFields {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub nickname: Option<String>,
    /// The reference's bank recipient example spells it `nick_name`.
    pub nick_name: Option<String>,
    pub email: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub phone_number: Option<String>,
    pub network: Option<String>,
    pub account_name: Option<String>,
    pub bank_branch_ref: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub account_number: Option<String>,
    pub settlement_method: Option<String>,
    pub till_name: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub till_number: Option<String>,
    pub paybill_name: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub paybill_number: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub paybill_account_number: Option<String>,
}

impl RecipientFields {
    pub fn nickname(&self) -> Option<String> {
        nickname(self.nickname.as_deref()).or_else(|| nickname(self.nick_name.as_deref()))
    }

    fn bank_account(
        &self,
        default_method: Option<SettlementMethod>,
    ) -> Result<BankAccount, Invalid> {
        let account_name = required_text(self.account_name.as_deref(), "Account name")?;
        let bank_branch_ref = required_text(self.bank_branch_ref.as_deref(), "Bank branch ref")?;
        let account_number = required_text(self.account_number.as_deref(), "Account number")?;
        let settlement_method = match (self.settlement_method.as_deref(), default_method) {
            (None, Some(method)) => method,
            (value, _) => SettlementMethod::parse(value)?,
        };
        Ok(BankAccount {
            account_name,
            bank_branch_ref,
            account_number,
            settlement_method,
        })
    }

    /// The details of an external recipient of type `kind` (already validated).
    /// `default_method` applies to bank accounts that name no settlement method (send money
    /// destinations do not).
    pub fn recipient(
        &self,
        kind: &str,
        default_method: Option<SettlementMethod>,
    ) -> Result<RecipientDetails, Invalid> {
        Ok(match kind {
            "mobile_wallet" => RecipientDetails::MobileWallet {
                first_name: optional_text(self.first_name.as_deref()),
                last_name: optional_text(self.last_name.as_deref()),
                email: optional_text(self.email.as_deref()),
                wallet: Wallet::parse(self.phone_number.as_deref(), self.network.as_deref())?,
            },
            "bank_account" => RecipientDetails::BankAccount(self.bank_account(default_method)?),
            "till" => RecipientDetails::Till {
                till_name: optional_text(self.till_name.as_deref()),
                till_number: required_text(self.till_number.as_deref(), "Till number")?,
            },
            "paybill" => RecipientDetails::Paybill {
                paybill_name: optional_text(self.paybill_name.as_deref()),
                paybill_number: required_text(self.paybill_number.as_deref(), "Paybill number")?,
                paybill_account_number: required_text(
                    self.paybill_account_number.as_deref(),
                    "Paybill account number",
                )?,
            },
            _ => return Err(Invalid("Invalid recipient type".into())),
        })
    }

    /// An external recipient as the `external_recipients` endpoint requires it: names are
    /// required for wallets and tills, as in the reference's tables.
    pub fn external_recipient(&self, kind: &str) -> Result<RecipientDetails, Invalid> {
        match kind {
            "mobile_wallet" => {
                required_text(self.first_name.as_deref(), "First name")?;
                required_text(self.last_name.as_deref(), "Last name")?;
            }
            "till" => {
                required_text(self.till_name.as_deref(), "Till name")?;
            }
            "paybill" => {
                required_text(self.paybill_name.as_deref(), "Paybill name")?;
            }
            _ => {}
        }
        self.recipient(kind, None)
    }

    pub fn merchant_wallet(&self) -> Result<MerchantAccountKind, Invalid> {
        Ok(MerchantAccountKind::Wallet {
            first_name: required_text(self.first_name.as_deref(), "First name")?,
            last_name: required_text(self.last_name.as_deref(), "Last name")?,
            wallet: Wallet::parse(self.phone_number.as_deref(), self.network.as_deref())?,
        })
    }

    pub fn merchant_bank_account(&self) -> Result<MerchantAccountKind, Invalid> {
        Ok(MerchantAccountKind::Bank(self.bank_account(None)?))
    }
}

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
                links: SelfLink {
                    self_url: a.meta.self_url.clone(),
                },
            },
        )
    }
}
