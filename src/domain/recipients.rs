//! Where money can be sent: the merchant's own settlement accounts (merchant wallets and bank
//! accounts) and external recipients (mobile wallets, bank accounts, tills, paybills).

use super::phone::PhoneNumber;
use super::{Envelope, Invalid, optional_text, owned_by_envelope, required_text};

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
