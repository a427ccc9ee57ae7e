//! Reversals of incoming transactions made within the last 30 days.

use uuid::Uuid;

use super::metadata::Metadata;
use super::money::Amount;
use super::{Envelope, owned_by_envelope};

/// How far back a transaction may be reversed.
pub const REVERSAL_WINDOW_MS: i64 = 30 * 24 * 3600 * 1000;

#[derive(Debug, Clone)]
pub struct Reversal {
    pub meta: Envelope,
    /// The ledger transaction being reversed.
    pub transaction_id: Uuid,
    /// The reference as the client sent it (echoed back).
    pub transaction_reference: String,
    pub till_number: String,
    pub amount: Amount,
    pub reason: String,
    pub metadata: Option<Metadata>,
    pub callback_url: String,
    /// Why it will be cancelled (the till's balance did not cover it, or a scenario rule
    /// says so); `None`: it goes through.
    pub failure: Option<String>,
    /// The M-PESA reference of the reversal payment, drawn at creation.
    pub payment_reference: String,
    pub state: ReversalState,
}

#[derive(Debug, Clone)]
pub enum ReversalState {
    Scheduled,
    /// The money went back to the payer.
    Processed {
        at_ms: i64,
    },
    /// The reversal payment was cancelled; the transaction stays received.
    Cancelled {
        at_ms: i64,
        errors: Vec<String>,
    },
}

impl ReversalState {
    /// The status its document shows: a cancelled reversal's is `Processed` too (its bulk
    /// payment says `Cancelled`).
    pub fn status(&self) -> &'static str {
        match self {
            Self::Scheduled => "Scheduled",
            Self::Processed { .. } | Self::Cancelled { .. } => "Processed",
        }
    }
}

owned_by_envelope!(Reversal => |r| !matches!(r.state, ReversalState::Scheduled));
