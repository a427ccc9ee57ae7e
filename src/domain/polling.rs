//! Polling: the transactions received in a time window, for the company or one till.

use chrono::{DateTime, FixedOffset};

use super::ledger::Transaction;
use super::{Envelope, Invalid, Scope, owned_by_envelope, required_text};

#[derive(Debug, Clone)]
pub struct Polling {
    pub meta: Envelope,
    pub scope: Scope,
    /// As the client sent them (echoed back) and parsed.
    pub from_time: (String, DateTime<FixedOffset>),
    pub to_time: (String, DateTime<FixedOffset>),
    pub callback_url: String,
    pub state: PollingState,
}

/// A polling request, parsed: what `service::polling::request` records.
#[derive(Debug, Clone)]
pub struct NewPolling {
    pub scope: Scope,
    pub from_time: (String, DateTime<FixedOffset>),
    pub to_time: (String, DateTime<FixedOffset>),
    pub callback_url: String,
}

#[derive(Debug, Clone)]
pub enum PollingState {
    Pending,
    /// The transactions found when the query ran, oldest first.
    Success {
        transactions: Vec<Transaction>,
    },
}

impl PollingState {
    pub fn status(&self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Success { .. } => "Success",
        }
    }
}

/// An ISO 8601 instant with an offset, e.g. `2021-04-12T08:50:22+03:00`.
pub fn instant(
    value: Option<&str>,
    field: &str,
) -> Result<(String, DateTime<FixedOffset>), Invalid> {
    let text = required_text(value, field)?;
    DateTime::parse_from_rfc3339(&text)
        .map(|t| (text, t))
        .map_err(|_| {
            Invalid(format!(
                "{field} is invalid: use ISO 8601, e.g. 2021-04-12T08:50:22+03:00"
            ))
        })
}

owned_by_envelope!(Polling => |p| !matches!(p.state, PollingState::Pending));
