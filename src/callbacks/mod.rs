//! Signed asynchronous callbacks: every result the sandbox POSTs to a client's URL goes
//! through here, whatever resource it belongs to.
//!
//! A callback is serialised once, compactly, signed once (HMAC-SHA256 of those exact bytes
//! with the application's API key) and recorded as a [`Delivery`]; the scheduler then makes
//! attempts off the request path, retrying with exponential backoff until a 2xx or until the
//! attempts run out. Every attempt is recorded, so each delivery visibly ends `delivered` or
//! `exhausted`.

mod dispatcher;
pub mod signing;

pub use dispatcher::{Dispatcher, RetryPolicy};

use serde::Serialize;
use uuid::Uuid;

/// What a callback reports on.
#[derive(Debug, Clone, Serialize)]
pub struct ResourceRef {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: Uuid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Pending,
    Delivered,
    Exhausted,
    /// A scenario's callback fault dropped it: never sent.
    Dropped,
}

#[derive(Debug, Clone)]
pub struct Attempt {
    pub number: u32,
    pub at_ms: i64,
    /// The receiver's HTTP status, when it answered.
    pub status: Option<u16>,
    /// Why the attempt failed without a status (refused, timed out, ...).
    pub error: Option<String>,
    pub latency_ms: u64,
}

#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: Uuid,
    /// Creation order, for listing.
    pub sequence: u64,
    /// Client id of the application the callback belongs to.
    pub owner: String,
    pub resource: ResourceRef,
    pub target: String,
    /// The exact bytes sent, every attempt.
    pub body: String,
    pub signature: String,
    pub created_at_ms: i64,
    pub attempts: Vec<Attempt>,
    pub state: DeliveryState,
    /// Set on a scenario's receiver probe: one attempt, judged by whether the app rejected it.
    pub probe: Option<Probe>,
}

impl crate::store::Owned for Delivery {
    fn id(&self) -> Uuid {
        self.id
    }
    fn owner(&self) -> &str {
        &self.owner
    }
    /// A delivery still being attempted is pending work.
    fn finished(&self) -> bool {
        !matches!(self.state, DeliveryState::Pending)
    }
}

/// A delivery that tests the receiving app's own signature checking.
#[derive(Debug, Clone, Serialize)]
pub struct Probe {
    pub kind: &'static str,
    /// Whether a correct receiver accepts (2xx) or rejects (non-2xx) it.
    pub expect: &'static str,
    /// `accepted` or `rejected`, once tried.
    pub outcome: Option<&'static str>,
    /// Whether the app did what a correct receiver does.
    pub passed: Option<bool>,
}
