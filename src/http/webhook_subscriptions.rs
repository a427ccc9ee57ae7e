//! `POST /api/v2/webhook_subscriptions` and `GET /api/v2/webhook_subscriptions/{id}`.

use axum::Router;
use axum::extract::{MatchedPath, Path, State};
use axum::response::Response;
use axum::routing::{get, post};

use super::error::ApiError;
use super::extract::{ApiJson, Authenticated, BaseUrl};
use super::resource::{created, show};
use crate::domain::webhooks::NewSubscription;
use crate::service::{AppState, webhook_subscriptions};
use crate::wire::Document;
use crate::wire::webhooks::{SubscriptionAttributes, SubscriptionRequest};

const COLLECTION: &str = "/api/v2/webhook_subscriptions";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(COLLECTION, post(create))
        .route("/api/v2/webhook_subscriptions/{id}", get(find))
        .route("/api/v1/webhook_subscriptions", post(create))
        .route("/api/v1/webhook_subscriptions/{id}", get(find))
        .route("/webhook_events/{id}", get(event))
}

/// A webhook event the sandbox sent, at its `_links.self`: the K2Connect payload.
async fn event(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state
        .store
        .webhook_events
        .find(&id, &auth.client_id)
        .map(|e| super::resource::api_json(&crate::wire::webhooks::event_payload(&e)))
        .ok_or_else(|| {
            super::resource::not_found(&state.store.webhook_events, &id, "Webhook event")
        })
}

async fn create(
    State(state): State<AppState>,
    auth: Authenticated,
    BaseUrl(base): BaseUrl,
    collection: MatchedPath,
    ApiJson(body): ApiJson<SubscriptionRequest>,
) -> Result<Response, ApiError> {
    let new = NewSubscription::try_from(body)?;
    let url =
        webhook_subscriptions::subscribe(&state, &auth.client_id, &base, collection.as_str(), new);
    Ok(created(&url))
}

async fn find(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    show::<_, Document<SubscriptionAttributes>>(
        &state,
        &state.store.webhook_subscriptions,
        &id,
        &auth.client_id,
        "Webhook subscription",
    )
}
