//! An STK push ("incoming payment request"): what was asked, and the state it moves through.
//! Pending until its result is decided, then Success (the customer paid) or Failed.

use std::sync::Arc;

use uuid::Uuid;

use super::metadata::Metadata;
use super::money::{Amount, Currency};
use super::phone::PhoneNumber;

/// A validated STK push request.
#[derive(Debug, Clone)]
pub struct NewIncomingPayment {
    pub till_number: String,
    pub subscriber: Subscriber,
    pub amount: Amount,
    pub currency: Currency,
    pub metadata: Option<Metadata>,
    /// A validated absolute http(s) URL, as the client wrote it; shared with the result's
    /// delivery record.
    pub callback_url: std::sync::Arc<str>,
}

/// Who is asked to pay: the payer (shared with the transaction a payment creates, so a
/// settled push keeps one copy of the names and number) and their email.
#[derive(Debug, Clone)]
pub struct Subscriber {
    pub payer: Arc<Payer>,
    pub email: Option<Box<str>>,
}

impl std::ops::Deref for Subscriber {
    type Target = Payer;

    fn deref(&self) -> &Payer {
        &self.payer
    }
}

/// Who pays: a subscriber's number and names.
#[derive(Debug, Clone)]
pub struct Payer {
    pub phone_number: PhoneNumber,
    pub first_name: Option<Box<str>>,
    pub middle_name: Option<Box<str>>,
    pub last_name: Option<Box<str>>,
}

#[derive(Debug, Clone)]
pub struct IncomingPayment {
    pub id: Uuid,
    /// Creation order (the latest prompt of a phone is the one answered by number).
    pub sequence: u64,
    /// The OAuth application (client id) that created it; no other application can see it.
    pub owner: std::sync::Arc<str>,
    pub request: NewIncomingPayment,
    pub initiated_at_ms: i64,
    /// Where it lives: its URL is this and its id (see [`Self::self_url`]).
    pub url: super::self_url::UrlPrefix,
    /// Ids of the transaction a success creates, drawn at creation so that a seeded run gives
    /// the same values whatever order results are decided in.
    pub planned: PlannedTransaction,
    /// A scenario rule's verdict, which overrides the phone's behaviour.
    pub forced: Option<Box<super::Verdict>>,
    /// The payment link whose page sent this prompt: paying it pays the link, and the link's
    /// callback reports it (the prompt itself calls nobody back).
    pub for_link: Option<Box<Uuid>>,
    pub state: PaymentState,
}

#[derive(Debug, Clone)]
pub struct PlannedTransaction {
    pub resource_id: Uuid,
    pub reference: Box<str>,
}

#[derive(Debug, Clone)]
pub enum PaymentState {
    Pending,
    /// The customer paid: a Buygoods transaction now exists.
    Success {
        originated_at_ms: i64,
    },
    /// The push did not end in a payment; each entry is an error text of the reference's.
    Failed {
        errors: Vec<String>,
    },
}

impl PaymentState {
    pub fn status(&self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Success { .. } => "Success",
            Self::Failed { .. } => "Failed",
        }
    }

    pub fn is_pending(&self) -> bool {
        matches!(self, Self::Pending)
    }
}

/// How a pending push ends: decided by the virtual customer (`domain::handset`).
#[derive(Debug, Clone)]
pub enum Outcome {
    Paid,
    Failed(String),
}

impl IncomingPayment {
    /// Its absolute URL, fixed at creation (`Location`, `_links.self`).
    pub fn self_url(&self) -> super::self_url::SelfUrl<'_> {
        self.url.of(self.id)
    }

    /// Applies an outcome at `now_ms`. Returns false when the payment had already settled:
    /// a result is decided once.
    pub fn settle(&mut self, outcome: Outcome, now_ms: i64) -> bool {
        if !self.state.is_pending() {
            return false;
        }
        self.state = match outcome {
            Outcome::Paid => PaymentState::Success {
                originated_at_ms: now_ms,
            },
            Outcome::Failed(error) => PaymentState::Failed {
                errors: vec![error],
            },
        };
        true
    }
}

impl crate::domain::Owned for IncomingPayment {
    fn id(&self) -> Uuid {
        self.id
    }
    fn owner(&self) -> &str {
        &self.owner
    }
    fn finished(&self) -> bool {
        !self.state.is_pending()
    }
}
