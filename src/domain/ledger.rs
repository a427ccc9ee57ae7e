//! What the ledger holds: accounts, and the incoming transactions (Buygoods payments from
//! subscribers, B2B payments from other tills) that polling, reversals and SMS notifications
//! look up.

use std::sync::Arc;

use uuid::Uuid;

pub use super::incoming_payment::Payer;
use super::incoming_payment::{IncomingPayment, PaymentState};
use super::money::{Amount, Currency};

/// Where money sits. `Company` is the available balance (`source_identifier: null`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Account {
    Company,
    Till(Arc<str>),
}

impl Account {
    /// The account a `source_identifier` names: a till number, or null/blank for the company.
    pub fn from_source(source: Option<&str>) -> Self {
        match source.map(str::trim) {
            Some(till) if !till.is_empty() => Self::Till(till.into()),
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
pub enum TransactionKind {
    /// A Lipa Na M-PESA payment from a subscriber.
    Buygoods(Arc<Payer>),
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

/// Money received into a till: what happened, and where it stands.
#[derive(Debug, Clone)]
pub struct Transaction {
    /// Creation order: transactions at the same instant are listed in it.
    pub sequence: u64,
    pub status: TransactionStatus,
    facts: Facts,
}

/// What a transaction is, as an STK push paid it or as it came otherwise.
#[derive(Debug, Clone)]
enum Facts {
    /// Paid through an STK push, whose settled record already holds every fact: its planned
    /// id and reference, till, amount, payer and the moment it succeeded. Shared, not copied
    /// (a received payment costs its sequence and status beside the push).
    Push(Arc<IncomingPayment>),
    /// Received any other way (simulated activity, a scenario's world).
    Own(Arc<TransactionFacts>),
}

/// A transaction's facts, for one that no STK push paid.
#[derive(Debug, Clone)]
pub struct TransactionFacts {
    pub id: Uuid,
    pub owner: Arc<str>,
    /// The M-PESA reference, e.g. `OJM6Q1W84K`.
    pub reference: String,
    pub till_number: String,
    pub amount: Amount,
    pub currency: Currency,
    pub originated_at_ms: i64,
    pub kind: TransactionKind,
    /// The base URL it came through, where its webhook event lives.
    pub base_url: Box<str>,
}

/// Who paid, as a transaction shows it.
#[derive(Debug, Clone, Copy)]
pub enum Sender<'a> {
    /// A subscriber, through Lipa Na M-PESA.
    Buygoods(&'a Payer),
    /// Another till.
    B2b { sending_till: &'a str },
}

impl Transaction {
    /// A transaction received now, with these facts.
    pub fn new(sequence: u64, facts: TransactionFacts) -> Self {
        Self {
            sequence,
            status: TransactionStatus::Received,
            facts: Facts::Own(Arc::new(facts)),
        }
    }

    /// The Buygoods transaction a succeeded STK push created, numbered by `sequence`; `None`
    /// for a push that did not succeed (and no number drawn).
    pub fn paid_by(push: Arc<IncomingPayment>, sequence: impl FnOnce() -> u64) -> Option<Self> {
        matches!(push.state, PaymentState::Success { .. }).then(|| Self {
            sequence: sequence(),
            status: TransactionStatus::Received,
            facts: Facts::Push(push),
        })
    }

    pub fn id(&self) -> Uuid {
        match &self.facts {
            Facts::Push(p) => p.planned.resource_id,
            Facts::Own(f) => f.id,
        }
    }

    /// The application it belongs to, shared.
    pub fn owner_id(&self) -> &Arc<str> {
        match &self.facts {
            Facts::Push(p) => &p.owner,
            Facts::Own(f) => &f.owner,
        }
    }

    /// The M-PESA reference, e.g. `OJM6Q1W84K`.
    pub fn reference(&self) -> &str {
        match &self.facts {
            Facts::Push(p) => p.planned.reference.as_str(),
            Facts::Own(f) => &f.reference,
        }
    }

    pub fn till_number(&self) -> &str {
        match &self.facts {
            Facts::Push(p) => &p.request.till_number,
            Facts::Own(f) => &f.till_number,
        }
    }

    pub fn amount(&self) -> Amount {
        match &self.facts {
            Facts::Push(p) => p.request.amount,
            Facts::Own(f) => f.amount,
        }
    }

    pub fn currency(&self) -> Currency {
        match &self.facts {
            Facts::Push(p) => p.request.currency,
            Facts::Own(f) => f.currency,
        }
    }

    pub fn originated_at_ms(&self) -> i64 {
        match &self.facts {
            Facts::Push(p) => match p.state {
                PaymentState::Success { originated_at_ms } => originated_at_ms,
                // Never: `paid_by` takes only a push that succeeded.
                _ => p.initiated_at_ms,
            },
            Facts::Own(f) => f.originated_at_ms,
        }
    }

    /// The base URL it came through (the push's, for one a push paid): where the event of its
    /// receipt lives.
    pub fn base_url(&self) -> &str {
        match &self.facts {
            Facts::Push(p) => p.url.base(),
            Facts::Own(f) => &f.base_url,
        }
    }

    pub fn sender(&self) -> Sender<'_> {
        match &self.facts {
            Facts::Push(p) => Sender::Buygoods(&p.request.subscriber.payer),
            Facts::Own(f) => match &f.kind {
                TransactionKind::Buygoods(payer) => Sender::Buygoods(payer),
                TransactionKind::B2b { sending_till } => Sender::B2b { sending_till },
            },
        }
    }

    /// Whether a subscriber paid it (a Buygoods transaction), not another till.
    pub fn is_buygoods(&self) -> bool {
        matches!(self.sender(), Sender::Buygoods(_))
    }
}

impl crate::domain::Owned for Transaction {
    fn id(&self) -> Uuid {
        Transaction::id(self)
    }
    fn owner(&self) -> &str {
        self.owner_id()
    }
    fn owner_shared(&self) -> Arc<str> {
        self.owner_id().clone()
    }
    fn sequence(&self) -> u64 {
        self.sequence
    }
}
