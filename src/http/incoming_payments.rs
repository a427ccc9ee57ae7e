//! STK push: `POST /api/v2/incoming_payments` and `GET /api/v2/incoming_payments/{id}`.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use uuid::Uuid;

use super::error::ApiError;
use super::extract::{ApiJson, Authenticated, BaseUrl};
use crate::AppState;
use crate::domain::incoming_payment::{
    IncomingPayment, NewIncomingPayment, PaymentState, PlannedTransaction,
};
use crate::scheduler::Job;
use crate::wire::incoming_payments::{IncomingPaymentDocument, IncomingPaymentRequest};

const COLLECTION: &str = "/api/v2/incoming_payments";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(COLLECTION, post(create))
        .route("/api/v2/incoming_payments/{id}", get(show))
}

#[tracing::instrument(skip_all, fields(client_id = %auth.client_id, id))]
async fn create(
    State(state): State<AppState>,
    auth: Authenticated,
    BaseUrl(base): BaseUrl,
    ApiJson(body): ApiJson<IncomingPaymentRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let request = NewIncomingPayment::try_from(body)?;
    let id = state.ids.uuid();
    tracing::Span::current().record("id", tracing::field::display(id));
    let self_url = format!("{base}{COLLECTION}/{id}");
    let payment = IncomingPayment {
        id,
        owner: auth.client_id,
        request,
        initiated_at_ms: state.clock.now_ms(),
        self_url: self_url.clone(),
        planned: PlannedTransaction {
            resource_id: state.ids.uuid(),
            reference: state.ids.mpesa_reference(),
        },
        state: PaymentState::Pending,
    };
    state.store.insert_incoming_payment(payment);
    state.scheduler.schedule(
        Job::SettleIncomingPayment(id),
        state.settings.callback_delay,
    );
    tracing::info!("incoming payment created");
    Ok((StatusCode::CREATED, [(header::LOCATION, self_url)]))
}

async fn show(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<IncomingPaymentDocument>, ApiError> {
    Uuid::parse_str(&id)
        .ok()
        .and_then(|id| state.store.incoming_payment(id, &auth.client_id))
        .map(|p| Json(IncomingPaymentDocument::from(&p)))
        .ok_or_else(|| ApiError::NotFound("Incoming payment not found".into()))
}
