//! `POST /api/v1/transaction_sms_notifications` and `GET .../{id}`. Like the real API, the
//! request is accepted once its fields are present; the webhook event reference is checked
//! when the result is decided.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};

use super::error::ApiError;
use super::extract::{ApiJson, Authenticated, BaseUrl};
use super::resource::{created, show_resource};
use crate::domain::sms_notification::NewSmsNotification;
use crate::domain::sms_notification::SmsNotification;
use crate::service::{AppState, sms_notifications};
use crate::wire::sms_notifications::SmsNotificationRequest;

const COLLECTION: &str = "/api/v1/transaction_sms_notifications";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(COLLECTION, post(create))
        .route("/api/v1/transaction_sms_notifications/{id}", get(find))
}

async fn create(
    State(state): State<AppState>,
    auth: Authenticated,
    BaseUrl(base): BaseUrl,
    ApiJson(body): ApiJson<SmsNotificationRequest>,
) -> Result<Response, ApiError> {
    let request = NewSmsNotification::try_from(body)?;
    let url = sms_notifications::request(&state, &auth.client_id, &base, COLLECTION, request);
    Ok(created(&url))
}

async fn find(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    show_resource::<SmsNotification>(&state, &id, &auth.client_id)
}
