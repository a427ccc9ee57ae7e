//! The sandbox control plane, under the reserved prefix `/_sandbox/`: health, the callback
//! delivery log, reset and the clock. Not part of Kopo Kopo's API; no auth by default.

use std::time::Duration;

use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::error::ApiError;
use super::extract::ApiJson;
use crate::AppState;
use crate::callbacks::{Delivery, DeliveryState, ResourceRef};
use crate::clock::{format_millis, to_eat};
use crate::domain::ledger::Account;
use crate::domain::money::format_amount;

/// How long an advance waits for the work it made due.
const SETTLE_LIMIT: Duration = Duration::from_secs(60);

mod events;
mod handsets;

pub use events::TriggerRequest;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(handsets::router())
        .merge(events::router())
        .route("/_sandbox/health", get(health))
        .route("/_sandbox/callbacks", get(callbacks))
        .route("/_sandbox/reset", post(reset))
        .route("/_sandbox/clock", get(clock))
        .route("/_sandbox/clock/advance", post(advance))
        .route("/_sandbox/balances", get(balances))
}

#[derive(Deserialize)]
struct BalancesQuery {
    client_id: Option<String>,
}

#[derive(Serialize)]
struct Balances {
    client_id: String,
    /// The available balance (`source_identifier: null`).
    company: String,
    /// Every till that has been touched, by till number.
    tills: serde_json::Map<String, serde_json::Value>,
}

/// Balances of one application (default: the configured one).
async fn balances(
    State(state): State<AppState>,
    Query(query): Query<BalancesQuery>,
) -> Json<Balances> {
    let client_id = query
        .client_id
        .unwrap_or_else(|| state.settings.client_id.clone());
    let ledger = &state.store.ledger;
    let tills = ledger
        .accounts(&client_id)
        .into_iter()
        .filter_map(|(account, balance)| match account {
            Account::Till(t) => Some((t, format_amount(balance).into())),
            Account::Company => None,
        })
        .collect();
    Json(Balances {
        company: format_amount(ledger.balance(&client_id, &Account::Company)),
        client_id,
        tills,
    })
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
}

async fn health() -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}

#[derive(Serialize)]
struct DeliveryLog {
    deliveries: Vec<DeliveryView>,
}

#[derive(Serialize)]
struct DeliveryView {
    id: Uuid,
    resource: ResourceRef,
    target: String,
    state: DeliveryState,
    created_at: String,
    attempts: Vec<AttemptView>,
    signature: String,
    /// The exact body sent, as a string: its bytes are what the signature covers.
    body: String,
}

#[derive(Serialize)]
struct AttemptView {
    attempt: u32,
    at: String,
    status: Option<u16>,
    error: Option<String>,
    latency_ms: u64,
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> Self {
        Self {
            id: d.id,
            resource: d.resource,
            target: d.target,
            state: d.state,
            created_at: format_millis(to_eat(d.created_at_ms)),
            attempts: d
                .attempts
                .into_iter()
                .map(|a| AttemptView {
                    attempt: a.number,
                    at: format_millis(to_eat(a.at_ms)),
                    status: a.status,
                    error: a.error,
                    latency_ms: a.latency_ms,
                })
                .collect(),
            signature: d.signature,
            body: d.body,
        }
    }
}

async fn callbacks(State(state): State<AppState>) -> Json<DeliveryLog> {
    Json(DeliveryLog {
        deliveries: state
            .store
            .deliveries()
            .into_iter()
            .map(DeliveryView::from)
            .collect(),
    })
}

#[derive(Serialize)]
struct ResetDone {
    reset: bool,
}

async fn reset(State(state): State<AppState>) -> Json<ResetDone> {
    state.scheduler.clear();
    state.store.reset();
    tracing::info!("state reset");
    Json(ResetDone { reset: true })
}

#[derive(Serialize)]
struct ClockView {
    now: String,
    #[serde(rename = "virtual")]
    is_virtual: bool,
    /// Results and callback attempts still queued or running.
    pending_jobs: usize,
}

fn clock_view(state: &AppState) -> ClockView {
    ClockView {
        now: format_millis(state.clock.now()),
        is_virtual: state.clock.is_virtual(),
        pending_jobs: state.scheduler.pending(),
    }
}

async fn clock(State(state): State<AppState>) -> Json<ClockView> {
    Json(clock_view(&state))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    /// A duration such as `90s`, `15m`, `3h`, `7d` or `0s` (just run what is due).
    by: String,
}

/// Moves the clock forward, then waits until every result and callback attempt that became
/// due has run, so the caller can assert on them at once.
async fn advance(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Advance>,
) -> Result<Json<ClockView>, ApiError> {
    let by = humantime::parse_duration(body.by.trim()).map_err(|e| {
        ApiError::BadRequest(format!(
            "Invalid duration {:?}: {e}; use e.g. 90s, 15m, 3h, 7d",
            body.by
        ))
    })?;
    state.clock.advance(by.as_millis() as i64);
    state.scheduler.clock_moved();
    if !state.scheduler.wait_idle(SETTLE_LIMIT).await {
        return Err(ApiError::Internal(
            "due work did not finish within 60 s".into(),
        ));
    }
    tracing::info!(by = %body.by, "clock advanced");
    Ok(Json(clock_view(&state)))
}
