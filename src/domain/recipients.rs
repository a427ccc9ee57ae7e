//! Where money can be sent: the merchant's own settlement accounts (merchant wallets and bank
//! accounts) and external recipients (mobile wallets, bank accounts, tills, paybills).

use serde::Deserialize;

use super::phone::PhoneNumber;
use super::{Envelope, Invalid, lenient_string, optional_text, owned_by_envelope, required_text};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettlementMethod {
    Eft,
    Rts,
}

impl SettlementMethod {
    pub fn parse(value: Option<&str>) -> Result<Self, Invalid> {
        match required_text(value, "Settlement method")?
            .to_ascii_uppercase()
            .as_str()
        {
            "EFT" => Ok(Self::Eft),
            "RTS" => Ok(Self::Rts),
            _ => Err(Invalid("Settlement method must be EFT or RTS".into())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eft => "EFT",
            Self::Rts => "RTS",
        }
    }
}

/// A mobile wallet: the phone as the client wrote it (echoed back) and normalised (matched).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wallet {
    pub phone_as_sent: String,
    pub phone: PhoneNumber,
    pub network: String,
}

impl Wallet {
    pub fn parse(phone: Option<&str>, network: Option<&str>) -> Result<Self, Invalid> {
        let phone_number = PhoneNumber::parse(phone)?;
        Ok(Self {
            phone_as_sent: phone.unwrap_or_default().trim().to_string(),
            phone: phone_number,
            network: required_text(network, "Network")?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankAccount {
    pub account_name: String,
    pub bank_branch_ref: String,
    pub account_number: String,
    pub settlement_method: SettlementMethod,
}

/// The merchant's own settlement account.
#[derive(Debug, Clone)]
pub enum MerchantAccountKind {
    Wallet {
        first_name: String,
        last_name: String,
        wallet: Wallet,
    },
    Bank(BankAccount),
}

#[derive(Debug, Clone)]
pub struct MerchantAccount {
    pub meta: Envelope,
    pub nickname: Option<String>,
    pub kind: MerchantAccountKind,
}

impl MerchantAccount {
    pub fn destination_type(&self) -> &'static str {
        match self.kind {
            MerchantAccountKind::Wallet { .. } => "merchant_wallet",
            MerchantAccountKind::Bank(_) => "merchant_bank_account",
        }
    }
}

/// An external recipient's details, per type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecipientDetails {
    MobileWallet {
        first_name: Option<String>,
        last_name: Option<String>,
        email: Option<String>,
        wallet: Wallet,
    },
    BankAccount(BankAccount),
    Till {
        till_name: Option<String>,
        till_number: String,
    },
    Paybill {
        paybill_name: Option<String>,
        paybill_number: String,
        paybill_account_number: String,
    },
}

impl RecipientDetails {
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::MobileWallet { .. } => "mobile_wallet",
            Self::BankAccount(_) => "bank_account",
            Self::Till { .. } => "till",
            Self::Paybill { .. } => "paybill",
        }
    }

    /// The reference's `recipient_type` label ("Mobile Wallet").
    pub fn label(&self) -> &'static str {
        match self {
            Self::MobileWallet { .. } => "Mobile Wallet",
            Self::BankAccount(_) => "Bank Account",
            Self::Till { .. } => "Till",
            Self::Paybill { .. } => "Paybill",
        }
    }

    /// Whether `other` is the same destination (so send money reuses the recipient).
    pub fn same_destination(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::MobileWallet { wallet: a, .. }, Self::MobileWallet { wallet: b, .. }) => {
                a.phone == b.phone
            }
            (Self::BankAccount(a), Self::BankAccount(b)) => {
                a.account_number == b.account_number && a.bank_branch_ref == b.bank_branch_ref
            }
            (Self::Till { till_number: a, .. }, Self::Till { till_number: b, .. }) => a == b,
            (
                Self::Paybill {
                    paybill_number: a,
                    paybill_account_number: x,
                    ..
                },
                Self::Paybill {
                    paybill_number: b,
                    paybill_account_number: y,
                    ..
                },
            ) => a == b && x == y,
            _ => false,
        }
    }
}

/// Parses a `type` string into one of the four external recipient types.
pub fn recipient_type(value: Option<&str>) -> Result<&'static str, Invalid> {
    match required_text(value, "Type")?.as_str() {
        "mobile_wallet" => Ok("mobile_wallet"),
        "bank_account" => Ok("bank_account"),
        "till" => Ok("till"),
        "paybill" => Ok("paybill"),
        _ => Err(Invalid("Invalid recipient type".into())),
    }
}

#[derive(Debug, Clone)]
pub struct ExternalRecipient {
    pub meta: Envelope,
    pub nickname: Option<String>,
    pub details: RecipientDetails,
    /// The pay recipient's own reference (seed 004's `recipient_reference`).
    pub recipient_reference: uuid::Uuid,
}

owned_by_envelope!(MerchantAccount, ExternalRecipient);

/// Blank optional strings count as absent.
pub fn nickname(value: Option<&str>) -> Option<String> {
    optional_text(value)
}

/// Every field any recipient or merchant account may have, as the API's requests (and a
/// scenario's world) spell them; which are required depends on the type. Unknown fields are
/// ignored.
#[derive(Debug, Default, Deserialize, serde::Serialize)]
pub struct RecipientFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    /// The reference's bank recipient example spells it `nick_name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nick_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub phone_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank_branch_ref: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub account_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settlement_method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub till_name: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub till_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paybill_name: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub paybill_number: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub paybill_account_number: Option<String>,
}

impl RecipientFields {
    /// The fields of a recipient's `details`, as a request (or a scenario) writes them.
    pub fn of(details: &RecipientDetails, nickname: Option<String>) -> Self {
        let mut fields = Self {
            nickname,
            ..Self::default()
        };
        match details {
            RecipientDetails::MobileWallet {
                first_name,
                last_name,
                email,
                wallet,
            } => {
                fields.first_name.clone_from(first_name);
                fields.last_name.clone_from(last_name);
                fields.email.clone_from(email);
                fields.phone_number = Some(wallet.phone.to_string());
                fields.network = Some(wallet.network.clone());
            }
            RecipientDetails::BankAccount(bank) => {
                fields.account_name = Some(bank.account_name.clone());
                fields.bank_branch_ref = Some(bank.bank_branch_ref.clone());
                fields.account_number = Some(bank.account_number.clone());
                fields.settlement_method = Some(bank.settlement_method.as_str().to_string());
            }
            RecipientDetails::Till {
                till_name,
                till_number,
            } => {
                fields.till_name.clone_from(till_name);
                fields.till_number = Some(till_number.clone());
            }
            RecipientDetails::Paybill {
                paybill_name,
                paybill_number,
                paybill_account_number,
            } => {
                fields.paybill_name.clone_from(paybill_name);
                fields.paybill_number = Some(paybill_number.clone());
                fields.paybill_account_number = Some(paybill_account_number.clone());
            }
        }
        fields
    }

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
    /// required for wallets and tills, as in the reference's tables. A bank account without a
    /// settlement method settles by EFT: the official Python SDK has no way to send one.
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
        self.recipient(kind, Some(SettlementMethod::Eft))
    }

    /// A recipient as a world may hold one: created through the API (with its names) or
    /// saved by a send money to a new destination (without them), so the names are optional.
    pub fn saved_recipient(&self, kind: &str) -> Result<RecipientDetails, Invalid> {
        self.recipient(kind, Some(SettlementMethod::Eft))
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
