//! `POST /api/v2/polling` and `GET /api/v2/polling/{id}`.

use axum::Router;
use axum::extract::{MatchedPath, Path, State};
use axum::response::Response;
use axum::routing::{get, post};

use super::error::ApiError;
use super::extract::{ApiJson, Authenticated, BaseUrl};
use super::resource::{created, show_resource};
use crate::domain::polling::NewPolling;
use crate::domain::polling::Polling;
use crate::service::{AppState, polling};
use crate::wire::polling::PollingRequest;

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
    let request = NewPolling::try_from(body)?;
    let url = polling::request(&state, &auth.client_id, &base, collection.as_str(), request);
    Ok(created(&url))
}

async fn find(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    show_resource::<Polling>(&state, &id, &auth.client_id)
}
