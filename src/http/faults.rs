//! Scenario API faults applied to requests (never to the control plane): the decision comes
//! from `script::faults`; here it is carried out. A fault's latency is awaited after the
//! decision, holding nothing.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use super::extract::BearerToken;
use crate::service::AppState;

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

/// The application whose token the request bears, if any.
fn bearer_client(state: &AppState, req: &Request) -> Option<std::sync::Arc<str>> {
    match BearerToken::from_headers(req.headers()) {
        BearerToken::Present(token) => state.store.token(token).map(|record| record.client_id),
        _ => None,
    }
}

/// A scenario fault's work on a request, boxed (most requests have none, and need not carry
/// room for it): awaited, the answer it imposes after its latency, or `None` when it only
/// delays the request.
pub type Imposed = Pin<Box<dyn Future<Output = Option<Response>> + Send>>;

/// The fault that applies to `req`, if any.
pub fn imposed(state: &AppState, req: &Request) -> Option<Imposed> {
    let path = req.uri().path();
    let fault = state.scenarios.faults.decide(
        req.method().as_str(),
        path,
        || bearer_client(state, req).map(|c| c.to_string()),
        || state.ids.unit(),
    )?;
    tracing::debug!(
        path,
        status = fault.status,
        drop = fault.drop,
        "scenario fault"
    );
    Some(Box::pin(carry_out(fault)))
}

async fn carry_out(fault: crate::scenarios::faults::FaultAction) -> Option<Response> {
    if let Some(latency) = fault.latency {
        tokio::time::sleep(latency).await;
    }
    if fault.drop {
        return Some(Response::new(dropped_body()));
    }
    // None: latency only.
    let code = fault.status.and_then(|s| StatusCode::from_u16(s).ok())?;
    let reason = code.canonical_reason().unwrap_or("Scenario fault");
    let mut response = super::error::error_response(code, reason.to_string());
    if let Some(seconds) = fault.retry_after
        && let Ok(v) = HeaderValue::from_str(&seconds.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    Some(response)
}
