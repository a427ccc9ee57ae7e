//! Balances: every application has a company account (the available balance that
//! `source_identifier: null` spends) and one account per till, each starting at the
//! configured initial balance the first time it is touched.
//!
//! A debit checks and subtracts under the account's shard lock, so concurrent debits can never
//! overdraw: of 64 concurrent requests that a balance covers 10 times, exactly 10 succeed.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::map::Map;
use rust_decimal::Decimal;

use super::page::{Page, PageRequest};
use super::retention::{Ring, of_owner};
use crate::clock::{Clock, MpesaReference};
use crate::domain::ledger::Account;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("The balance is insufficient for the transaction")]
pub struct Insufficient;

/// One movement of money, kept for inspection.
#[derive(Debug, Clone)]
pub struct Entry {
    pub sequence: u64,
    pub account: Account,
    /// Positive for a credit, negative for a debit.
    pub amount: Decimal,
    pub balance_after: Decimal,
    /// Why: "transaction OJM6Q1W84K received", "send_money <id>", ...
    pub memo: Memo,
    pub at_ms: i64,
}

/// Why money moved. Most entries are a transaction received, which its M-PESA reference
/// names: kept as its ten bytes, not as a sentence.
#[derive(Debug, Clone)]
pub enum Memo {
    /// "transaction {reference} received"
    Received(MpesaReference),
    Text(Box<str>),
}

impl Memo {
    /// A transaction received.
    pub fn received(reference: &str) -> Self {
        MpesaReference::parse(reference).map_or_else(
            || Self::Text(format!("transaction {reference} received").into()),
            Self::Received,
        )
    }
}

impl From<&str> for Memo {
    fn from(text: &str) -> Self {
        Self::Text(text.into())
    }
}

impl From<&String> for Memo {
    fn from(text: &String) -> Self {
        Self::Text(text.as_str().into())
    }
}

impl std::fmt::Display for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Received(reference) => write!(f, "transaction {reference} received"),
            Self::Text(text) => f.write_str(text),
        }
    }
}

pub struct Ledger {
    balances: Map<(String, Account), Decimal>,
    /// Each application's newest entries up to the retention cap, oldest first: one ring per
    /// application, so an entry costs its own bytes and no index (entries are only ever
    /// appended, and retention drops the oldest).
    entries: Map<String, Mutex<Ring<Entry>>>,
    cap: usize,
    next_entry: AtomicU64,
    initial: Decimal,
    clock: Clock,
}

impl Ledger {
    pub fn new(initial: Decimal, clock: Clock, retention: usize) -> Self {
        Self {
            balances: Map::default(),
            entries: Map::default(),
            cap: retention.max(1),
            next_entry: AtomicU64::new(0),
            initial,
            clock,
        }
    }

    fn record(
        &self,
        owner: &str,
        account: Account,
        amount: Decimal,
        balance_after: Decimal,
        memo: Memo,
    ) {
        let at_ms = self.clock.now_ms_of(owner);
        let ring = of_owner(&self.entries, owner);
        let mut ring = ring.lock().unwrap_or_else(|p| p.into_inner());
        // Drawn under the ring's lock, so each ring is in sequence order.
        let sequence = self.next_entry.fetch_add(1, Ordering::Relaxed);
        if ring.len() >= self.cap {
            ring.pop_front();
        }
        let entry = Entry {
            sequence,
            account,
            amount,
            balance_after,
            memo,
            at_ms,
        };
        ring.push_back(entry);
    }

    /// A page of `owner`'s entries, newest first.
    pub fn entries(&self, owner: &str, request: PageRequest) -> Page<Entry> {
        let Some(ring) = self.entries.get(owner) else {
            return Page {
                items: Vec::new(),
                next: None,
            };
        };
        let ring = ring.lock().unwrap_or_else(|p| p.into_inner());
        let mut items: Vec<Entry> = ring
            .iter()
            .rev()
            .filter(|e| request.before.is_none_or(|b| e.sequence < b))
            .take(request.limit.saturating_add(1))
            .cloned()
            .collect();
        let next = if items.len() > request.limit {
            items.truncate(request.limit);
            items.last().map(|e| e.sequence)
        } else {
            None
        };
        Page { items, next }
    }

    pub fn balance(&self, owner: &str, account: &Account) -> Decimal {
        self.balances
            .get(&(owner.to_string(), account.clone()))
            .map_or(self.initial, |b| *b)
    }

    pub fn credit(&self, owner: &str, account: &Account, amount: Decimal, memo: impl Into<Memo>) {
        let Ok((after, account)) = self.change(owner, account, |balance| {
            *balance += amount;
            Ok::<_, std::convert::Infallible>(*balance)
        });
        self.record(owner, account, amount, after, memo.into());
    }

    /// Subtracts `amount` if the balance covers it.
    pub fn debit(
        &self,
        owner: &str,
        account: &Account,
        amount: Decimal,
        memo: impl Into<Memo>,
    ) -> Result<(), Insufficient> {
        let (after, account) = self.change(owner, account, |balance| {
            if *balance < amount {
                return Err(Insufficient);
            }
            *balance -= amount;
            Ok(*balance)
        })?;
        self.record(owner, account, -amount, after, memo.into());
        Ok(())
    }

