//! Inspection: the request journal, the SMS outbox, ledger entries, and replaying a callback.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use uuid::Uuid;

use super::page;
use crate::clock::{format_millis, to_eat};
use crate::domain::delivery::DeliveryState;
use crate::domain::money::format_amount;
use crate::http::error::ApiError;
use crate::service::AppState;
use crate::store::journal::{Actor, shown_body};
use crate::wire::control::{
    LedgerEntry, LedgerPage, Replay, Replays, RequestLog, RequestView, SmsOutbox, SmsView,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/_sandbox/requests", get(requests))
        .route("/_sandbox/sms", get(sms_outbox))
        .route("/_sandbox/ledger", get(ledger))
        .route("/_sandbox/callbacks/{id}/replay", post(replay))
        .route("/_sandbox/callbacks/replay", post(replay_all))
}

#[derive(Deserialize)]
struct RequestFilter {
    /// Path prefix, e.g. `/api/v2/send_money`.
    path: Option<String>,
    status: Option<u16>,
    method: Option<String>,
    client_id: Option<String>,
    /// Who sent them: `app` (the default), `customer`, `control`, or `all`.
    by: Option<String>,
    /// RFC 3339; only requests at or after it.
    since: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

/// Which senders `by` names: `all`, or a comma-separated list of actors; absent, the app.
fn actors(by: Option<&str>) -> Result<Vec<Actor>, ApiError> {
    match by.map(str::trim).filter(|b| !b.is_empty()) {
        None => Ok(vec![Actor::App]),
        Some(by) => {
            Actor::parse_list(by.split(',')).map_err(|e| ApiError::BadRequest(format!("by {e}")))
        }
    }
}

/// Journaled requests (the app's unless `by` says otherwise), newest first, filtered, a page
/// at a time.
async fn requests(
    State(state): State<AppState>,
    Query(f): Query<RequestFilter>,
) -> Result<Json<RequestLog>, ApiError> {
    let request = page::request(f.limit, f.cursor.as_deref())?;
    let since_ms = page::since_ms(f.since.as_deref())?;
    let by = actors(f.by.as_deref())?;
    let page = state.store.journal.page(request, |e| {
        by.contains(&e.by)
            && f.path
                .as_deref()
                .is_none_or(|p| e.target.path().starts_with(p))
            && f.status.is_none_or(|s| e.status == s)
            && f.method
                .as_deref()
                .is_none_or(|m| e.method.as_str().eq_ignore_ascii_case(m))
            && f.client_id
                .as_deref()
                .is_none_or(|c| e.client_id.as_deref() == Some(c))
            && since_ms.is_none_or(|t| e.at_ms >= t)
    });
    Ok(Json(RequestLog {
        requests: page
            .items
            .into_iter()
            .map(|e| RequestView {
                sequence: e.sequence,
                at: format_millis(to_eat(e.at_ms)),
                method: e.method.as_str().to_string(),
                path: e.target.path().to_string(),
                query: e.target.query().map(str::to_string),
                status: e.status,
                by: e.by,
                client_id: e.client_id.as_deref().map(str::to_string),
                request_body: shown_body(&e.request_body),
                response_body: shown_body(&e.response_body),
                latency_ms: e.latency_ms,
                dropped: e.dropped,
            })
            .collect(),
        next_cursor: page::next_cursor(page.next),
    }))
}

#[derive(Deserialize)]
struct OwnerFilter {
    client_id: Option<String>,
    phone: Option<String>,
    since: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

/// Messages sent by transaction SMS notifications, like a phone's inbox: newest first.
async fn sms_outbox(
    State(state): State<AppState>,
    Query(f): Query<OwnerFilter>,
) -> Result<Json<SmsOutbox>, ApiError> {
    let request = page::request(f.limit, f.cursor.as_deref())?;
    let since_ms = page::since_ms(f.since.as_deref())?;
    let phone = f
        .phone
        .as_deref()
        .map(|p| crate::domain::phone::PhoneNumber::parse(Some(p)))
        .transpose()?;
    let page = state.store.sms_outbox.page_any(
        request,
        |m| m.meta.sequence,
        |m| {
            f.client_id.as_deref().is_none_or(|c| *m.meta.owner == *c)
                && phone.as_ref().is_none_or(|p| m.phone_number == p.as_str())
                && since_ms.is_none_or(|t| m.meta.created_at_ms >= t)
        },
    );
    let messages = page
        .items
        .into_iter()
        .map(|m| SmsView {
            id: m.meta.id,
            client_id: m.meta.owner.to_string(),
            phone_number: m.phone_number.clone(),
            message: m.message.clone(),
            webhook_event_reference: m.webhook_event_reference.clone(),
            sent_at: format_millis(to_eat(m.meta.created_at_ms)),
        })
        .collect();
    Ok(Json(SmsOutbox {
        messages,
        next_cursor: page::next_cursor(page.next),
    }))
}

/// Credits and debits of an application (default: the configured one), newest first.
async fn ledger(
    State(state): State<AppState>,
    Query(f): Query<OwnerFilter>,
) -> Result<Json<LedgerPage>, ApiError> {
    let request = page::request(f.limit, f.cursor.as_deref())?;
    let owner = f
        .client_id
        .unwrap_or_else(|| state.settings.client_id.clone());
    let page = state.store.ledger.entries(&owner, request);
    let entries = page
        .items
        .into_iter()
        .map(|e| LedgerEntry {
            sequence: e.sequence,
            at: format_millis(to_eat(e.at_ms)),
            account: e.account.name(),
            amount: format_amount(e.amount),
            balance_after: format_amount(e.balance_after),
            memo: e.memo.to_string(),
        })
        .collect();
    Ok(Json(LedgerPage {
        client_id: owner,
        entries,
        next_cursor: page::next_cursor(page.next),
    }))
}

/// Sends a recorded delivery again, byte for byte, as a new delivery.
async fn replay(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Replay>), ApiError> {
    let id = Uuid::parse_str(&id)
        .ok()
        .and_then(|id| state.store.delivery(id))
        .map(|d| d.id)
        .ok_or_else(|| ApiError::NotFound("Delivery not found".into()))?;
    let replayed = state.dispatcher.replay(id).ok_or_else(|| {
        ApiError::NotFound(
            "The delivery's resource is no longer kept (a reset, or --retention), and its \
             body with it: nothing to replay"
                .into(),
        )
    })?;
    Ok((
        StatusCode::CREATED,
        Json(Replay {
            id: replayed,
            replay_of: id,
        }),
    ))
}

#[derive(Deserialize)]
struct ReplayAll {
    /// `exhausted` (the default) or `dropped`.
    status: Option<String>,
    client_id: Option<String>,
}

/// Sends again every exhausted (or dropped) delivery not replayed yet, each as a new
/// delivery; receiver probes are not replayed.
async fn replay_all(
    State(state): State<AppState>,
    Query(q): Query<ReplayAll>,
) -> Result<(StatusCode, Json<Replays>), ApiError> {
    let wanted = match q.status.as_deref() {
        None => DeliveryState::Exhausted,
        Some(s) => DeliveryState::parse(s)
            .filter(|s| matches!(s, DeliveryState::Exhausted | DeliveryState::Dropped))
            .ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "status {s:?} cannot be replayed in bulk: use exhausted or dropped"
                ))
            })?,
    };
    let mut due = state.store.deliveries_where(|d| {
        d.state == wanted
            && d.replayed_by().is_none()
            && d.probe().is_none()
            && q.client_id.as_deref().is_none_or(|c| *d.owner == *c)
    });
    due.sort_by_key(|d| d.sequence);
    let replays: Vec<Replay> = due
        .iter()
        .filter_map(|d| {
            let id = state.dispatcher.replay(d.id)?;
            Some(Replay {
                id,
                replay_of: d.id,
            })
        })
        .collect();
    Ok((
        StatusCode::CREATED,
        Json(Replays {
            replayed: replays.len(),
            replays,
        }),
    ))
}
