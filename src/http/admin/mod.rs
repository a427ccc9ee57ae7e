//! The sandbox control plane, under the reserved prefix `/_sandbox/`: health, the callback
//! delivery log, reset and the clock. Not part of Kopo Kopo's API; no auth by default.

use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::error::ApiError;
use super::extract::{ApiJson, BaseUrl};
use crate::clock::{format_millis, to_eat};
use crate::domain::delivery::{Delivery, DeliveryState, Probe, ResourceRef};
use crate::domain::ledger::Account;
use crate::domain::money::format_amount;
use crate::service::AppState;

/// How long an advance waits for the work it made due.
const SETTLE_LIMIT: Duration = Duration::from_secs(60);

mod events;
mod handsets;
mod inspect;
mod page;
mod stream;

pub use events::TriggerRequest;

pub fn router(state: AppState) -> Router<AppState> {
    let guarded = Router::new()
        .merge(handsets::router())
        .merge(events::router())
        .merge(inspect::router())
        .route("/_sandbox/callbacks", get(callbacks))
        .route("/_sandbox/", get(index))
        .route("/_sandbox", get(index))
        .route("/_sandbox/stream", get(stream::stream))
        .route("/_sandbox/reset", post(reset))
        .route("/_sandbox/applications", get(applications))
        .route("/_sandbox/clock", get(clock))
        .route("/_sandbox/clock/advance", post(advance))
        .route("/_sandbox/clock/set", post(set_clock))
        .route("/_sandbox/balances", get(balances).put(set_balance))
        .route(
            "/_sandbox/scenarios",
            get(list_scenarios).post(load_scenario),
        )
        .route("/_sandbox/scenarios/{name}", delete(unload_scenario))
        .route("/_sandbox/verify", get(verify))
        .route(
            "/_sandbox/scenarios/export",
            get(export_world).delete(|state| unload_scenario(state, Path("export".into()))),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            require_admin_token,
        ));
    Router::new()
        .route("/_sandbox/health", get(health))
        .route("/_sandbox/openapi.json", get(super::openapi::serve_json))
        .route("/_sandbox/openapi.yaml", get(super::openapi::serve_yaml))
        .merge(guarded)
}

/// With `--admin-token`, the control plane (but health and the OpenAPI document) needs
/// `Authorization: Bearer <token>`.
async fn require_admin_token(
    State(state): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Result<axum::response::Response, ApiError> {
    if let Some(expected) = &state.settings.admin_token {
        use subtle::ConstantTimeEq as _;
        let presented = match crate::http::extract::BearerToken::from_headers(req.headers()) {
            crate::http::extract::BearerToken::Present(t) => t.to_string(),
            _ => presented_elsewhere(&req).unwrap_or_default(),
        };
        if !bool::from(presented.as_bytes().ct_eq(expected.as_bytes())) {
            return Err(ApiError::Unauthorized(
                "The control plane needs Authorization: Bearer <admin token>".into(),
            ));
        }
    }
    Ok(next.run(req).await)
}

/// Where a browser puts the admin token, since an `EventSource` cannot set a header: the
/// `k2_sandbox_admin_token` cookie, or on the stream alone, `?token=`.
fn presented_elsewhere(req: &axum::extract::Request) -> Option<String> {
    let cookie = req
        .headers()
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix("k2_sandbox_admin_token="))
        .map(str::to_string);
    cookie.or_else(|| {
        (req.uri().path() == "/_sandbox/stream")
            .then(|| req.uri().query())
            .flatten()
            .and_then(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .find(|(k, _)| k == "token")
                    .map(|(_, v)| v.into_owned())
            })
    })
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
            Account::Till(t) => Some((t.to_string(), format_amount(balance).into())),
            Account::Company => None,
        })
        .collect();
    Json(Balances {
        company: format_amount(ledger.balance(&client_id, &Account::Company)),
        client_id,
        tills,
    })
}

/// The control plane's routes, for a person or a script finding their way.
async fn index() -> Json<serde_json::Value> {
    let routes: Vec<serde_json::Value> = crate::routes::CONTROL
        .iter()
        .map(|(method, path, what)| serde_json::json!({"method": method, "path": path, "what": what}))
        .collect();
    Json(serde_json::json!({
        "name": "k2-sandbox control plane",
        "version": env!("CARGO_PKG_VERSION"),
        "routes": routes,
    }))
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
}

/// 200 `{"status": "ok"}` once start-up work is done; 503 `{"status": "starting"}` before.
async fn health(State(state): State<AppState>) -> (axum::http::StatusCode, Json<Health>) {
    let ready = state
        .settings
        .ready
        .load(std::sync::atomic::Ordering::Acquire);
    let (code, status) = if ready {
        (axum::http::StatusCode::OK, "ok")
    } else {
        (axum::http::StatusCode::SERVICE_UNAVAILABLE, "starting")
    };
    (
        code,
        Json(Health {
            status,
            version: env!("CARGO_PKG_VERSION"),
        }),
    )
}

#[derive(Serialize)]
struct DeliveryLog {
    deliveries: Vec<DeliveryView>,
    next_cursor: Option<String>,
}