    /// Takes the whole balance (a blind transfer); fails when there is nothing to take.
    pub fn sweep(
        &self,
        owner: &str,
        account: &Account,
        memo: impl Into<Memo>,
    ) -> Result<Decimal, Insufficient> {
        let (taken, account) = self.change(owner, account, |balance| {
            if *balance <= Decimal::ZERO {
                return Err(Insufficient);
            }
            Ok(std::mem::take(balance))
        })?;
        self.record(owner, account, -taken, Decimal::ZERO, memo.into());
        Ok(taken)
    }

    /// `change`s `owner`'s balance of `account` under its shard lock (it starts at the initial
    /// balance), and gives the account as the map holds it: its entries share that one till
    /// number instead of a copy each.
    fn change<R, E>(
        &self,
        owner: &str,
        account: &Account,
        change: impl FnOnce(&mut Decimal) -> Result<R, E>,
    ) -> Result<(R, Account), E> {
        let mut balance = self
            .balances
            .entry((owner.to_string(), account.clone()))
            .or_insert(self.initial);
        let result = change(&mut balance)?;
        Ok((result, balance.key().1.clone()))
    }

    /// Sets a balance outright (control plane, scenarios); recorded as an adjustment.
    pub fn set(&self, owner: &str, account: &Account, amount: Decimal) {
        let Ok((before, account)) = self.change(owner, account, |balance| {
            Ok::<_, std::convert::Infallible>(std::mem::replace(balance, amount))
        });
        self.record(
            owner,
            account,
            amount - before,
            amount,
            "balance set".into(),
        );
    }

    /// Forgets `owner`'s balances and entries.
    pub fn clear_owner(&self, owner: &str) {
        self.balances.retain(|(o, _), _| o != owner);
        self.entries.remove(owner);
    }

    /// Every touched account of `owner`.
    pub fn accounts(&self, owner: &str) -> Vec<(Account, Decimal)> {
        let mut all: Vec<(Account, Decimal)> = self
            .balances
            .iter()
            .filter(|e| e.key().0 == owner)
            .map(|e| (e.key().1.clone(), *e.value()))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    pub fn clear(&self) {
        self.balances.clear();
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn concurrent_debits_never_overdraw() {
        let ledger = Arc::new(Ledger::new(Decimal::from(1000), Clock::real(), 1000));
        let till = Account::Till("000000".into());
        let handles: Vec<_> = (0..64)
            .map(|_| {
                let (ledger, till) = (ledger.clone(), till.clone());
                std::thread::spawn(move || {
                    ledger
                        .debit("app", &till, Decimal::from(100), "test")
                        .is_ok()
                })
            })
            .collect();
        let ok = handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .filter(|&debited| debited)
            .count();
        assert_eq!(ok, 10);
        assert_eq!(ledger.balance("app", &till), Decimal::ZERO);
    }

    #[test]
    fn a_received_memo_reads_as_the_sentence_whatever_the_reference() {
        for (reference, inline) in [
            ("OJM6Q1W84K", true),
            ("scenario-ref-1", false),
            ("ojm6q1w84k", false),
        ] {
            let memo = Memo::received(reference);
            assert_eq!(matches!(memo, Memo::Received(_)), inline, "{reference}");
            assert_eq!(
                memo.to_string(),
                format!("transaction {reference} received")
            );
        }
    }

    #[test]
    fn each_application_keeps_its_newest_entries_paged_newest_first() {
        let ledger = Ledger::new(Decimal::from(1000), Clock::real(), 3);
        for n in 1..=5 {
            ledger.credit(
                "app",
                &Account::Company,
                Decimal::from(n),
                &format!("credit {n}"),
            );
            ledger.credit("other", &Account::Company, Decimal::from(n), "theirs");
        }
        let memos = |page: &Page<Entry>| -> Vec<String> {
            page.items.iter().map(|e| e.memo.to_string()).collect()
        };
        let first = ledger.entries(
            "app",
            PageRequest {
                before: None,
                limit: 2,
            },
        );
        assert_eq!(memos(&first), ["credit 5", "credit 4"]);
        let second = ledger.entries(
            "app",
            PageRequest {
                before: first.next,
                limit: 2,
            },
        );
        assert_eq!(
            memos(&second),
            ["credit 3"],
            "the cap of 3 dropped the two oldest"
        );
        assert_eq!(second.next, None);
        assert_eq!(
            second.items[0].balance_after,
            Decimal::from(1000 + 1 + 2 + 3)
        );
        ledger.clear_owner("app");
        assert!(
            ledger
                .entries(
                    "app",
                    PageRequest {
                        before: None,
                        limit: 9
                    }
                )
                .items
                .is_empty()
        );
        assert_eq!(
            ledger
                .entries(
                    "other",
                    PageRequest {
                        before: None,
                        limit: 9
                    }
                )
                .items
                .len(),
            3
        );
    }
}
