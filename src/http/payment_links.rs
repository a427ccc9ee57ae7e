//! Payment links: `POST /api/v2/payment_links`, `GET /api/v2/payment_links/{id}`,
//! `POST /api/v2/payment_links/{id}/cancel`. The page the `link` points to is `checkout`.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use super::error::ApiError;
use super::extract::{ApiJson, Authenticated, BaseUrl};
use super::resource::{created, show_resource};
use crate::domain::metadata::Metadata;
use crate::domain::money::{Amount, Currency};
use crate::domain::payment_link::PaymentLink;
use crate::domain::{optional_text, required_text};
use crate::service::AppState;
use crate::service::payment_links::{self, NewLink};
use crate::wire::callback_url_of;
use crate::wire::payment_links::PaymentLinkRequest;

const COLLECTION: &str = "/api/v2/payment_links";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(COLLECTION, post(create))
        .route("/api/v2/payment_links/{id}", get(find))
        .route("/api/v2/payment_links/{id}/cancel", post(cancel))
}

async fn create(
    State(state): State<AppState>,
    auth: Authenticated,
    BaseUrl(base): BaseUrl,
    ApiJson(body): ApiJson<PaymentLinkRequest>,
) -> Result<Response, ApiError> {
    let link = NewLink {
        till_number: required_text(body.till_number.as_deref(), "Till number")?,
        currency: Currency::parse(body.currency.as_deref())?,
        amount: Amount::whole_shillings(body.amount.as_ref(), "Amount")?,
        metadata: Metadata::parse(body.metadata.as_ref())?,
        callback_url: callback_url_of(body.links.as_ref(), body.callback_url.is_some())?,
        payment_reference: optional_text(body.payment_reference.as_deref()),
        note: optional_text(body.note.as_deref()),
    };
    let url = payment_links::create(&state, &auth.client_id, &base, COLLECTION, link);
    Ok(created(&url))
}

async fn find(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    show_resource::<PaymentLink>(&state, &id, &auth.client_id)
}

/// 200 `{"message": "Payment link cancelled."}`; the body, if any, is ignored (clients send
/// an empty one with a JSON content type).
async fn cancel(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let link = state
        .store
        .payment_links
        .find(&id, &auth.client_id)
        .ok_or_else(|| {
            super::resource::not_found(&state.store.payment_links, &id, "Payment link")
        })?;
    payment_links::cancel(&state, &link)?;
    Ok(Json(json!({"message": "Payment link cancelled."})))
}
