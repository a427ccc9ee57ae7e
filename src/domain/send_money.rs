//! Send money: blind transfers, transfers to the merchant's own accounts, and payments to
//! external recipients. Funds are reserved from the source account when the request is
//! accepted, so the outcome is decided atomically and in request order; the result is
//! revealed when it falls due.

use rust_decimal::Decimal;
use serde_json::Value;
use uuid::Uuid;

use super::ledger::Account;
use super::metadata::Metadata;
use super::money::{Amount, Currency};
use super::recipients::{MerchantAccount, MerchantAccountKind, RecipientDetails};
use super::{Envelope, owned_by_envelope};

/// One planned disbursement, everything its result will show already known.
#[derive(Debug, Clone)]
pub struct Disbursement {
    pub amount: Decimal,
    /// `merchant_wallet`, `merchant_bank_account`, `mobile_wallet`, `bank_account`, `till`,
    /// `paybill`.
    pub destination_type: &'static str,
    pub destination_reference: Uuid,
    /// The M-PESA reference; `None` for EFT bank transfers.
    pub transaction_reference: Option<String>,
    /// What the result shows of the destination.
    pub shown: Shown,
}

/// What a disbursement's result shows of its destination, besides its amount, type and
/// references: the nickname, and the fields that identify the destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shown {
    MerchantWallet {
        nickname: Option<String>,
        phone_number: String,
    },
    MerchantBankAccount {
        nickname: Option<String>,
        account_name: String,
        account_number: String,
    },
    MobileWallet {
        nickname: Option<String>,
        favourite: bool,
        phone_number: String,
    },
    BankAccount {
        nickname: Option<String>,
        favourite: bool,
        account_name: String,
        account_number: String,
        bank_branch_ref: String,
    },
    Till {
        nickname: Option<String>,
        favourite: bool,
        till_number: String,
    },
    Paybill {
        nickname: Option<String>,
        favourite: bool,
        paybill_number: String,
        paybill_account_number: String,
    },
    /// A v1 payment to a pay recipient shows its nickname only.
    PayRecipient { nickname: Option<String> },
}

impl Shown {
    /// A merchant's own account, as a disbursement to it shows it.
    pub fn merchant(account: &MerchantAccount) -> Self {
        let nickname = account.nickname.clone();
        match &account.kind {
            MerchantAccountKind::Wallet { wallet, .. } => Self::MerchantWallet {
                nickname,
                phone_number: wallet.phone.to_string(),
            },
            MerchantAccountKind::Bank(bank) => Self::MerchantBankAccount {
                nickname,
                account_name: bank.account_name.clone(),
                account_number: bank.account_number.clone(),
            },
        }
    }

    /// An external destination, as a send money request named it.
    pub fn external(details: &RecipientDetails, nickname: Option<String>, favourite: bool) -> Self {
        match details {
            RecipientDetails::MobileWallet { wallet, .. } => Self::MobileWallet {
                nickname,
                favourite,
                phone_number: wallet.phone_as_sent.clone(),
            },
            RecipientDetails::BankAccount(bank) => Self::BankAccount {
                nickname,
                favourite,
                account_name: bank.account_name.clone(),
                account_number: bank.account_number.clone(),
                bank_branch_ref: bank.bank_branch_ref.clone(),
            },
            RecipientDetails::Till { till_number, .. } => Self::Till {
                nickname,
                favourite,
                till_number: till_number.clone(),
            },
            RecipientDetails::Paybill {
                paybill_number,
                paybill_account_number,
                ..
            } => Self::Paybill {
                nickname,
                favourite,
                paybill_number: paybill_number.clone(),
                paybill_account_number: paybill_account_number.clone(),
            },
        }
    }
}

#[derive(Debug, Clone)]
pub enum SendMoneyState {
    Pending,
    Processed { at_ms: i64 },
    Failed { errors: Vec<String> },
}

impl SendMoneyState {
    pub fn status(&self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Processed { .. } => "Processed",
            Self::Failed { .. } => "Failed",
        }
    }
}

/// What a v1 payment's document shows beyond the disbursement.
#[derive(Debug, Clone)]
pub struct Payment {
    pub destination_type: String,
    pub destination_reference: Uuid,
    pub amount: Amount,
    pub description: Option<String>,
    pub category: Option<String>,
    pub tags: Option<Value>,
}

/// Which API generation created it, and so which document shows it. The published Node SDK
/// speaks only v1: `/api/v1/payments` and `/api/v1/settlement_transfers`.
#[derive(Debug, Clone)]
pub enum Flavor {
    /// `/api/v2/send_money`.
    SendMoney,
    /// `/api/v1/payments`: one payment to a pay recipient.
    Payment(Payment),
    /// `/api/v1/settlement_transfers`: money to the merchant's own account.
    SettlementTransfer {
        /// `None` for a blind transfer that sweeps the balance.
        requested: Option<Amount>,
    },
}

#[derive(Debug, Clone)]
pub struct SendMoney {
    pub meta: Envelope,
    pub flavor: Flavor,
    pub source: Account,
    pub source_identifier: Option<String>,
    pub currency: Currency,
    /// The request's destinations as sent (null for transfers to the merchant's own accounts).
    pub destinations: Option<Value>,
    pub disbursements: Vec<Disbursement>,
    pub metadata: Option<Metadata>,
    pub callback_url: String,
    /// The outcome decided when the funds were reserved: `Err` names why it will fail.
    pub planned: Result<(), String>,
    pub state: SendMoneyState,
}

impl SendMoney {
    pub fn total(&self) -> Decimal {
        self.disbursements.iter().map(|d| d.amount).sum()
    }

    /// Reveals the planned outcome at `now_ms`; false if already settled.
    pub fn settle(&mut self, now_ms: i64) -> bool {
        if !matches!(self.state, SendMoneyState::Pending) {
            return false;
        }
        self.state = match &self.planned {
            Ok(()) => SendMoneyState::Processed { at_ms: now_ms },
            Err(e) => SendMoneyState::Failed {
                errors: vec![e.clone()],
            },
        };
        true
    }
}

/// A requested destination amount: `amount` may be a number or a numeric string.
pub fn destination_amount(value: Option<&Value>) -> Result<Amount, super::Invalid> {
    Amount::parse(value, "Amount")
}

owned_by_envelope!(SendMoney => |m| !matches!(m.state, SendMoneyState::Pending));
