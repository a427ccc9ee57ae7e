//! `POST /api/v2/reversals` (also at the reference's misprinted `/api/api/v2/reversals`) and
//! `GET /api/v2/reversals/{id}`.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};

use super::error::ApiError;
use super::extract::{ApiJson, Authenticated, BaseUrl};
use super::resource::{accept_pending_after, show};
use crate::domain::Verdict;
use crate::domain::ledger::{Account, TransactionStatus};
use crate::domain::metadata::Metadata;
use crate::domain::required_text;
use crate::domain::reversal::{REVERSAL_WINDOW_MS, Reversal, ReversalState};
use crate::scheduler::Settle;
use crate::script::rules::{Decision, Endpoint, Facts};
use crate::service::AppState;
use crate::service::new_envelope;
use crate::store::Insufficient;
use crate::wire::reversals::{ReversalAttributes, ReversalRequest};
use crate::wire::{Document, callback_url_of};

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
    let owner = auth.client_id.as_str();
    let reference = required_text(
        body.transaction_reference.as_deref(),
        "Transaction reference",
    )?;
    let reason = required_text(body.reason.as_deref(), "Reason")?;
    let metadata = Metadata::parse(body.metadata.as_ref())?;
    let callback_url = callback_url_of(body.links.as_ref())?;

    // By its id, as in the reference's example, or by its M-PESA reference.
    let now_ms = state.clock.now_ms_of(owner);
    let transaction = state
        .store
        .transactions
        .find(&reference, owner)
        .or_else(|| {
            state
                .store
                .transactions
                .filter(owner, |t| t.reference.eq_ignore_ascii_case(&reference))
                .into_iter()
                .next()
        })
        .filter(|t| now_ms - t.originated_at_ms <= REVERSAL_WINDOW_MS)
        .ok_or_else(|| {
            ApiError::BadRequest(
                "Transaction reference does not name an incoming transaction of the last 30 days"
                    .into(),
            )
        })?;

    // Received → Pending Reversal, atomically: a second reversal sees the new state.
    state
        .store
        .transactions
        .update(transaction.id, |t| match t.status {
            TransactionStatus::Received => {
                t.status = TransactionStatus::PendingReversal;
                Ok(())
            }
            other => Err(other),
        })
        .unwrap_or(Err(TransactionStatus::Reversed))
        .map_err(|status| {
            ApiError::BadRequestList(vec![format!(
                "You cannot reverse a transaction in {}",
                status.label()
            )])
        })?;

    let amount = transaction.amount;
    let decision = state.scenarios.rules.decide(
        Endpoint::Reversal,
        &Facts {
            client_id: owner,
            till_number: Some(&transaction.till_number),
            amount: Some(amount.decimal()),
            metadata: metadata.as_ref().map(|m| m.entries()),
            ..Facts::default()
        },
    );
    let meta = new_envelope(&state, owner, &base, COLLECTION);
    let failure = match decision.as_ref().map(|d| &d.verdict) {
        // A scenario says it fails: nothing is debited.
        Some(Verdict::Failure(error)) => {
            Some(error.clone().unwrap_or_else(|| Insufficient.to_string()))
        }
        _ => state
            .store
            .ledger
            .debit(
                owner,
                &Account::Till(transaction.till_number.clone()),
                amount.decimal(),
                &format!("reversal {}", meta.id),
            )
            .err()
            .map(|e| e.to_string()),
    };
    let reversal = Reversal {
        meta,
        transaction_id: transaction.id,
        transaction_reference: reference,
        till_number: transaction.till_number,
        amount,
        reason,
        metadata,
        callback_url,
        failure,
        payment_reference: state.ids.mpesa_reference(),
        state: ReversalState::Scheduled,
    };
    tracing::info!(id = %reversal.meta.id, failure = ?reversal.failure, %amount, "reversal scheduled");
    let self_url = reversal.meta.self_url.clone();
    let delay = match decision {
        Some(Decision {
            verdict: Verdict::Pending,
            ..
        }) => None,
        Some(Decision { delay: Some(d), .. }) => Some(d),
        _ => Some(state.settings.callback_delay),
    };
    Ok(accept_pending_after(
        &state,
        &state.store.reversals,
        reversal,
        &self_url,
        Settle::Reversal,
        delay,
    ))
}

async fn find(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    show::<_, Document<ReversalAttributes>>(
        &state,
        &state.store.reversals,
        &id,
        &auth.client_id,
        "Reversal",
    )
}
