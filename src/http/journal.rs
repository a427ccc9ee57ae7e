//! Records requests in the journal: every API request and every request to the checkout pages,
//! and the control plane's requests that change something; method, path, status, both
//! bodies, who sent it, the application and the latency.

use std::time::Instant;

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::Request;
use axum::http::request::Parts;
use axum::response::Response;

use super::extract::{BearerToken, ClientSlot, check_token};
use crate::service::AppState;
use crate::store::JournalEntry;
use crate::store::journal::{Actor, Target};

/// Bodies are kept up to this many bytes.
const KEPT_BODY_BYTES: usize = 64 * 1024;

/// The part of a request body the journal keeps: its first [`KEPT_BODY_BYTES`], in an
/// allocation of their own (a slice of the request's would keep the connection's whole read
/// buffer, 8 KiB or more, alive as long as the journal keeps the entry).
fn kept(bytes: &Bytes) -> Bytes {
    Bytes::copy_from_slice(&bytes[..bytes.len().min(KEPT_BODY_BYTES)])
}

/// The part of a response body the journal keeps: the answer's own bytes, shared, not copied
/// (a response is its own allocation, often a resource's kept rendering); a long one is
/// copied down to its first [`KEPT_BODY_BYTES`] so the journal never holds more.
fn kept_response(bytes: &Bytes) -> Bytes {
    if bytes.len() <= KEPT_BODY_BYTES {
        bytes.clone()
    } else {
        kept(bytes)
    }
}

/// Runs `inner` on the request and records the exchange; the answer, the application whose
/// request it was when known, and the journal's sequence number for it. `body` is the request
/// body, which the limits have read whole.
///
/// An `async` block, not an `async fn`, which would keep its arguments twice.
#[expect(
    clippy::manual_async_fn,
    reason = "an async fn keeps its arguments twice"
)]
// Over 60 lines: one async block awaited in place; split, its parts would be futures of their
// own, each moved with the request's.
pub fn around<F>(
    state: &AppState,
    parts: Parts,
    body: Bytes,
    target: Target,
    started: Instant,
    inner: impl FnOnce(Request) -> F,
) -> impl Future<Output = (Response, Journaled)>
where
    F: Future<Output = Response>,
{
    async move {
        // Read only if the handler did not authenticate the request (a shared copy, not parsed).
        let authorization = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .cloned();
        let method = parts.method.clone();
        let request_body = kept(&body);
        // Awaited in place (not in a future of its own, which would hold a second copy of the
        // route's future: a request's whole future is moved at least once), in a block of its
        // own, so that its room is free again for what is awaited after it.
        let (response, authenticated) = {
            let mut scoped = std::pin::pin!(ClientSlot::around(inner(Request::from_parts(
                parts,
                Body::from(body)
            ))));
            let response = scoped.as_mut().await;
            (response, ClientSlot::take(scoped))
        };
        // Set when the handler authenticated the request; else (a fault answered first, an
        // unknown route) the token is looked up here.
        let client_id =
            authenticated.or_else(|| match BearerToken::from_value(authorization.as_ref()) {
                BearerToken::Present(token) => check_token(state, token).ok().map(|r| r.client_id),
                _ => None,
            });
        let (parts, body) = response.into_parts();
        // A body that fails (a scenario's dropped connection) must still fail for the client.
        let (response_bytes, dropped) = match to_bytes(body, usize::MAX).await {
            Ok(bytes) => (bytes, false),
            Err(_) => (Bytes::new(), true),
        };
        let at_ms = client_id
            .as_deref()
            .map_or_else(|| state.clock.now_ms(), |c| state.clock.now_ms_of(c));
        let by = Actor::of_path(target.path());
        let sequence = state.store.journal.record(JournalEntry {
            sequence: 0,
            at_ms,
            method,
            target,
            status: parts.status.as_u16(),
            by,
            client_id: client_id.clone(),
            request_body,
            response_body: kept_response(&response_bytes),
            latency_ms: started.elapsed().as_millis() as u64,
            dropped,
        });
        let body = if dropped {
            crate::http::faults::dropped_body()
        } else {
            Body::from(response_bytes)
        };
        let journaled = Journaled {
            client_id,
            sequence,
            at_ms,
        };
        (Response::from_parts(parts, body), journaled)
    }
}

/// How a request was journaled.
pub struct Journaled {
    /// The application of its bearer token, when it had a valid one.
    pub client_id: Option<std::sync::Arc<str>>,
    pub sequence: u64,
    /// When, on that application's clock (else the shared one).
    pub at_ms: i64,
}
