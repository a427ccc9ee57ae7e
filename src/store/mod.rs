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

use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rust_decimal::Decimal;
use subtle::ConstantTimeEq;
use uuid::Uuid;

pub use self::collection::Collection;
pub use self::feed::Feed;
pub use self::handsets::Handsets;
pub use self::journal::{Journal, JournalEntry};
pub use self::ledger::{Entry, Insufficient, Ledger, Memo};
pub use self::map::Map;
pub use self::page::{Page, PageRequest};
pub use self::retention::Retention;
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

/// An OAuth application: one set of credentials and the API key its callbacks are signed with.
#[derive(Debug, Clone)]
pub struct Application {
    /// Shared: the tokens it is issued and the requests they authenticate carry it.
    pub client_id: Arc<str>,
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

/// An issued access token's record (the token is its key in the store).
#[derive(Debug, Clone)]
pub struct TokenRecord {
    /// Shared: every request the token authenticates carries it without copying.
    pub client_id: std::sync::Arc<str>,
    pub issued_at_ms: i64,
    pub expires_at_ms: i64,
    /// Revoked tokens are kept for a while, so a client is told "revoked" rather than
    /// "invalid".
    pub revoked: bool,
    pub revoked_at_ms: Option<i64>,
    /// Whether it authenticated a request since the token cap last looked at it.
    pub used: Used,
}

/// A token's mark of use (a second chance past the cap, as a resource's read mark): set when
/// it authenticates a request, taken when the cap looks at it. A copy carries its state.
#[derive(Debug, Default)]
pub struct Used(std::sync::atomic::AtomicBool);

impl Used {
    /// Marks it used: a store only the first time, so a token in steady use is only read.
    fn mark(&self) {
        if !self.0.load(Ordering::Relaxed) {
            self.0.store(true, Ordering::Relaxed);
        }
    }

    /// Whether it was used since the last look, clearing the mark.
    fn take(&self) -> bool {
        self.0.swap(false, Ordering::Relaxed)
    }
}

impl Clone for Used {
    fn clone(&self) -> Self {
        Self(self.0.load(Ordering::Relaxed).into())
    }
}

impl TokenRecord {
    pub fn is_active(&self, now_ms: i64) -> bool {
        !self.revoked && now_ms < self.expires_at_ms
    }
}

/// An access token's 32 random bytes: the key it is stored under.
type TokenKey = [u8; 32];

/// How many live tokens an application may hold, per item of `--retention`.
pub const TOKENS_PER_RETAINED: usize = 10;

/// How many API requests the journal keeps.
pub const JOURNAL_CAPACITY: u64 = 10_000;

/// A token's text: its 32 bytes in URL-safe base64 without padding.
fn token_text(key: &TokenKey) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
}

/// The key of a token as presented: the bytes its text encodes (tokens are 32 random bytes
/// in URL-safe base64, [`token_text`]), decoded instead of hashed: a lookup per request costs
/// a few dozen instructions rather than a SHA-256. Any other text is no token of ours.
fn token_key(token: &str) -> Option<TokenKey> {
    use base64::Engine as _;
    if token.len() != 43 {
        return None;
    }
    // Room for the decoder's estimate of 43 characters (33 bytes); exactly 32 must come out.
    let mut bytes = [0u8; 36];
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode_slice(token, &mut bytes);
    (decoded == Ok(32)).then(|| {
        let mut key = [0u8; 32];
        key.copy_from_slice(&bytes[..32]);
        key
    })
}

#[derive(Clone)]
pub struct Store {
    inner: Arc<Collections>,
}

/// The resource collections, reachable through `Store`'s `Deref`.
pub struct Collections {
    applications: Map<String, Arc<Application>>,
    /// Auto-provisioned applications (`--auto-tenants`) and when each was last used, in
    /// microseconds of real time since `started`: idle ones are dropped.
    tenants: Map<String, AtomicU64>,
    started: std::time::Instant,
    /// The last use stamped: stamps strictly increase, so "unused the longest" has one
    /// answer even for uses in the same microsecond.
    last_use: AtomicU64,
    tokens: Map<TokenKey, TokenRecord>,
    /// Tokens in the order they were issued, per application: at most [`TOKENS_PER_RETAINED`]
    /// times the retention cap each, so a client that requests a token per call never pushes
    /// out the long-lived token another part of it holds.
    token_order: Retention<TokenKey>,
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
                applications: Map::default(),
                tenants: Map::default(),
                started: std::time::Instant::now(),
                last_use: AtomicU64::new(0),
                tokens: Map::default(),
                token_order: Retention::new(retention.saturating_mul(TOKENS_PER_RETAINED)),
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

