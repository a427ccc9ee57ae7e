//! Signed asynchronous callbacks: every result the sandbox POSTs to a client's URL goes
//! through here, whatever resource it belongs to.
//!
//! A callback is serialised once, compactly, signed once (HMAC-SHA256 of those exact bytes
//! with the application's API key) and recorded as a [`Delivery`]; the scheduler then makes
//! attempts off the request path, retrying with exponential backoff until a 2xx or until the
//! attempts run out. Every attempt is recorded, so each delivery visibly ends `delivered`,
//! `exhausted` or (by a scenario's fault) `dropped`.

mod client;
mod dispatcher;
pub mod hint;
pub mod signing;

pub use dispatcher::{Delivering, Dispatcher, RetryPolicy};