#[derive(Deserialize)]
struct DeliveryFilter {
    /// `pending`, `delivered`, `exhausted` or `dropped`.
    status: Option<String>,
    client_id: Option<String>,
    /// RFC 3339: only deliveries created at or after it.
    since: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
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
    /// Receiver probes only: what a correct receiver does and what the app did.
    #[serde(skip_serializing_if = "Option::is_none")]
    probe: Option<Probe>,
    /// The delivery this one sends again, when it is a replay.
    replay_of: Option<Uuid>,
    /// The latest replay of this delivery.
    replayed_by: Option<Uuid>,
}

#[derive(Serialize)]
struct AttemptView {
    attempt: u32,
    at: String,
    status: Option<u16>,
    error: Option<String>,
    latency_ms: u64,
}

impl DeliveryView {
    fn of(state: &AppState, d: Delivery) -> Self {
        let body = state.dispatcher.body_of(&d).map_or_else(
            || "(not kept: its resource is gone, after a reset or by --retention)".to_string(),
            |b| String::from_utf8_lossy(&b).into_owned(),
        );
        let (replay_of, replayed_by) = (d.replay_of(), d.replayed_by());
        let (probe, signature) = (d.probe().cloned(), d.signature().to_string());
        Self {
            id: d.id,
            resource: d.resource,
            target: d.target.to_string(),
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
    let page = state.store.deliveries(request, |d| {
        status.is_none_or(|s| d.state == s)
            && f.client_id.as_deref().is_none_or(|c| *d.owner == *c)
            && since_ms.is_none_or(|t| d.created_at_ms >= t)
    });
    Ok(Json(DeliveryLog {
        next_cursor: page::next_cursor(page.next),
        deliveries: page
            .items
            .into_iter()
            .map(|d| DeliveryView::of(&state, d))
            .collect(),
    }))
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

#[derive(Serialize)]
struct ClockView {
    now: String,
    #[serde(rename = "virtual")]
    is_virtual: bool,
    /// Whose clock: an application that runs ahead on its own, or null for the shared one.
    client_id: Option<String>,
    /// How far this clock was advanced, in milliseconds, ahead of real time (or of the
    /// virtual clock's start): the shared advances plus the application's own.
    advanced_ms: i64,
    /// Results and callback attempts still queued or running.
    pending_jobs: usize,
}

fn clock_view(state: &AppState, client_id: Option<String>) -> ClockView {
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

/// `{"auto_tenants", "applications": [{"client_id", "auto_provisioned", "now",
/// "advanced_ms"}]}`: the configured application and, with `--auto-tenants`, every tenant,
/// each with its own clock.
async fn applications(State(state): State<AppState>) -> Json<serde_json::Value> {
    let applications: Vec<serde_json::Value> = state
        .store
        .applications()
        .into_iter()
        .map(|a| {
            let clock = clock_view(&state, Some(a.client_id.to_string()));
            serde_json::json!({
                "client_id": a.client_id,
                "auto_provisioned": state.store.is_tenant(&a.client_id),
                "now": clock.now,
                "advanced_ms": clock.advanced_ms,
            })
        })
        .collect();
    Json(serde_json::json!({
        "auto_tenants": state.settings.auto_tenants,
        "applications": applications,
    }))
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
    crate::service::publish(
        state,
        crate::store::feed::FeedKind::Clock,
        client_id.as_deref(),
        || serde_json::json!({"by_ms": by_ms, "client_id": client_id}),
    );
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
#[serde(deny_unknown_fields)]
struct SetBalance {
    client_id: Option<String>,
    /// A till's account; absent or null: the company account.
    till_number: Option<String>,
    balance: serde_json::Value,
}

/// Sets an account's balance outright (recorded in the ledger as an adjustment).
async fn set_balance(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SetBalance>,
) -> Result<Json<Balances>, ApiError> {
    let amount = match &body.balance {
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::String(s) => s.trim().to_string(),
        _ => String::new(),
    }
    .parse::<rust_decimal::Decimal>()
    .ok()
    .filter(|d| !d.is_sign_negative())
    .ok_or_else(|| ApiError::BadRequest("balance must be a non-negative amount".into()))?;
    let owner = body
        .client_id
        .clone()
        .unwrap_or_else(|| state.settings.client_id.clone());
    let account = Account::from_source(body.till_number.as_deref());
    state.store.ledger.set(&owner, &account, amount);
    Ok(balances(
        State(state),
        Query(BalancesQuery {
            client_id: Some(owner),
        }),
    )
    .await)
}

/// Loads a YAML scenario sent as the body (several documents allowed): all or nothing. A
/// multipart form (`curl -F file=@qa.yaml`) works too: its first file part is the scenario.
async fn load_scenario(
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    Query(q): Query<LoadQuery>,
    req: axum::extract::Request,
) -> Result<(axum::http::StatusCode, Json<crate::scenario::Loaded>), ApiError> {
    // `?source=` names the file the body came from (the CLI sends it): problems and the
    // scenario list show it instead of "(request body)".
    let source = q
        .source
        .map(|s| {
            s.chars()
                .filter(|c| !c.is_control())
                .take(200)
                .collect::<String>()
        })
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "(request body)".into());
    let body = crate::http::extract::read_file_body(req, &state).await?;
    // Parsing up to a megabyte of YAML, within a budget. The parse is bounded in size, depth,
    // aliases and documents, so it ends well within it; the budget is the last guard, and the
    // runtime does not wait for it at shutdown.
    let parsing = on_blocking_pool("scenario parsing", move || {
        crate::scenario::read(&source, &body)
    });
    let scenarios = tokio::time::timeout(PARSE_BUDGET, parsing)
        .await
        .map_err(|_| {
            ApiError::BadRequest(format!(
                "the scenario took longer than {} s to read; split it into smaller files",
                PARSE_BUDGET.as_secs()
            ))
        })??
        .map_err(|p| ApiError::BadRequest(p.one_line()))?;
    let loaded = crate::scenario::apply(&state, scenarios, &base)
        .map_err(|p| ApiError::BadRequest(p.one_line()))?;
    Ok((axum::http::StatusCode::CREATED, Json(loaded)))
}

/// Every loaded scenario's expectations, judged now: `passed` is the verdict of them all.
async fn verify(
    State(state): State<AppState>,
) -> Result<Json<crate::service::verify::Report>, ApiError> {
    // Judging every expectation walks the journal, the deliveries and the collections.
    on_blocking_pool("verifying", move || crate::service::verify::verify(&state))
        .await
        .map(Json)
}

/// Runs `work`, which walks the store or a big input, on the blocking pool, so that the
/// runtime's worker (one by default) goes on answering requests meanwhile. A panic in it is
/// a JSON 500.
async fn on_blocking_pool<T: Send + 'static>(
    what: &str,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::Internal(format!("{what} failed: {e}")))
}

/// The loaded scenarios, in load order: where each came from, what it added, what it keeps
/// acting with, and the verdicts of its receiver probes.
async fn list_scenarios(State(state): State<AppState>) -> Json<serde_json::Value> {
    let scenarios: Vec<serde_json::Value> = state
        .scenarios
        .list()
        .into_iter()
        .map(|s| {
            let probes = probe_verdicts(&state, &s.name);
            let mut view = serde_json::to_value(&s).expect("a scenario serialises");
            view["probe_verdicts"] = probes;
            view
        })
        .collect();
    Json(serde_json::json!({ "scenarios": scenarios }))
}

/// How the scenario `name`'s receiver probes went: passed, failed, waiting.
fn probe_verdicts(state: &AppState, name: &str) -> serde_json::Value {
    let (mut passed, mut failed, mut waiting) = (0, 0, 0);
    for d in state.store.deliveries_where(|d| {
        d.probe()
            .is_some_and(|p| p.scenario.as_deref() == Some(name))
    }) {
        match d.probe().and_then(|p| p.passed) {
            Some(true) => passed += 1,
            Some(false) => failed += 1,
            None => waiting += 1,
        }
    }
    serde_json::json!({"passed": passed, "failed": failed, "waiting": waiting})
}

#[derive(Deserialize)]
struct ExportQuery {
    /// Only this application's world.
    client_id: Option<String>,
    /// The exported scenario's name (default `exported`).
    name: Option<String>,
}

/// The world as a scenario file (YAML) that loads back into the same world.
async fn export_world(
    State(state): State<AppState>,
    Query(q): Query<ExportQuery>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse as _;
    if let Some(c) = q.client_id.as_deref()
        && state.store.application(c).is_none()
    {
        return Err(ApiError::NotFound(format!("No application {c:?}")));
    }
    // Up to a retention's worth of transactions, written as YAML.
    let yaml = on_blocking_pool("exporting the world", move || {
        let name = q.name.as_deref().unwrap_or("exported");
        crate::scenario::export(&state, q.client_id.as_deref(), name)
    })
    .await?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "application/yaml; charset=utf-8",
        )],
        yaml,
    )
        .into_response())
}

/// Unloads a scenario: its rules, faults, callback faults and pending timeline moments go;
/// what it added to the world stays.
async fn unload_scenario(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<crate::script::Unloaded>, ApiError> {
    let unloaded = state.scenarios.unload(&name).ok_or_else(|| {
        let names: Vec<String> = state
            .scenarios
            .list()
            .into_iter()
            .map(|s| s.name.to_string())
            .collect();
        ApiError::NotFound(format!(
            "No scenario {name:?} is loaded{}",
            crate::suggest::did_you_mean(&name, names.iter().map(String::as_str))
        ))
    })?;
    tracing::info!(scenario = %name, "scenario unloaded");
    crate::service::publish(
        &state,
        crate::store::feed::FeedKind::Scenario,
        None,
        || serde_json::json!({"name": name, "action": "unloaded"}),
    );
    Ok(Json(unloaded))
}

#[derive(Deserialize)]
struct LoadQuery {
    source: Option<String>,
}

/// The longest a scenario body may take to parse.
const PARSE_BUDGET: Duration = Duration::from_secs(2);
