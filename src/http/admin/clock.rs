//! The clock (`GET /_sandbox/clock`, `POST .../advance`, `POST .../set`) and
//! `POST /_sandbox/reset`.

use std::time::Duration;

use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::clock::{format_millis, to_eat};
use crate::http::error::ApiError;
use crate::http::extract::ApiJson;
use crate::service::AppState;
use crate::wire::control::ClockView;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/_sandbox/reset", post(reset))
        .route("/_sandbox/clock", get(clock))
        .route("/_sandbox/clock/advance", post(advance))
        .route("/_sandbox/clock/set", post(set_clock))
}

/// How long an advance waits for the work it made due.
const SETTLE_LIMIT: Duration = Duration::from_secs(60);

pub(super) fn clock_view(state: &AppState, client_id: Option<String>) -> ClockView {
    let now_ms = client_id
        .as_deref()
        .map_or_else(|| state.clock.now_ms(), |c| state.clock.now_ms_of(c));
    let own_ms = client_id
        .as_deref()
        .map_or(0, |c| state.clock.tenant_offset_ms(c));
    ClockView {
        now: format_millis(to_eat(now_ms)),
        is_virtual: state.clock.is_virtual(),
        advanced_ms: state.clock.advanced_ms().saturating_add(own_ms),
        client_id,
        pending_jobs: state.scheduler.pending(),
    }
}

#[derive(Deserialize)]
struct ClockQuery {
    client_id: Option<String>,
}

async fn clock(State(state): State<AppState>, Query(q): Query<ClockQuery>) -> Json<ClockView> {
    Json(clock_view(&state, q.client_id))
}

/// Moves the shared clock, or one application's, forward by `by_ms`; then waits until every
/// result and callback attempt that became due has run, so the caller can assert at once.
async fn move_clock(
    state: &AppState,
    client_id: Option<String>,
    by_ms: i64,
) -> Result<Json<ClockView>, ApiError> {
    state.clock.advance_for(client_id.as_deref(), by_ms);
    state.scheduler.clock_moved();
    if !state.scheduler.wait_idle(SETTLE_LIMIT).await {
        return Err(ApiError::Internal(
            "due work did not finish within 60 s".into(),
        ));
    }
    tracing::info!(by_ms, client_id = client_id.as_deref(), "clock advanced");
    crate::service::clock_moved(state, client_id.as_deref(), by_ms);
    Ok(Json(clock_view(state, client_id)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    /// A duration such as `90s`, `15m`, `3h`, `7d` or `0s` (just run what is due).
    by: String,
    /// Advance only this application's clock.
    client_id: Option<String>,
}

async fn advance(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Advance>,
) -> Result<Json<ClockView>, ApiError> {
    let by = crate::clock::parse_span(&body.by).map_err(|e| {
        let mut message = e;
        message[..1].make_ascii_uppercase();
        ApiError::BadRequest(message)
    })?;
    move_clock(&state, body.client_id, crate::clock::millis(by)).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetClock {
    /// An RFC 3339 instant, not before the clock's current time.
    to: String,
    /// Set only this application's clock.
    client_id: Option<String>,
}

/// Moves the clock forward to an instant (it never goes back), then runs what fell due.
async fn set_clock(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SetClock>,
) -> Result<Json<ClockView>, ApiError> {
    let to = chrono::DateTime::parse_from_rfc3339(body.to.trim())
        .map_err(|e| ApiError::BadRequest(format!("Invalid instant {:?}: {e}", body.to)))?;
    let now = body
        .client_id
        .as_deref()
        .map_or_else(|| state.clock.now_ms(), |c| state.clock.now_ms_of(c));
    let by = to.timestamp_millis() - now;
    if by < 0 {
        return Err(ApiError::BadRequest(
            "The clock only moves forward: that instant has passed".into(),
        ));
    }
    if by > crate::clock::millis(crate::clock::MAX_SPAN) {
        return Err(ApiError::BadRequest(
            "The clock moves at most 100 years at a time".into(),
        ));
    }
    move_clock(&state, body.client_id, by).await
}

#[derive(Deserialize)]
struct ResetQuery {
    /// Reset only this application's world.
    client_id: Option<String>,
}

/// Forgets everything (or one application's world); applications and tokens stay.
async fn reset(
    State(state): State<AppState>,
    Query(query): Query<ResetQuery>,
) -> Json<serde_json::Value> {
    match &query.client_id {
        Some(owner) => {
            state.store.reset_owner(owner);
            tracing::info!(client_id = %owner, "tenant reset");
        }
        None => {
            state.scheduler.clear();
            state.store.reset();
            state.scenarios.clear();
            tracing::info!("state reset");
        }
    }
    Json(serde_json::json!({"reset": true, "client_id": query.client_id}))
}
