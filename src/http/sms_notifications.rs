//! `POST /api/v1/transaction_sms_notifications` and `GET .../{id}`. Like the real API, the
//! request is accepted once its fields are present; the webhook event reference is checked
//! when the result is decided.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};

use super::error::ApiError;
use super::extract::{ApiJson, Authenticated, BaseUrl};
use super::resource::{created, show};
use crate::domain::required_text;
use crate::domain::sms_notification::{SmsNotification, SmsState};
use crate::scheduler::Settle;
use crate::service::AppState;
use crate::service::new_envelope;
use crate::wire::sms_notifications::{SmsAttributes, SmsNotificationRequest};
use crate::wire::{Document, callback_url_of};

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
    let notification = SmsNotification {
        webhook_event_reference: required_text(
            body.webhook_event_reference.as_deref(),
            "Webhook event reference",
        )?,
        message: required_text(body.message.as_deref(), "Message")?,
        callback_url: callback_url_of(body.links.as_ref())?,
        meta: new_envelope(&state, &auth.client_id, &base, COLLECTION),
        state: SmsState::Pending,
    };
    let self_url = notification.meta.self_url().to_string();
    let due = Some(state.settings.callback_delay);
    crate::service::accept(
        &state,
        &state.store.sms_notifications,
        notification,
        Settle::SmsNotification,
        due,
    );
    Ok(created(&self_url))
}

async fn find(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    show::<_, Document<SmsAttributes>>(
        &state,
        &state.store.sms_notifications,
        &id,
        &auth.client_id,
        "Transaction SMS notification",
    )
}
