//! Scenarios at run time: load, list, unload, export the world as one, and judge their
//! expectations (`GET /_sandbox/verify`); the heavy work on the blocking pool.

use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::Deserialize;

use crate::http::error::ApiError;
use crate::http::extract::BaseUrl;
use crate::service::AppState;
use crate::wire::control::{ProbeVerdicts, ScenarioList, ScenarioView};

pub fn router() -> Router<AppState> {
    Router::new()
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
}

#[derive(Deserialize)]
struct LoadQuery {
    source: Option<String>,
}

/// The longest a scenario body may take to parse.
const PARSE_BUDGET: Duration = Duration::from_secs(2);

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

/// The loaded scenarios, in load order: where each came from, what it added, what it keeps
/// acting with, and the verdicts of its receiver probes.
async fn list_scenarios(State(state): State<AppState>) -> Json<ScenarioList> {
    let scenarios = state
        .scenarios
        .list()
        .into_iter()
        .map(|s| ScenarioView {
            probe_verdicts: probe_verdicts(&state, &s.name),
            name: s.name.to_string(),
            description: s.description,
            source: s.source,
            loaded_at: s.loaded_at,
            added: s
                .added
                .into_iter()
                .map(|(section, n)| (section.to_string(), n))
                .collect(),
            rules: s.rules,
            faults: s.faults,
            callback_faults: s.callback_faults,
            probes: s.probes,
            timeline: s.timeline,
            timeline_pending: s.timeline_pending,
            expectations: s.expectations,
        })
        .collect();
    Json(ScenarioList { scenarios })
}

/// How the scenario `name`'s receiver probes went: passed, failed, waiting.
fn probe_verdicts(state: &AppState, name: &str) -> ProbeVerdicts {
    let mut verdicts = ProbeVerdicts::default();
    for d in state.store.deliveries_where(|d| {
        d.probe()
            .is_some_and(|p| p.scenario.as_deref() == Some(name))
    }) {
        match d.probe().and_then(|p| p.passed) {
            Some(true) => verdicts.passed += 1,
            Some(false) => verdicts.failed += 1,
            None => verdicts.waiting += 1,
        }
    }
    verdicts
}

/// Unloads a scenario: its rules, faults, callback faults and pending timeline moments go;
/// what it added to the world stays.
async fn unload_scenario(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<crate::scenarios::Unloaded>, ApiError> {
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
    crate::service::publish_view(&state, crate::store::feed::FeedKind::Scenario, None, || {
        crate::wire::control::ScenarioEvent {
            name: name.clone(),
            action: "unloaded".into(),
        }
    });
    Ok(Json(unloaded))
}

#[derive(Deserialize)]
struct ExportQuery {
    /// Only this application's world.
    client_id: Option<String>,
    /// The exported scenario's name (default `exported`).
    name: Option<String>,
    /// `include`: the applications' credentials too.
    secrets: Option<String>,
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
    let secrets = match q.secrets.as_deref() {
        None => false,
        Some("include") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "secrets={other:?}: secrets=include writes the applications' credentials; \
                 without it they are left out"
            )));
        }
    };
    // Up to a retention's worth of transactions, written as YAML.
    let yaml = on_blocking_pool("exporting the world", move || {
        let name = q.name.as_deref().unwrap_or("exported");
        crate::scenario::export(&state, q.client_id.as_deref(), name, secrets)
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
