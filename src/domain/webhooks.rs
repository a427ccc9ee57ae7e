//! Webhook subscriptions and the events they receive (reference, "Webhooks").

use std::sync::Arc;

use serde_json::value::RawValue;
use uuid::Uuid;

use super::ledger::{Sender, Transaction};
use super::self_url::UrlPrefix;
use super::{Envelope, Invalid, Scope, owned_by_envelope};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    BuygoodsTransactionReceived,
    BuygoodsTransactionReversed,
    B2bTransactionReceived,
    B2bTransactionReversed,
    SettlementTransferCompleted,
    CustomerCreated,
    CardTransactionReceived,
    CardTransactionVoided,
    CardTransactionReversed,
    /// Another merchant paid the company account (Kopo Kopo wallet to wallet).
    M2mTransactionReceived,
}

impl EventType {
    /// The event of a ledger transaction received, or reversed.
    pub fn of_transaction(tx: &Transaction, reversed: bool) -> Self {
        match (tx.sender(), reversed) {
            (Sender::Buygoods(_), false) => Self::BuygoodsTransactionReceived,
            (Sender::Buygoods(_), true) => Self::BuygoodsTransactionReversed,
            (Sender::B2b { .. }, false) => Self::B2bTransactionReceived,
            (Sender::B2b { .. }, true) => Self::B2bTransactionReversed,
        }
    }

    pub const ALL: [Self; 10] = [
        Self::BuygoodsTransactionReceived,
        Self::BuygoodsTransactionReversed,
        Self::B2bTransactionReceived,
        Self::B2bTransactionReversed,
        Self::SettlementTransferCompleted,
        Self::CustomerCreated,
        Self::CardTransactionReceived,
        Self::CardTransactionVoided,
        Self::CardTransactionReversed,
        Self::M2mTransactionReceived,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::BuygoodsTransactionReceived => "buygoods_transaction_received",
            Self::BuygoodsTransactionReversed => "buygoods_transaction_reversed",
            Self::B2bTransactionReceived => "b2b_transaction_received",
            Self::B2bTransactionReversed => "b2b_transaction_reversed",
            Self::SettlementTransferCompleted => "settlement_transfer_completed",
            Self::CustomerCreated => "customer_created",
            Self::CardTransactionReceived => "card_transaction_received",
            Self::CardTransactionVoided => "card_transaction_voided",
            Self::CardTransactionReversed => "card_transaction_reversed",
            Self::M2mTransactionReceived => "m2m_transaction_received",
        }
    }

    pub fn parse(value: Option<&str>) -> Result<Self, Invalid> {
        let text = super::required_text(value, "Event type")?;
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == text)
            .ok_or_else(|| {
                Invalid(format!(
                    "Event type is invalid: use one of {}{}",
                    Self::ALL.map(Self::as_str).join(", "),
                    crate::suggest::did_you_mean(&text, Self::ALL.map(Self::as_str))
                ))
            })
    }
}

/// The validated fields of a subscription request: what `service::webhook_subscriptions`
/// records.
#[derive(Debug, Clone)]
pub struct NewSubscription {
    pub event_type: EventType,
    pub url: String,
    pub scope: Scope,
    pub enable_daraja_payload: bool,
}

#[derive(Debug, Clone)]
pub struct WebhookSubscription {
    pub meta: Envelope,
    pub event_type: EventType,
    pub url: String,
    pub scope: Scope,
    pub enable_daraja_payload: bool,
}

impl WebhookSubscription {
    /// Whether an event of `topic` on `till` (None: not till-specific) goes to this subscription.
    pub fn matches(&self, topic: EventType, till: Option<&str>) -> bool {
        self.event_type == topic
            && match (&self.scope, till) {
                (Scope::Company, _) => true,
                (scope, Some(till)) => scope.covers(till),
                (Scope::Till(_), None) => false,
            }
    }
}

/// An event the sandbox sent (or would have sent) to subscribers, kept so it can be queried
/// and named by SMS notifications. An event about a transaction keeps only what the
/// transaction does not say; any other keeps its payload as rendered when it happened.
#[derive(Debug, Clone)]
pub struct WebhookEvent {
    pub id: Uuid,
    /// Creation order among all resources.
    pub sequence: u64,
    pub topic: EventType,
    /// The K2Connect payload. A Daraja payload is rendered only for the subscriptions that
    /// ask for it, and not kept.
    pub payload: EventPayload,
}

