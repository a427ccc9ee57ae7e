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
    pub till_number: Box<str>,
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

/// Who pays: a subscriber's number and names (the names in one allocation).
#[derive(Clone, PartialEq, Eq)]
pub struct Payer {
    pub phone_number: PhoneNumber,
    /// The first, middle and last names, one after the other.
    names: Box<str>,
    /// Where the first and the middle name end in `names`.
    ends: [u32; 2],
}

impl Payer {
    /// A blank name is absent.
    pub fn new(
        phone_number: PhoneNumber,
        first_name: Option<&str>,
        middle_name: Option<&str>,
        last_name: Option<&str>,
    ) -> Self {
        let mut names = String::new();
        let mut ends = [0; 2];
        for (end, name) in ends.iter_mut().zip([first_name, middle_name]) {
            names.push_str(name.unwrap_or_default());
            *end = offset(names.len());
        }
        names.push_str(last_name.unwrap_or_default());
        Self {
            phone_number,
            names: names.into_boxed_str(),
            ends,
        }
    }

    pub fn first_name(&self) -> Option<&str> {
        self.name(0, self.ends[0])
    }

    pub fn middle_name(&self) -> Option<&str> {
        self.name(self.ends[0], self.ends[1])
    }

    pub fn last_name(&self) -> Option<&str> {
        self.name(self.ends[1], offset(self.names.len()))
    }

    fn name(&self, start: u32, end: u32) -> Option<&str> {
        self.names
            .get(start as usize..end as usize)
            .filter(|n| !n.is_empty())
    }
}

/// A place in a payer's names (each at most a few hundred bytes).
fn offset(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

impl std::fmt::Debug for Payer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Payer")
            .field("phone_number", &self.phone_number)
            .field("first_name", &self.first_name())
            .field("middle_name", &self.middle_name())
            .field("last_name", &self.last_name())
            .finish()
    }
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
    /// What few pushes have (boxed, so the others do not pay for it).
    pub rare: Option<Box<Rare>>,
    pub state: PaymentState,
}

/// What few pushes have.
#[derive(Debug, Clone, Default)]
pub struct Rare {
    /// A scenario rule's verdict, which overrides the phone's behaviour.
    pub forced: Option<super::Verdict>,
    /// The payment link whose page sent this prompt: paying it pays the link, and the link's
    /// callback reports it (the prompt itself calls nobody back).
    pub for_link: Option<Uuid>,
}

#[derive(Debug, Clone)]
pub struct PlannedTransaction {
    pub resource_id: Uuid,
    pub reference: crate::clock::MpesaReference,
}

#[derive(Debug, Clone)]
pub enum PaymentState {
    Pending,
    /// The customer paid: a Buygoods transaction now exists.
    Success {
        originated_at_ms: i64,
    },
    /// The push did not end in a payment; each entry is an error text of the reference's
    /// (boxed: the state is 16 bytes, not 24).
    Failed {
        errors: Box<Vec<String>>,
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
    /// See [`Rare::forced`].
    pub fn forced(&self) -> Option<&super::Verdict> {
        self.rare.as_ref().and_then(|r| r.forced.as_ref())
    }

    /// See [`Rare::for_link`].
    pub fn for_link(&self) -> Option<Uuid> {
        self.rare.as_ref().and_then(|r| r.for_link)
    }

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
                errors: Box::new(vec![error]),
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
    fn owner_shared(&self) -> Arc<str> {
        self.owner.clone()
    }
    fn sequence(&self) -> u64 {
        self.sequence
    }
    fn finished(&self) -> bool {
        !self.state.is_pending()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payer_gives_back_each_name_it_was_given_and_none_for_the_rest() {
        let phone = PhoneNumber::parse(Some("0712345678")).expect("a valid number");
        let payer = Payer::new(phone, Some("Joe"), None, Some("Buyer"));
        assert_eq!(payer.phone_number.as_str(), "+254712345678");
        assert_eq!(payer.first_name(), Some("Joe"));
        assert_eq!(payer.middle_name(), None);
        assert_eq!(payer.last_name(), Some("Buyer"));
        let named = Payer::new(phone, Some("Ann"), Some("Wanjiku"), Some("Kamau"));
        assert_eq!(
            [named.first_name(), named.middle_name(), named.last_name()],
            [Some("Ann"), Some("Wanjiku"), Some("Kamau")]
        );
        let nameless = Payer::new(phone, None, Some(""), None);
        assert_eq!(
            [
                nameless.first_name(),
                nameless.middle_name(),
                nameless.last_name()
            ],
            [None, None, None]
        );
    }
}