    // --- applications -------------------------------------------------------------------

    pub fn add_application(&self, app: Application) {
        self.inner
            .applications
            .insert(app.client_id.to_string(), Arc::new(app));
    }

    /// Adds `app` as an auto-provisioned tenant unless its client id exists already (first
    /// one wins, atomically). Past `max_tenants`, the tenant unused the longest is dropped;
    /// returns whether `app` was added and which tenant made room for it.
    pub fn provision_application(
        &self,
        app: Application,
        max_tenants: usize,
    ) -> (bool, Option<String>) {
        let client_id = app.client_id.to_string();
        let mut added = false;
        self.inner
            .applications
            .entry(client_id.clone())
            .or_insert_with(|| {
                added = true;
                Arc::new(app)
            });
        if !added {
            return (false, None);
        }
        self.inner
            .tenants
            .insert(client_id.clone(), AtomicU64::new(self.use_stamp()));
        let mut dropped = None;
        if self.inner.tenants.len() > max_tenants {
            // A scan, but only when a new tenant arrives past the cap.
            dropped = self
                .inner
                .tenants
                .iter()
                .filter(|t| *t.key() != client_id)
                .min_by_key(|t| t.value().load(Ordering::Relaxed))
                .map(|t| t.key().clone());
            if let Some(old) = &dropped {
                self.drop_tenant(old);
            }
        }
        (true, dropped)
    }