/// What an event's K2Connect payload is made from: kept as the facts, rendered when it is
/// sent or shown (a rendered payload is a kilobyte of text per payment received, and most
/// events have no subscription to send it to).
#[derive(Debug, Clone)]
pub enum EventPayload {
    /// A ledger transaction received (when it was, where it came through, whose application
    /// owns it: all the transaction's), or reversed.
    Transaction {
        /// The one the transactions collection holds, shared until the transaction changes.
        tx: Arc<Transaction>,
        /// Set for a reversal (rare: boxed).
        reversed: Option<Box<Reversed>>,
    },
    /// Any other payload (rare: boxed).
    Rendered(Box<RenderedEvent>),
}

/// When a transaction was reversed, and where the event of it lives.
#[derive(Debug, Clone)]
pub struct Reversed {
    pub at_ms: i64,
    pub url: UrlPrefix,
}

/// An event that is not about a transaction: its payload as the compact JSON text it was
/// sent as, and what the payload does not say.
#[derive(Debug, Clone)]
pub struct RenderedEvent {
    pub owner: Arc<str>,
    pub created_at_ms: i64,
    pub url: UrlPrefix,
    pub text: Box<RawValue>,
    /// The till it names, if any.
    pub till_number: Option<Box<str>>,
}

/// Where webhook events live below a base URL.
pub const COLLECTION: &str = "/webhook_events";

impl WebhookEvent {
    /// The event of `tx` received (`reversal: None`; it lives at the transaction's base URL)
    /// or reversed (when, and the base URL the reversal came through).
    pub fn of_transaction(
        id: Uuid,
        sequence: u64,
        tx: Arc<Transaction>,
        reversal: Option<(i64, &str)>,
    ) -> Self {
        Self {
            id,
            sequence,
            topic: EventType::of_transaction(&tx, reversal.is_some()),
            payload: EventPayload::Transaction {
                reversed: reversal.map(|(at_ms, base_url)| {
                    Box::new(Reversed {
                        at_ms,
                        url: UrlPrefix::new(base_url, COLLECTION),
                    })
                }),
                tx,
            },
        }
    }

    /// The application it belongs to, shared.
    pub fn owner_id(&self) -> &Arc<str> {
        match &self.payload {
            EventPayload::Transaction { tx, .. } => tx.owner_id(),
            EventPayload::Rendered(r) => &r.owner,
        }
    }

    pub fn created_at_ms(&self) -> i64 {
        match &self.payload {
            EventPayload::Transaction {
                reversed: Some(r), ..
            } => r.at_ms,
            EventPayload::Transaction { tx, .. } => tx.originated_at_ms(),
            EventPayload::Rendered(r) => r.created_at_ms,
        }
    }

    /// When the transaction it reports was reversed, for a reversal's event.
    pub fn reversed_at_ms(&self) -> Option<i64> {
        match &self.payload {
            EventPayload::Transaction { reversed, .. } => reversed.as_ref().map(|r| r.at_ms),
            EventPayload::Rendered(_) => None,
        }
    }

    /// Where it lives: its URL is this and its id (`_links.self`).
    pub fn url(&self) -> UrlPrefix {
        match &self.payload {
            EventPayload::Transaction {
                reversed: Some(r), ..
            } => r.url.clone(),
            EventPayload::Transaction { tx, .. } => UrlPrefix::new(tx.base_url(), COLLECTION),
            EventPayload::Rendered(r) => r.url.clone(),
        }
    }

    /// The till the event is about, which subscriptions of till scope match on.
    pub fn till_number(&self) -> Option<&str> {
        match &self.payload {
            EventPayload::Transaction { tx, .. } => Some(tx.till_number()),
            EventPayload::Rendered(r) => r.till_number.as_deref(),
        }
    }

    /// For a Buygoods payment received: the paying subscriber, whom a transaction SMS
    /// notification naming this event goes to.
    pub fn sender_phone(&self) -> Option<&str> {
        match &self.payload {
            EventPayload::Transaction { tx, reversed: None } => match tx.sender() {
                Sender::Buygoods(payer) => Some(payer.phone_number.as_str()),
                Sender::B2b { .. } => None,
            },
            _ => None,
        }
    }
}

impl crate::domain::Owned for WebhookEvent {
    fn id(&self) -> Uuid {
        self.id
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

owned_by_envelope!(WebhookSubscription);
