//! STK push: `POST /api/v2/incoming_payments` and `GET /api/v2/incoming_payments/{id}`.

use axum::Router;
use axum::extract::{MatchedPath, Path, State};
use axum::response::Response;
use axum::routing::{get, post};

use super::error::ApiError;
use super::extract::{ApiJson, Authenticated, BaseUrl};
use super::resource::{accept_pending_after, show};
use crate::domain::incoming_payment::{
    IncomingPayment, NewIncomingPayment, PaymentState, PlannedTransaction,
};
use crate::scheduler::Settle;
use crate::script::rules::{Endpoint, Facts};
use crate::service::AppState;
use crate::wire::incoming_payments::{IncomingPaymentDocument, IncomingPaymentRequest};

const COLLECTION: &str = "/api/v2/incoming_payments";

pub fn router() -> Router<AppState> {
    // The published Node SDK speaks v1: same request, same document, v1 Locations.
    Router::new()
        .route(COLLECTION, post(create))
        .route("/api/v2/incoming_payments/{id}", get(find))
        .route("/api/v1/incoming_payments", post(create))
        .route("/api/v1/incoming_payments/{id}", get(find))
}

#[tracing::instrument(skip_all, fields(client_id = %auth.client_id, id))]
async fn create(
    State(state): State<AppState>,
    auth: Authenticated,
    BaseUrl(base): BaseUrl,
    collection: MatchedPath,
    ApiJson(body): ApiJson<IncomingPaymentRequest>,
) -> Result<Response, ApiError> {
    let request = NewIncomingPayment::try_from(body)?;
    let owner = auth.client_id;
    let decision = state.scenarios.rules.decide(
        Endpoint::StkPush,
        &Facts {
            client_id: &owner,
            phone_number: Some(&request.subscriber.phone_number),
            till_number: Some(&request.till_number),
            amount: Some(request.amount.decimal()),
            metadata: request.metadata.as_ref().map(|m| m.entries()),
            ..Facts::default()
        },
    );
    let id = state.ids.uuid();
    tracing::Span::current().record("id", tracing::field::display(id));
    let payment = IncomingPayment {
        id,
        sequence: state.ids.next_sequence(),
        owner: owner.clone(),
        request,
        initiated_at_ms: state.clock.now_ms_of(&owner),
        self_url: format!("{base}{}/{id}", collection.as_str()),
        planned: PlannedTransaction {
            resource_id: state.ids.uuid(),
            reference: state.ids.mpesa_reference(),
        },
        forced: decision.as_ref().map(|d| d.verdict.clone()),
        state: PaymentState::Pending,
    };
    tracing::info!("incoming payment created");
    let self_url = payment.self_url.clone();
    let delay = decision
        .and_then(|d| d.delay)
        .unwrap_or(state.settings.callback_delay);
    Ok(accept_pending_after(
        &state,
        &state.store.incoming_payments,
        payment,
        &self_url,
        Settle::IncomingPayment,
        Some(delay),
    ))
}

async fn find(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    show::<_, IncomingPaymentDocument>(
        &state,
        &state.store.incoming_payments,
        &id,
        &auth.client_id,
        "Incoming payment",
    )
}
