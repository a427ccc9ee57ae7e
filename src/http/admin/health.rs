//! `GET /_sandbox/health`, the control plane's index, and the applications.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use super::clock::clock_view;
use crate::service::AppState;
use crate::wire::control::Health;

/// The routes open without the admin token.
pub fn open_router() -> Router<AppState> {
    Router::new()
        .route("/_sandbox/health", get(health))
        .route(
            "/_sandbox/openapi.json",
            get(crate::http::openapi::serve_json),
        )
        .route(
            "/_sandbox/openapi.yaml",
            get(crate::http::openapi::serve_yaml),
        )
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/_sandbox/", get(index))
        .route("/_sandbox", get(index))
        .route("/_sandbox/applications", get(applications))
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
            status: status.into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }),
    )
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
