//! In-memory state: a cloneable handle over one concurrent map per collection.
//!
//! Locking rule: the maps are sharded (`DashMap`), so requests touching different resources
//! never contend. A map guard (`Ref`/`RefMut`) is a synchronous lock on its shard: never hold
//! one across `.await` — copy what you need out, or mutate inside a closure.

mod collection;
pub mod feed;
mod handsets;
pub mod journal;
mod ledger;
mod map;
mod page;
mod retention;
mod table;
mod tenants;
mod tokens;

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use rust_decimal::Decimal;
use uuid::Uuid;

pub use self::collection::Collection;
pub use self::feed::Feed;
pub use self::handsets::Handsets;
pub use self::journal::{Journal, JournalEntry};
pub use self::ledger::{Entry, Insufficient, Ledger, Memo};
pub use self::map::Map;
pub use self::page::{Page, PageRequest};
pub use self::retention::Retention;
pub use self::tenants::Application;
use self::tenants::Applications;
pub use self::tokens::{TOKENS_PER_RETAINED, TokenRecord, Tokens, Used};
use crate::domain::delivery::Delivery;
use crate::domain::incoming_payment::IncomingPayment;
use crate::domain::ledger::Transaction;
use crate::domain::payment_link::PaymentLink;
use crate::domain::polling::Polling;
use crate::domain::recipients::{ExternalRecipient, MerchantAccount};
use crate::domain::reversal::Reversal;
use crate::domain::send_money::SendMoney;
use crate::domain::sms_notification::{SentSms, SmsNotification};
use crate::domain::webhooks::{WebhookEvent, WebhookSubscription};

/// How many API requests the journal keeps.
pub const JOURNAL_CAPACITY: u64 = 10_000;

#[derive(Clone)]
pub struct Store {
    inner: Arc<Collections>,
}

/// The resource collections, reachable through `Store`'s `Deref`.
pub struct Collections {
    applications: Applications,
    tokens: Tokens,
    deliveries: Collection<Delivery>,
    pub ledger: Ledger,
    /// Till names set by scenarios, by (application, till number).
    pub till_names: Map<(String, String), String>,
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
    /// The live feed of what happens (`GET /_sandbox/stream`).
    pub feed: Arc<Feed>,
}

impl Deref for Store {
    type Target = Collections;

    fn deref(&self) -> &Collections {
        &self.inner
    }
}

impl Store {
    /// An empty store whose accounts start at `initial_balance`; ledger entries are stamped
    /// with `clock`; each application keeps at most `retention` items of each kind.
    pub fn new(initial_balance: Decimal, clock: crate::clock::Clock, retention: usize) -> Self {
        Self {
            inner: Arc::new(Collections {
                applications: Applications::default(),
                tokens: Tokens::new(retention),
                deliveries: Collection::new(retention),
                ledger: Ledger::new(initial_balance, clock, retention),
                till_names: Map::default(),
                handsets: Handsets::default(),
                journal: Journal::new(JOURNAL_CAPACITY),
                transactions: Collection::new(retention),
                incoming_payments: Collection::new(retention),
                webhook_subscriptions: Collection::new(retention),
                webhook_events: Collection::new(retention),
                merchant_accounts: Collection::new(retention),
                external_recipients: Collection::new(retention),
                send_money: Collection::new(retention),
                pollings: Collection::new(retention),
                sms_notifications: Collection::new(retention),
                sms_outbox: Collection::new(retention),
                reversals: Collection::new(retention),
                payment_links: Collection::new(retention),
                feed: Arc::default(),
            }),
        }
    }

    // --- applications and tokens (`tenants.rs`, `tokens.rs`) ----------------------------

    pub fn add_application(&self, app: Application) {
        self.inner.applications.add(app);
    }

    /// Adds `app` as an auto-provisioned tenant unless its client id exists already (first
    /// one wins, atomically). Past `max_tenants`, the tenant unused the longest is dropped
    /// with its tokens and its world; returns whether `app` was added and which tenant made
    /// room for it.
    pub fn provision_application(
        &self,
        app: Application,
        max_tenants: usize,
    ) -> (bool, Option<String>) {
        let (added, dropped) = self.inner.applications.provision(app, max_tenants);
        if let Some(old) = &dropped {
            self.drop_tenant(old);
        }
        (added, dropped)
    }

    /// Whether `client_id` was auto-provisioned (`--auto-tenants`).
    pub fn is_tenant(&self, client_id: &str) -> bool {
        self.inner.applications.is_tenant(client_id)
    }

    /// Notes that an auto-provisioned tenant was just used (a token, a request).
    pub fn touch_tenant(&self, client_id: &str) {
        self.inner.applications.touch(client_id);
    }

    /// The auto-provisioned tenants unused for longer than `ttl`.
    pub fn idle_tenants(&self, ttl: Duration) -> Vec<String> {
        self.inner.applications.idle(ttl)
    }

    /// Forgets an auto-provisioned tenant: the application, its tokens and its world.
    pub fn drop_tenant(&self, client_id: &str) {
        self.reset_owner(client_id);
        self.inner.applications.remove(client_id);
        self.inner.tokens.remove_owner(client_id);
    }

    /// Every application, by client id.
    pub fn applications(&self) -> Vec<Arc<Application>> {
        self.inner.applications.all()
    }

    pub fn application(&self, client_id: &str) -> Option<Arc<Application>> {
        self.inner.applications.get(client_id)
    }

