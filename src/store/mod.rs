//! In-memory state: a cloneable handle over one concurrent map per collection.
//!
//! Locking rule: the maps are sharded (`DashMap`), so requests touching different resources
//! never contend. A map guard (`Ref`/`RefMut`) is a synchronous lock on its shard: never hold
//! one across `.await` — copy what you need out, or mutate inside a closure.

mod collection;
mod handsets;
mod journal;
mod ledger;

use std::ops::Deref;
use std::sync::Arc;

use dashmap::DashMap;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

pub use self::collection::{Collection, Owned};
pub use self::handsets::Handsets;
pub use self::journal::{Journal, JournalEntry};
pub use self::ledger::{Entry, Insufficient, Ledger};
use crate::callbacks::Delivery;
use crate::domain::incoming_payment::IncomingPayment;
use crate::domain::ledger::Transaction;
use crate::domain::payment_link::PaymentLink;
use crate::domain::polling::Polling;
use crate::domain::recipients::{ExternalRecipient, MerchantAccount};
use crate::domain::reversal::Reversal;
use crate::domain::send_money::SendMoney;
use crate::domain::sms_notification::{SentSms, SmsNotification};
use crate::domain::webhooks::{WebhookEvent, WebhookSubscription};

/// An OAuth application: one set of credentials and the API key its callbacks are signed with.
#[derive(Debug, Clone)]
pub struct Application {
    pub client_id: String,
    pub client_secret: String,
    pub api_key: String,
}

impl Application {
    /// Constant-time check of a presented secret.
    pub fn secret_matches(&self, presented: &str) -> bool {
        self.client_secret
            .as_bytes()
            .ct_eq(presented.as_bytes())
            .into()
    }
}

/// An issued access token. The token itself is not stored, only its SHA-256.
#[derive(Debug, Clone)]
pub struct TokenRecord {
    pub client_id: String,
    pub issued_at_ms: i64,
    pub expires_at_ms: i64,
    /// Revoked tokens are kept, so a client is told "revoked" rather than "invalid".
    pub revoked: bool,
}

impl TokenRecord {
    pub fn is_active(&self, now_ms: i64) -> bool {
        !self.revoked && now_ms < self.expires_at_ms
    }
}

type TokenDigest = [u8; 32];

/// How many API requests the journal keeps.
pub const JOURNAL_CAPACITY: u64 = 10_000;

fn digest(token: &str) -> TokenDigest {
    Sha256::digest(token.as_bytes()).into()
}

#[derive(Clone)]
pub struct Store {
    inner: Arc<Collections>,
}

/// The resource collections, reachable through `Store`'s `Deref`.
pub struct Collections {
    applications: DashMap<String, Application>,
    /// Keyed by the token's SHA-256: a lookup by digest reveals nothing about the token.
    tokens: DashMap<TokenDigest, TokenRecord>,
    deliveries: DashMap<Uuid, Delivery>,
    pub ledger: Ledger,
    /// Till names set by scenarios, by (application, till number).
    pub till_names: DashMap<(String, String), String>,
    pub handsets: Handsets,
    pub journal: Journal,
    pub transactions: Collection<Transaction>,
    pub incoming_payments: Collection<IncomingPayment>,
    pub webhook_subscriptions: Collection<WebhookSubscription>,
    pub webhook_events: Collection<WebhookEvent>,
    pub merchant_accounts: Collection<MerchantAccount>,
    pub external_recipients: Collection<ExternalRecipient>,
    pub send_money: Collection<SendMoney>,
    pub pollings: Collection<Polling>,
    pub sms_notifications: Collection<SmsNotification>,
    pub sms_outbox: Collection<SentSms>,
    pub reversals: Collection<Reversal>,
    pub payment_links: Collection<PaymentLink>,
}

impl Deref for Store {
    type Target = Collections;

    fn deref(&self) -> &Collections {
        &self.inner
    }
}

impl Store {
    /// An empty store whose accounts start at `initial_balance`; ledger entries are stamped
    /// with `clock`.
    pub fn new(initial_balance: Decimal, clock: crate::clock::Clock) -> Self {
        Self {
            inner: Arc::new(Collections {
                applications: DashMap::new(),
                tokens: DashMap::new(),
                deliveries: DashMap::new(),
                ledger: Ledger::new(initial_balance, clock),
                till_names: DashMap::new(),
                handsets: Handsets::default(),
                journal: Journal::new(JOURNAL_CAPACITY),
                transactions: Collection::default(),
                incoming_payments: Collection::default(),
                webhook_subscriptions: Collection::default(),
                webhook_events: Collection::default(),
                merchant_accounts: Collection::default(),
                external_recipients: Collection::default(),
                send_money: Collection::default(),
                pollings: Collection::default(),
                sms_notifications: Collection::default(),
                sms_outbox: Collection::default(),
                reversals: Collection::default(),
                payment_links: Collection::default(),
            }),
        }
    }

