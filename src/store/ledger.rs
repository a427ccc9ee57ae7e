//! Balances: every application has a company account (the available balance that
//! `source_identifier: null` spends) and one account per till, each starting at the
//! configured initial balance the first time it is touched.
//!
//! A debit checks and subtracts under the account's shard lock, so concurrent debits can never
//! overdraw: of 64 concurrent requests that a balance covers 10 times, exactly 10 succeed.

use dashmap::DashMap;
use rust_decimal::Decimal;

use crate::domain::ledger::Account;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("The balance is insufficient for the transaction")]
pub struct Insufficient;

pub struct Ledger {
    balances: DashMap<(String, Account), Decimal>,
    initial: Decimal,
}

impl Ledger {
    pub fn new(initial: Decimal) -> Self {
        Self {
            balances: DashMap::new(),
            initial,
        }
    }

    pub fn balance(&self, owner: &str, account: &Account) -> Decimal {
        self.balances
            .get(&(owner.to_string(), account.clone()))
            .map_or(self.initial, |b| *b)
    }

    pub fn credit(&self, owner: &str, account: &Account, amount: Decimal) {
        *self
            .balances
            .entry((owner.to_string(), account.clone()))
            .or_insert(self.initial) += amount;
    }

    /// Subtracts `amount` if the balance covers it.
    pub fn debit(
        &self,
        owner: &str,
        account: &Account,
        amount: Decimal,
    ) -> Result<(), Insufficient> {
        let mut balance = self
            .balances
            .entry((owner.to_string(), account.clone()))
            .or_insert(self.initial);
        if *balance < amount {
            return Err(Insufficient);
        }
        *balance -= amount;
        Ok(())
    }

    /// Takes the whole balance (a blind transfer); fails when there is nothing to take.
    pub fn sweep(&self, owner: &str, account: &Account) -> Result<Decimal, Insufficient> {
        let mut balance = self
            .balances
            .entry((owner.to_string(), account.clone()))
            .or_insert(self.initial);
        if *balance <= Decimal::ZERO {
            return Err(Insufficient);
        }
        Ok(std::mem::take(&mut *balance))
    }

    pub fn set(&self, owner: &str, account: &Account, amount: Decimal) {
        self.balances
            .insert((owner.to_string(), account.clone()), amount);
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn concurrent_debits_never_overdraw() {
        let ledger = Arc::new(Ledger::new(Decimal::from(1000)));
        let till = Account::Till("000000".into());
        let handles: Vec<_> = (0..64)
            .map(|_| {
                let (ledger, till) = (ledger.clone(), till.clone());
                std::thread::spawn(move || ledger.debit("app", &till, Decimal::from(100)).is_ok())
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
}
