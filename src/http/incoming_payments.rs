//! STK push: `POST /api/v2/incoming_payments` and `GET /api/v2/incoming_payments/{id}`.

use axum::Router;
use axum::extract::{MatchedPath, Path, State};
use axum::response::Response;
use axum::routing::{get, post};

use super::error::ApiError;
use super::extract::{ApiJson, Authenticated, BaseUrl};
use super::resource::{created, show_resource};
use crate::domain::incoming_payment::IncomingPayment;
use crate::domain::incoming_payment::NewIncomingPayment;
use crate::service::{AppState, incoming_payments};
use crate::wire::incoming_payments::IncomingPaymentRequest;

const COLLECTION: &str = "/api/v2/incoming_payments";

pub fn router() -> Router<AppState> {
    // The published Node SDK speaks v1: same request, same document, v1 Locations.
    Router::new()
        .route(COLLECTION, post(create))
        .route("/api/v2/incoming_payments/{id}", get(find))
        .route("/api/v1/incoming_payments", post(create))
        .route("/api/v1/incoming_payments/{id}", get(find))
}

#[tracing::instrument(level = "debug", skip_all, fields(client_id = %auth.client_id, id))]
async fn create(
    State(state): State<AppState>,
    auth: Authenticated,
    BaseUrl(base): BaseUrl,
    collection: MatchedPath,
    ApiJson(body): ApiJson<IncomingPaymentRequest>,
) -> Result<Response, ApiError> {
    let request = NewIncomingPayment::try_from(body)?;
    let url = incoming_payments::push(&state, &auth.client_id, &base, collection.as_str(), request);
    Ok(created(&url))
}

async fn find(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    show_resource::<IncomingPayment>(&state, &id, &auth.client_id)
}