    // --- applications -------------------------------------------------------------------

    pub fn add_application(&self, app: Application) {
        self.inner.applications.insert(app.client_id.clone(), app);
    }

    /// Adds `app` unless its client id exists already (first one wins, atomically).
    pub fn provision_application(&self, app: Application) -> bool {
        let mut added = false;
        self.inner
            .applications
            .entry(app.client_id.clone())
            .or_insert_with(|| {
                added = true;
                app
            });
        added
    }

    pub fn application(&self, client_id: &str) -> Option<Application> {
        self.inner
            .applications
            .get(client_id)
            .map(|a| a.value().clone())
    }

    /// The application whose credentials these are, if they are right.
    pub fn authenticate_client(&self, client_id: &str, secret: &str) -> Option<Application> {
        self.application(client_id)
            .filter(|app| app.secret_matches(secret))
    }

    // --- tokens -------------------------------------------------------------------------

    pub fn insert_token(&self, token: &str, record: TokenRecord) {
        self.inner.tokens.insert(digest(token), record);
    }

    /// The record of a token, active or not. The final comparison is constant-time.
    pub fn token(&self, token: &str) -> Option<TokenRecord> {
        let wanted = digest(token);
        let entry = self.inner.tokens.get(&wanted)?;
        bool::from(entry.key().ct_eq(&wanted)).then(|| entry.value().clone())
    }

    /// Revokes a token if it belongs to `client_id`; returns whether it did.
    pub fn revoke_token(&self, token: &str, client_id: &str) -> bool {
        self.inner
            .tokens
            .get_mut(&digest(token))
            .filter(|r| r.client_id == client_id)
            .map(|mut r| r.revoked = true)
            .is_some()
    }

    // --- callback deliveries ------------------------------------------------------------

    pub fn insert_delivery(&self, delivery: Delivery) {
        self.inner.deliveries.insert(delivery.id, delivery);
    }

    pub fn delivery(&self, id: Uuid) -> Option<Delivery> {
        self.inner.deliveries.get(&id).map(|d| d.value().clone())
    }

    pub fn update_delivery<R>(&self, id: Uuid, f: impl FnOnce(&mut Delivery) -> R) -> Option<R> {
        self.inner.deliveries.get_mut(&id).map(|mut d| f(&mut d))
    }

    /// Every delivery, oldest first.
    pub fn deliveries(&self) -> Vec<Delivery> {
        let mut all: Vec<Delivery> = self
            .inner
            .deliveries
            .iter()
            .map(|d| d.value().clone())
            .collect();
        all.sort_by_key(|d| d.sequence);
        all
    }

    // --- control plane ------------------------------------------------------------------

    /// Forgets one application's resources, deliveries, balances and journal; others are
    /// untouched. The application and its tokens stay.
    pub fn reset_owner(&self, owner: &str) {
        let c = &self.inner;
        c.deliveries.retain(|_, d| d.owner != owner);
        c.ledger.clear_owner(owner);
        c.handsets.remove_owner(owner);
        c.till_names.retain(|(o, _), _| o != owner);
        c.journal.clear_owner(owner);
        c.transactions.remove_owner(owner);
        c.incoming_payments.remove_owner(owner);
        c.webhook_subscriptions.remove_owner(owner);
        c.webhook_events.remove_owner(owner);
        c.merchant_accounts.remove_owner(owner);
        c.external_recipients.remove_owner(owner);
        c.send_money.remove_owner(owner);
        c.pollings.remove_owner(owner);
        c.sms_notifications.remove_owner(owner);
        c.sms_outbox.remove_owner(owner);
        c.reversals.remove_owner(owner);
        c.payment_links.remove_owner(owner);
    }

    /// Forgets every resource, delivery and balance. Applications and their tokens stay, so a
    /// client holding a token can go on after a reset.
    pub fn reset(&self) {
        let c = &self.inner;
        c.deliveries.clear();
        c.ledger.clear();
        c.handsets.clear();
        c.till_names.clear();
        c.journal.clear();
        c.transactions.clear();
        c.incoming_payments.clear();
        c.webhook_subscriptions.clear();
        c.webhook_events.clear();
        c.merchant_accounts.clear();
        c.external_recipients.clear();
        c.send_money.clear();
        c.pollings.clear();
        c.sms_notifications.clear();
        c.sms_outbox.clear();
        c.reversals.clear();
        c.payment_links.clear();
    }
}