    /// Now, in microseconds since start, later than every stamp before it.
    fn use_stamp(&self) -> u64 {
        let now = self.inner.started.elapsed().as_micros() as u64;
        let previous = self
            .inner
            .last_use
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |last| {
                Some(now.max(last + 1))
            })
            .unwrap_or(now);
        now.max(previous + 1)
    }

    /// Whether `client_id` was auto-provisioned (`--auto-tenants`).
    pub fn is_tenant(&self, client_id: &str) -> bool {
        self.inner.tenants.contains_key(client_id)
    }

    /// Notes that an auto-provisioned tenant was just used (a token, a request).
    pub fn touch_tenant(&self, client_id: &str) {
        if let Some(seen) = self.inner.tenants.get(client_id) {
            seen.store(self.use_stamp(), Ordering::Relaxed);
        }
    }

    /// The auto-provisioned tenants unused for longer than `ttl`.
    pub fn idle_tenants(&self, ttl: Duration) -> Vec<String> {
        let now = self.inner.started.elapsed().as_micros() as u64;
        let ttl = ttl.as_micros() as u64;
        self.inner
            .tenants
            .iter()
            .filter(|t| now.saturating_sub(t.value().load(Ordering::Relaxed)) > ttl)
            .map(|t| t.key().clone())
            .collect()
    }

    /// Forgets an auto-provisioned tenant: the application, its tokens and its world.
    pub fn drop_tenant(&self, client_id: &str) {
        self.reset_owner(client_id);
        self.inner.tenants.remove(client_id);
        self.inner.applications.remove(client_id);
        self.inner.tokens.retain(|_, t| *t.client_id != *client_id);
        self.inner.token_order.remove_owner(client_id);
    }

    /// Every application, by client id.
    pub fn applications(&self) -> Vec<Arc<Application>> {
        let mut all: Vec<Arc<Application>> = self
            .inner
            .applications
            .iter()
            .map(|a| a.value().clone())
            .collect();
        all.sort_by(|a, b| a.client_id.cmp(&b.client_id));
        all
    }

    pub fn application(&self, client_id: &str) -> Option<Arc<Application>> {
        self.inner
            .applications
            .get(client_id)
            .map(|a| a.value().clone())
    }

    /// `client_id` as the shared text its application holds, so that the records it owns
    /// (thousands per application) point at one copy instead of each keeping its own; a new
    /// copy for an unknown one.
    pub fn owner(&self, client_id: &str) -> Arc<str> {
        self.inner
            .applications
            .get(client_id)
            .map_or_else(|| client_id.into(), |a| a.client_id.clone())
    }

    /// The application whose credentials these are, if they are right.
    pub fn authenticate_client(&self, client_id: &str, secret: &str) -> Option<Arc<Application>> {
        self.application(client_id)
            .filter(|app| app.secret_matches(secret))
    }

    // --- tokens -------------------------------------------------------------------------

    /// Stores the token drawn as `key` (`IdGen::token_bytes`) and returns its text, which
    /// [`token_key`] reads back; past the application's cap its oldest token that has not
    /// authenticated a request since the cap last looked at it is dropped (a client holding it
    /// is told it is invalid). A token in use gets a second chance each time it comes up, as
    /// a resource that is read does: a client that holds one token while asking for many
    /// never loses the one it holds.
    pub fn issue_token(&self, key: TokenKey, record: TokenRecord) -> String {
        let token = token_text(&key);
        let owner = record.client_id.clone();
        self.inner.tokens.insert(key, record);
        self.inner.token_order.push(&owner, key, |old| {
            let used = self.inner.tokens.get(&old).is_some_and(|t| t.used.take());
            if !used {
                self.inner.tokens.remove(&old);
            }
            !used
        });
        token
    }

    /// Drops tokens that expired or were revoked more than `keep_ms` ago (by each
    /// application's clock), so that a client is told "expired" or "revoked" for a while,
    /// then "invalid". Returns how many went.
    ///
    /// The walk holds each shard's lock for reading only, so requests reading tokens go on
    /// beside it; each ended token is then removed under a write lock of its own. (A `retain`
    /// held each shard's write lock through its walk: with half a million tokens, the one
    /// runtime worker stood still for 8 ms at a time, waiting to read the token of the request
    /// it was answering.)
    pub fn purge_tokens(&self, now_ms_of: impl Fn(&str) -> i64, keep_ms: i64) -> usize {
        // One clock reading per application, not per token.
        let mut now: Option<(std::sync::Arc<str>, i64)> = None;
        let mut is_gone = |t: &TokenRecord| {
            let now = match &now {
                Some((owner, at)) if std::sync::Arc::ptr_eq(owner, &t.client_id) => *at,
                _ => {
                    let at = now_ms_of(&t.client_id);
                    now = Some((t.client_id.clone(), at));
                    at
                }
            };
            let ended_at = if t.revoked {
                t.revoked_at_ms
                    .unwrap_or(t.expires_at_ms)
                    .min(t.expires_at_ms)
            } else {
                t.expires_at_ms
            };
            now >= ended_at.saturating_add(keep_ms)
        };
        let gone: Vec<TokenKey> = self
            .inner
            .tokens
            .iter()
            .filter(|entry| is_gone(entry.value()))
            .map(|entry| *entry.key())
            .collect();
        gone.into_iter()
            .filter(|key| {
                self.inner
                    .tokens
                    .remove_if(key, |_, t| is_gone(t))
                    .is_some()
            })
            .count()
    }

    /// The record of a token, active or not; marks it used.
    pub fn token(&self, token: &str) -> Option<TokenRecord> {
        self.inner.tokens.get(&token_key(token)?).map(|r| {
            r.used.mark();
            r.clone()
        })
    }

    /// Revokes a token if it belongs to `client_id`; returns whether it did.
    pub fn revoke_token(&self, token: &str, client_id: &str, now_ms: i64) -> bool {
        let Some(key) = token_key(token) else {
            return false;
        };
        self.inner
            .tokens
            .get_mut(&key)
            .filter(|r| *r.client_id == *client_id)
            .map(|mut r| {
                if !r.revoked {
                    r.revoked = true;
                    r.revoked_at_ms = Some(now_ms);
                }
            })
            .is_some()
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

    /// Everything an application's world is made of, in one list that both resets walk: a
    /// new collection added here is reset by both.
    fn world(&self) -> [&dyn World; 17] {
        let c = &self.inner;
        [
            &c.deliveries,
            &c.ledger,
            &c.handsets,
            &c.till_names,
            &c.journal,
            &c.transactions,
            &c.incoming_payments,
            &c.webhook_subscriptions,
            &c.webhook_events,
            &c.merchant_accounts,
            &c.external_recipients,
            &c.send_money,
            &c.pollings,
            &c.sms_notifications,
            &c.sms_outbox,
            &c.reversals,
            &c.payment_links,
        ]
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

#[cfg(test)]
mod tests {
    use super::{token_key, token_text};

    #[test]
    fn a_token_is_keyed_by_the_bytes_it_encodes_and_nothing_else_is_a_token() {
        let ids = crate::clock::IdGen::new(None);
        for _ in 0..100 {
            let bytes = ids.token_bytes();
            let token = token_text(&bytes);
            assert_eq!(token.len(), 43);
            assert_eq!(token_key(&token), Some(bytes), "every token made decodes");
        }
        let token = token_text(&ids.token_bytes());
        for other in [
            "",
            "sandbox-api-key",
            &token[..42],
            &format!("{token}A"),
            &format!("{}+", &token[..42]),
        ] {
            assert_eq!(token_key(other), None, "{other:?}");
        }
    }
}
