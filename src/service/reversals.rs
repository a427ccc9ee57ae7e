//! Reversals: a received transaction of the last 30 days goes Received → Pending Reversal at
//! once (a second reversal of it is refused), the rules decide, the till is debited, and the
//! result falls due like any other.

use super::resource::{Documented, Resource};
use super::settle::settle_and_call_back;
use super::transactions::emit_transaction_event;
use super::{AppState, Refusal, accept, due, imposed_failure, new_envelope};
use crate::domain::Invalid;
use crate::domain::kinds::ResourceKind;
use crate::domain::ledger::{Account, Transaction, TransactionStatus};
use crate::domain::metadata::Metadata;
use crate::domain::reversal::{REVERSAL_WINDOW_MS, Reversal, ReversalState};
use crate::scenarios::rules::{Endpoint, Facts};
use crate::store::Insufficient;
use crate::store::{Collection, Store};
use crate::wire::Document;
use crate::wire::reversals::ReversalAttributes;
use std::sync::Arc;
use uuid::Uuid;

/// `POST /api/v2/reversals`, parsed.
pub struct ReverseRequest {
    /// The transaction's id, as in the reference's example, or its M-PESA reference.
    pub transaction_reference: String,
    pub reason: String,
    pub metadata: Option<Metadata>,
    pub callback_url: String,
}

/// Schedules the reversal of a received transaction; its URL under `collection`.
pub fn reverse(
    state: &AppState,
    owner: &str,
    base: &str,
    collection: &str,
    r: ReverseRequest,
) -> Result<String, Refusal> {
    let transaction = reversible(state, owner, &r.transaction_reference)?;
    mark_pending_reversal(state, &transaction)?;
    let amount = transaction.amount();
    let decision = state.scenarios.rules.decide(
        Endpoint::Reversal,
        &Facts {
            client_id: owner,
            till_number: Some(transaction.till_number()),
            amount: Some(amount.decimal()),
            metadata: r.metadata.as_ref(),
            ..Facts::default()
        },
    );
    let meta = new_envelope(state, owner, base, collection);
    // A scenario says it fails: nothing is debited.
    let failure = imposed_failure(decision.as_ref(), &Insufficient.to_string()).or_else(|| {
        state
            .store
            .ledger
            .debit(
                owner,
                &Account::Till(transaction.till_number().into()),
                amount.decimal(),
                &format!("reversal {}", meta.id),
            )
            .err()
            .map(|e| e.to_string())
    });
    let reversal = Reversal {
        meta,
        transaction_id: transaction.id(),
        transaction_reference: r.transaction_reference,
        till_number: transaction.till_number().to_string(),
        amount,
        reason: r.reason,
        metadata: r.metadata,
        callback_url: r.callback_url,
        failure,
        payment_reference: state.ids.mpesa_reference(),
        state: ReversalState::Scheduled,
    };
    tracing::debug!(id = %reversal.meta.id, failure = ?reversal.failure, %amount, "reversal scheduled");
    let self_url = reversal.meta.self_url().to_string();
    let due = due(state, decision.as_ref());
    accept(state, reversal, due);
    Ok(self_url)
}

/// The owner's received transaction `reference` names (its id or M-PESA reference), if it is
/// of the last 30 days.
fn reversible(state: &AppState, owner: &str, reference: &str) -> Result<Transaction, Invalid> {
    let now_ms = state.clock.now_ms_of(owner);
    state
        .store
        .transactions
        .find(reference, owner)
        .or_else(|| {
            state
                .store
                .transactions
                .filter(owner, |t| t.reference().eq_ignore_ascii_case(reference))
                .into_iter()
                .next()
        })
        .filter(|t| now_ms - t.originated_at_ms() <= REVERSAL_WINDOW_MS)
        .ok_or_else(|| {
            Invalid(
                "Transaction reference does not name an incoming transaction of the last 30 days"
                    .into(),
            )
        })
}

/// Received → Pending Reversal, atomically: a second reversal sees the new state.
fn mark_pending_reversal(state: &AppState, transaction: &Transaction) -> Result<(), Refusal> {
    state
        .store
        .transactions
        .update(transaction.id(), |t| match t.status {
            TransactionStatus::Received => {
                t.status = TransactionStatus::PendingReversal;
                Ok(())
            }
            other => Err(other),
        })
        .unwrap_or(Err(TransactionStatus::Reversed))
        .map_err(|status| {
            Refusal::List(vec![format!(
                "You cannot reverse a transaction in {}",
                status.label()
            )])
        })
}

fn settle_reversal(state: &AppState, id: Uuid) {
    let Some(owner) = state.store.reversals.inspect(id, |r| r.meta.owner.clone()) else {
        return;
    };
    let now_ms = state.clock.now_ms_of(&owner);
    let mut outcome: Option<(Uuid, bool, String)> = None;
    settle_and_call_back::<Reversal>(
        state,
        id,
        |r| {
            if !matches!(r.state, ReversalState::Scheduled) {
                return false;
            }
            r.state = match &r.failure {
                None => ReversalState::Processed { at_ms: now_ms },
                Some(error) => ReversalState::Cancelled {
                    at_ms: now_ms,
                    errors: vec![error.clone()],
                },
            };
            outcome = Some((
                r.transaction_id,
                r.failure.is_none(),
                r.meta.self_url().base().to_string(),
            ));
            true
        },
        |r| Some(r.callback_url.as_str().into()),
    );
    let Some((tx_id, reversed, base)) = outcome else {
        return;
    };
    let tx = state.store.transactions.update(tx_id, |tx| {
        tx.status = if reversed {
            TransactionStatus::Reversed
        } else {
            TransactionStatus::Received
        };
        tx.clone()
    });
    if let (Some(tx), true) = (tx, reversed) {
        // The money left the till when the reversal was accepted (see http::reversals).
        emit_transaction_event(state, Arc::new(tx), Some((now_ms, &base)));
    }
}

impl Resource for Reversal {
    const KIND: ResourceKind = ResourceKind::Reversal;

    fn collection(store: &Store) -> &Collection<Self> {
        &store.reversals
    }

    fn status(&self) -> &'static str {
        self.state.status()
    }

    fn settle(state: &AppState, id: Uuid) {
        settle_reversal(state, id);
    }
}

impl Documented for Reversal {
    const WHAT: &'static str = "Reversal";
    type Document = Document<ReversalAttributes>;
}
