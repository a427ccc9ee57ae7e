//! `GET /_sandbox/callbacks`: the delivery log, newest first.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::page;
use crate::callbacks::hint::loopback_hint;
use crate::clock::{format_millis, to_eat};
use crate::domain::delivery::{Delivery, DeliveryState, Failure};
use crate::http::error::ApiError;
use crate::service::AppState;
use crate::wire::control::{AttemptView, DeliveryLog, DeliveryView, ResourceView};

pub fn router() -> Router<AppState> {
    Router::new().route("/_sandbox/callbacks", get(callbacks))
}

#[derive(Deserialize)]
struct DeliveryFilter {
    /// `pending`, `delivered`, `exhausted` or `dropped`.
    status: Option<String>,
    client_id: Option<String>,
    /// Only deliveries whose URL (asked for or used) contains this text.
    url: Option<String>,
    /// Only the deliveries about this resource (its id).
    resource: Option<String>,
    /// RFC 3339: only deliveries created at or after it.
    since: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

/// A delivery as the log shows it: its body read back (let go once delivered, rendered
/// again from its resource).
fn view(state: &AppState, d: Delivery) -> DeliveryView {
    let body = state.dispatcher.body_of(&d).map_or_else(
        || "(not kept: its resource is gone, after a reset or by --retention)".to_string(),
        |b| String::from_utf8_lossy(&b).into_owned(),
    );
    let (replay_of, replayed_by) = (d.replay_of(), d.replayed_by());
    let (probe, signature) = (d.probe().cloned(), d.signature().to_string());
    DeliveryView {
        id: d.id,
        client_id: d.owner.to_string(),
        resource: ResourceView {
            kind: d.resource.kind.name().to_string(),
            id: d.resource.id,
        },
        target: d.target.to_string(),
        requested_target: d.rewritten_from().map(str::to_string),
        state: d.state,
        created_at: format_millis(to_eat(d.created_at_ms)),
        attempts: d
            .attempts
            .into_iter()
            .map(|a| AttemptView {
                attempt: a.number,
                at: format_millis(to_eat(a.at_ms)),
                status: a.status,
                error: a.error.map(|e| e.describe().to_owned()),
                hint: a
                    .error
                    .filter(|e| *e == Failure::Connect)
                    .and_then(|_| loopback_hint(&d.target)),
                latency_ms: a.latency_ms,
            })
            .collect(),
        signature,
        body,
        probe,
        replay_of,
        replayed_by,
    }
}

/// The delivery log, newest first, a page at a time.
async fn callbacks(
    State(state): State<AppState>,
    Query(f): Query<DeliveryFilter>,
) -> Result<Json<DeliveryLog>, ApiError> {
    let request = page::request(f.limit, f.cursor.as_deref())?;
    let since_ms = page::since_ms(f.since.as_deref())?;
    let status = f
        .status
        .as_deref()
        .map(|s| {
            DeliveryState::parse(s).ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "status {s:?} is not pending, delivered, exhausted or dropped"
                ))
            })
        })
        .transpose()?;
    // Read once: an id that does not parse matches nothing.
    let resource = f
        .resource
        .as_deref()
        .map(|r| uuid::Uuid::parse_str(r.trim()).ok());
    let page = state.store.deliveries(request, |d| {
        status.is_none_or(|s| d.state == s)
            && f.client_id.as_deref().is_none_or(|c| *d.owner == *c)
            && since_ms.is_none_or(|t| d.created_at_ms >= t)
            && f.url.as_deref().is_none_or(|u| {
                d.target.contains(u) || d.rewritten_from().is_some_and(|r| r.contains(u))
            })
            && resource.is_none_or(|r| r == Some(d.resource.id))
    });
    Ok(Json(DeliveryLog {
        next_cursor: page::next_cursor(page.next),
        deliveries: page.items.into_iter().map(|d| view(&state, d)).collect(),
    }))
}
