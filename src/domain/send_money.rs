//! Send money: blind transfers, transfers to the merchant's own accounts, and payments to
//! external recipients. Funds are reserved from the source account when the request is
//! accepted, so the outcome is decided atomically and in request order; the result is
//! revealed when it falls due.

use rust_decimal::Decimal;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::ledger::Account;
use super::metadata::Metadata;
use super::money::{Amount, Currency};
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
    /// Destination-specific fields shown in the result (nickname, phone_number, ...).
    pub details: Map<String, Value>,
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

/// Which API generation created it, and so which document shows it. The published Node SDK
/// speaks only v1: `/api/v1/payments` and `/api/v1/settlement_transfers`.
#[derive(Debug, Clone)]
pub enum Flavor {
    /// `/api/v2/send_money`.
    SendMoney,
    /// `/api/v1/payments`: one payment to a pay recipient.
    Payment {
        destination_type: String,
        destination_reference: Uuid,
        amount: Amount,
        description: Option<String>,
        category: Option<String>,
        tags: Option<Value>,
    },
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
