//! API faults from scenarios: matching requests answer an error (429 with `Retry-After`, 5xx),
//! are slowed down, or have their connection dropped — always, for the first N, or with a
//! seeded probability.
//!
//! The rules are read on every request without a lock (`ArcSwap`); counters are atomics. A
//! fault's latency is awaited after the decision, holding nothing.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use arc_swap::ArcSwap;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::model::Fault;
use crate::AppState;

#[derive(Debug)]
pub struct Rule {
    method: Option<Method>,
    path: String,
    client_id: Option<String>,
    status: Option<u16>,
    retry_after: Option<u32>,
    latency: Option<Duration>,
    drop: bool,
    times: Option<u64>,
    probability: Option<f64>,
    seen: AtomicU64,
}

impl Rule {
    /// Parses `METHOD /path` or `/path`.
    pub fn endpoint(text: &str) -> Option<(Option<Method>, String)> {
        let text = text.trim();
        match text.split_once(' ') {
            Some((method, path)) if path.trim().starts_with('/') => Some((
                Some(Method::from_bytes(method.trim().to_ascii_uppercase().as_bytes()).ok()?),
                path.trim().to_string(),
            )),
            None if text.starts_with('/') => Some((None, text.to_string())),
            _ => None,
        }
    }

    fn matches(&self, method: &Method, path: &str) -> bool {
        self.method.as_ref().is_none_or(|m| m == method) && path.starts_with(&self.path)
    }
}

#[derive(Default)]
pub struct Faults {
    rules: ArcSwap<Vec<Arc<Rule>>>,
}

impl Faults {
    pub fn add(&self, f: &Fault) {
        let Some((method, path)) = Rule::endpoint(&f.endpoint) else {
            return; // checked when the scenario was parsed
        };
        let rule = Arc::new(Rule {
            method,
            path,
            client_id: f.client_id.clone(),
            status: f.status,
            retry_after: f.retry_after,
            latency: f.latency.map(|l| l.0),
            drop: f.drop,
            times: f.times,
            probability: f.probability,
            seen: AtomicU64::new(0),
        });
        self.rules.rcu(|rules| {
            let mut next = Vec::clone(rules);
            next.push(rule.clone());
            next
        });
    }

    pub fn clear(&self) {
        self.rules.store(Arc::default());
    }

    /// The first rule that applies to this request, counting it. The application whose bearer
    /// token the request carries is looked up only when a matching rule names one.
    fn decide(&self, state: &AppState, req: &Request) -> Option<Arc<Rule>> {
        let rules = self.rules.load();
        let mut client: Option<Option<String>> = None;
        rules
            .iter()
            .find(|r| {
                if !r.matches(req.method(), req.uri().path()) {
                    return false;
                }
                if let Some(wanted) = &r.client_id {
                    let client = client.get_or_insert_with(|| bearer_client(state, req));
                    if client.as_ref() != Some(wanted) {
                        return false;
                    }
                }
                let n = r.seen.fetch_add(1, Ordering::Relaxed);
                r.times.is_none_or(|t| n < t) && r.probability.is_none_or(|p| state.ids.unit() < p)
            })
            .cloned()
    }
}

/// The application whose token the request bears, if any.
fn bearer_client(state: &AppState, req: &Request) -> Option<String> {
    match crate::http::extract::BearerToken::from_headers(req.headers()) {
        crate::http::extract::BearerToken::Present(token) => {
            state.store.token(&token).map(|record| record.client_id)
        }
        _ => None,
    }
}

/// A body that fails at once: hyper aborts the connection mid-response.
struct Dropped;

impl http_body::Body for Dropped {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "dropped by a scenario fault",
        ))))
    }
}

/// A response body that cuts the connection.
pub fn dropped_body() -> Body {
    Body::new(Dropped)
}

/// Applies scenario faults to API requests (never to the control plane).
pub async fn apply(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path.starts_with("/_sandbox/") {
        return next.run(req).await;
    }
    let Some(rule) = state.scenarios.faults.decide(&state, &req) else {
        return next.run(req).await;
    };
    tracing::info!(path, status = ?rule.status, drop = rule.drop, "scenario fault");
    if let Some(latency) = rule.latency {
        tokio::time::sleep(latency).await;
    }
    if rule.drop {
        return Response::new(dropped_body());
    }
    let Some(code) = rule.status.and_then(|s| StatusCode::from_u16(s).ok()) else {
        return next.run(req).await; // latency only
    };
    let reason = code.canonical_reason().unwrap_or("Scenario fault");
    let mut response = crate::http::error::error_response(code, reason.to_string());
    if let Some(seconds) = rule.retry_after {
        if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    response
}
