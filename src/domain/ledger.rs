//! What the ledger holds: accounts, and the incoming transactions (Buygoods payments from
//! subscribers, B2B payments from other tills) that polling, reversals and SMS notifications
//! look up.

use uuid::Uuid;

use super::money::{Amount, Currency};
use super::phone::PhoneNumber;

/// Where money sits. `Company` is the available balance (`source_identifier: null`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Account {
    Company,
    Till(String),
}

impl Account {
    /// The account a `source_identifier` names: a till number, or null/blank for the company.
    pub fn from_source(source: Option<&str>) -> Self {
        match source.map(str::trim) {
            Some(till) if !till.is_empty() => Self::Till(till.to_string()),
            _ => Self::Company,
        }
    }

    pub fn name(&self) -> String {
        match self {
            Self::Company => "company".into(),
            Self::Till(t) => format!("till:{t}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Payer {
    pub phone_number: PhoneNumber,
    pub first_name: Option<Box<str>>,
    pub middle_name: Option<Box<str>>,
    pub last_name: Option<Box<str>>,
}

#[derive(Debug, Clone)]
pub enum TransactionKind {
    /// A Lipa Na M-PESA payment from a subscriber (shared with the STK push that asked).
    Buygoods(std::sync::Arc<Payer>),
    /// A payment from another till.
    B2b { sending_till: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionStatus {
    Received,
    PendingReversal,
    Reversed,
}

impl TransactionStatus {
    /// How the reversal errors name the state ("You cannot reverse a transaction in ...").
    pub fn label(self) -> &'static str {
        match self {
            Self::Received => "Received",
            Self::PendingReversal => "Pending Reversal",
            Self::Reversed => "Reversed",
        }
    }
}

/// Money received into a till.
#[derive(Debug, Clone)]
pub struct Transaction {
    pub id: Uuid,
    /// Creation order: transactions at the same instant are listed in it.
    pub sequence: u64,
    pub owner: std::sync::Arc<str>,
    /// The M-PESA reference, e.g. `OJM6Q1W84K`.
    pub reference: String,
    pub till_number: String,
    pub amount: Amount,
    pub currency: Currency,
    pub originated_at_ms: i64,
    pub kind: TransactionKind,
    pub status: TransactionStatus,
}

impl crate::domain::Owned for Transaction {
    fn id(&self) -> Uuid {
        self.id
    }
    fn owner(&self) -> &str {
        &self.owner
    }
}
