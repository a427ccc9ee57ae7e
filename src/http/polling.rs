//! `POST /api/v2/polling` and `GET /api/v2/polling/{id}`.

use axum::Router;
use axum::extract::{MatchedPath, Path, State};
use axum::response::Response;
use axum::routing::{get, post};

use super::error::ApiError;
use super::extract::{ApiJson, Authenticated, BaseUrl};
use super::resource::{created, show};
use crate::domain::polling::{Polling, PollingState, instant};
use crate::domain::{Invalid, Scope};
use crate::scheduler::Settle;
use crate::service::AppState;
use crate::service::new_envelope;
use crate::wire::polling::{PollingAttributes, PollingRequest};
use crate::wire::{Document, callback_url_of};

const COLLECTION: &str = "/api/v2/polling";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(COLLECTION, post(create))
        .route("/api/v2/polling/{id}", get(find))
        .route("/api/v1/polling", post(create))
        .route("/api/v1/polling/{id}", get(find))
}

async fn create(
    State(state): State<AppState>,
    auth: Authenticated,
    BaseUrl(base): BaseUrl,
    collection: MatchedPath,
    ApiJson(body): ApiJson<PollingRequest>,
) -> Result<Response, ApiError> {
    let scope = Scope::parse(body.scope.as_deref(), body.scope_reference.as_deref())?;
    let from_time = instant(body.from_time.as_deref(), "From time")?;
    let to_time = instant(body.to_time.as_deref(), "To time")?;
    if to_time.1 < from_time.1 {
        return Err(Invalid("To time must not be before from time".into()).into());
    }
    let polling = Polling {
        meta: new_envelope(&state, &auth.client_id, &base, collection.as_str()),
        scope,
        from_time,
        to_time,
        callback_url: callback_url_of(body.links.as_ref())?,
        state: PollingState::Pending,
    };
    let self_url = polling.meta.self_url().to_string();
    let due = Some(state.settings.callback_delay);
    crate::service::accept(&state, &state.store.pollings, polling, Settle::Polling, due);
    Ok(created(&self_url))
}

async fn find(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    show::<_, Document<PollingAttributes>>(
        &state,
        &state.store.pollings,
        &id,
        &auth.client_id,
        "Polling request",
    )
}