    /// `client_id` as the shared text its application holds, so that the records it owns
    /// (thousands per application) point at one copy instead of each keeping its own; a new
    /// copy for an unknown one.
    pub fn owner(&self, client_id: &str) -> Arc<str> {
        self.inner.applications.owner(client_id)
    }

    /// The application whose credentials these are, if they are right.
    pub fn authenticate_client(&self, client_id: &str, secret: &str) -> Option<Arc<Application>> {
        self.application(client_id)
            .filter(|app| app.secret_matches(secret))
    }

    /// See [`Tokens::issue`].
    pub fn issue_token(&self, key: [u8; 32], record: TokenRecord) -> String {
        self.inner.tokens.issue(key, record)
    }

    /// See [`Tokens::purge`].
    pub fn purge_tokens(&self, now_ms_of: impl Fn(&str) -> i64, keep_ms: i64) -> usize {
        self.inner.tokens.purge(now_ms_of, keep_ms)
    }

    /// The record of a token, active or not; marks it used.
    pub fn token(&self, token: &str) -> Option<TokenRecord> {
        self.inner.tokens.get(token)
    }

    /// Revokes a token if it belongs to `client_id`; returns whether it did.
    pub fn revoke_token(&self, token: &str, client_id: &str, now_ms: i64) -> bool {
        self.inner.tokens.revoke(token, client_id, now_ms)
    }

    // --- callback deliveries ------------------------------------------------------------

    pub fn insert_delivery(&self, delivery: Delivery) {
        self.inner.deliveries.insert(delivery);
    }

    pub fn delivery(&self, id: Uuid) -> Option<Delivery> {
        self.inner.deliveries.get_any(id)
    }

    /// What `f` reads from a delivery, without copying it.
    pub fn read_delivery<R>(&self, id: Uuid, f: impl FnOnce(&Delivery) -> R) -> Option<R> {
        self.inner.deliveries.inspect(id, f)
    }

    pub fn update_delivery<R>(&self, id: Uuid, f: impl FnOnce(&mut Delivery) -> R) -> Option<R> {
        self.inner.deliveries.update(id, f)
    }

    /// How many deliveries satisfy `keep`.
    pub fn count_deliveries(&self, keep: impl Fn(&Delivery) -> bool) -> usize {
        self.inner.deliveries.count_any(keep)
    }

    /// Copies of the deliveries that satisfy `keep` (control plane).
    pub fn deliveries_where(&self, keep: impl Fn(&Delivery) -> bool) -> Vec<Delivery> {
        self.inner.deliveries.filter_any(keep)
    }

    /// A page of the delivery log, newest first.
    pub fn deliveries(
        &self,
        request: PageRequest,
        keep: impl Fn(&Delivery) -> bool,
    ) -> Page<Delivery> {
        self.inner
            .deliveries
            .page_any(request, |d| d.sequence, keep)
    }

    // --- control plane ------------------------------------------------------------------

    /// Everything an application's world is made of, in one list that both resets walk. The
    /// collections are named field by field: a field added to `Collections` and left out
    /// here fails to compile, so a new collection is reset by both.
    fn world(&self) -> [&dyn World; 17] {
        /// Binds the fields named (with the pattern's rest left out, every field must be named)
        /// and lists them.
        macro_rules! every {
            (not: $($skip:ident),*; $($field:ident),* $(,)?) => {{
                let Collections { $($skip: _,)* $($field),* } = &*self.inner;
                [$($field as &dyn World),*]
            }};
        }
        // The applications and their tokens outlive a reset; the feed is not a world.
        every!(not: applications, tokens, feed;
            deliveries, ledger, handsets, till_names, journal, transactions, incoming_payments,
            webhook_subscriptions, webhook_events, merchant_accounts, external_recipients,
            send_money, pollings, sms_notifications, sms_outbox, reversals, payment_links,
        )
    }

    /// Forgets one application's resources, deliveries, balances and journal; others are
    /// untouched. The application and its tokens stay.
    pub fn reset_owner(&self, owner: &str) {
        for part in self.world() {
            part.forget_owner(owner);
        }
    }

    /// Forgets every resource, delivery and balance. Applications and their tokens stay, so a
    /// client holding a token can go on after a reset.
    pub fn reset(&self) {
        for part in self.world() {
            part.forget_all();
        }
    }
}

/// A part of the applications' worlds that a reset forgets.
trait World {
    fn forget_owner(&self, owner: &str);
    fn forget_all(&self);
}

impl<T: crate::domain::Owned + Clone> World for Collection<T> {
    fn forget_owner(&self, owner: &str) {
        self.remove_owner(owner);
    }
    fn forget_all(&self) {
        self.clear();
    }
}

impl World for Ledger {
    fn forget_owner(&self, owner: &str) {
        self.clear_owner(owner);
    }
    fn forget_all(&self) {
        self.clear();
    }
}

impl World for Journal {
    fn forget_owner(&self, owner: &str) {
        self.clear_owner(owner);
    }
    fn forget_all(&self) {
        self.clear();
    }
}

impl World for Handsets {
    fn forget_owner(&self, owner: &str) {
        self.remove_owner(owner);
    }
    fn forget_all(&self) {
        self.clear();
    }
}

/// Till names, by (application, till number).
impl World for Map<(String, String), String> {
    fn forget_owner(&self, owner: &str) {
        self.retain(|(o, _), _| o != owner);
    }
    fn forget_all(&self) {
        self.clear();
    }
}
