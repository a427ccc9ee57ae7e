//! `POST /api/v2/reversals` (also at the reference's misprinted `/api/api/v2/reversals`) and
//! `GET /api/v2/reversals/{id}`.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};

use super::error::ApiError;
use super::extract::{ApiJson, Authenticated, BaseUrl};
use super::resource::{created, show_resource};
use crate::domain::metadata::Metadata;
use crate::domain::required_text;
use crate::domain::reversal::Reversal;
use crate::service::AppState;
use crate::service::reversals::{self, ReverseRequest};
use crate::wire::callback_url_of;
use crate::wire::reversals::ReversalRequest;

const COLLECTION: &str = "/api/v2/reversals";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(COLLECTION, post(create))
        .route("/api/api/v2/reversals", post(create))
        .route("/api/v2/reversals/{id}", get(find))
}

async fn create(
    State(state): State<AppState>,
    auth: Authenticated,
    BaseUrl(base): BaseUrl,
    ApiJson(body): ApiJson<ReversalRequest>,
) -> Result<Response, ApiError> {
    let owner = &*auth.client_id;
    let reference = required_text(
        body.transaction_reference.as_deref(),
        "Transaction reference",
    )?;
    let reason = required_text(body.reason.as_deref(), "Reason")?;
    let metadata = Metadata::parse(body.metadata.as_ref())?;
    let callback_url = callback_url_of(body.links.as_ref(), body.callback_url.is_some())?;

    let request = ReverseRequest {
        transaction_reference: reference,
        reason,
        metadata,
        callback_url,
    };
    let url = reversals::reverse(&state, owner, &base, COLLECTION, request)?;
    Ok(created(&url))
}

async fn find(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    show_resource::<Reversal>(&state, &id, &auth.client_id)
}
