//! `POST /api/v2/send_money` and `GET /api/v2/send_money/{id}`: blind transfers, transfers
//! to the merchant's own accounts, and payments to external recipients; and the v1 payments
//! and settlement transfers the Node SDK speaks. Handlers parse; `service::send_money` plans,
//! reserves and schedules.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::Value;

use super::error::ApiError;
use super::extract::{ApiJson, Authenticated, BaseUrl};
use super::resource::{created, show_resource};
use crate::domain::metadata::{Metadata, js_canonical};
use crate::domain::money::Currency;
use crate::domain::send_money::SendMoney;
use crate::domain::send_money::destination_amount;
use crate::domain::{Invalid, optional_text};
use crate::service::AppState;
use crate::service::send_money::{self, PayRequest, SendRequest, TransferRequest};
use crate::wire::callback_url_of;
use crate::wire::send_money::{PaymentRequest, SendMoneyRequest, SettlementTransferRequest};

const COLLECTION: &str = "/api/v2/send_money";
const PAYMENTS: &str = "/api/v1/payments";
const SETTLEMENT_TRANSFERS: &str = "/api/v1/settlement_transfers";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(COLLECTION, post(create))
        .route("/api/v2/send_money/{id}", get(find))
        .route(PAYMENTS, post(create_payment))
        .route("/api/v1/payments/{id}", get(find))
        .route(SETTLEMENT_TRANSFERS, post(create_settlement_transfer))
        .route("/api/v1/settlement_transfers/{id}", get(find))
}

fn currency_or_kes(value: Option<&str>) -> Result<Currency, Invalid> {
    match value.map(str::trim) {
        None | Some("") => Ok(Currency::Kes),
        Some(c) => Currency::parse(Some(c)),
    }
}

async fn create(
    State(state): State<AppState>,
    auth: Authenticated,
    BaseUrl(base): BaseUrl,
    ApiJson(body): ApiJson<SendMoneyRequest>,
) -> Result<Response, ApiError> {
    let request = SendRequest {
        currency: currency_or_kes(body.currency.as_deref())?,
        metadata: Metadata::parse(body.metadata.as_ref())?,
        callback_url: callback_url_of(body.links.as_ref(), body.callback_url.is_some())?,
        destinations: match body.destinations {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items,
            Some(_) => {
                return Err(ApiError::BadRequest("Destinations must be an array".into()));
            }
        },
        source_identifier: optional_text(body.source_identifier.as_deref()),
    };
    let url = send_money::send(&state, &auth.client_id, &base, COLLECTION, request)?;
    Ok(created(&url))
}

/// `POST /api/v1/payments`: one payment to a pay recipient.
async fn create_payment(
    State(state): State<AppState>,
    auth: Authenticated,
    BaseUrl(base): BaseUrl,
    ApiJson(body): ApiJson<PaymentRequest>,
) -> Result<Response, ApiError> {
    let destination_type = crate::domain::recipients::recipient_type(
        body.destination_type.as_deref(),
    )
    .map_err(|_| {
        Invalid("Destination type must be mobile_wallet, bank_account, till or paybill".into())
    })?;
    let amount = body.amount.as_ref();
    let request = PayRequest {
        destination_type,
        currency: currency_or_kes(amount.and_then(|a| a.currency.as_deref()))?,
        amount: destination_amount(amount.and_then(|a| a.value.as_ref()))?,
        destination_reference: body.destination_reference,
        metadata: Metadata::parse(body.metadata.as_ref())?,
        callback_url: callback_url_of(body.links.as_ref(), body.callback_url.is_some())?,
        description: optional_text(body.description.as_deref()),
        category: optional_text(body.category.as_deref()),
        tags: body.tags.filter(|t| !t.is_null()).map(|t| js_canonical(&t)),
    };
    let url = send_money::pay(&state, &auth.client_id, &base, PAYMENTS, request)?;
    Ok(created(&url))
}

/// `POST /api/v1/settlement_transfers`: to a merchant account, or blind.
async fn create_settlement_transfer(
    State(state): State<AppState>,
    auth: Authenticated,
    BaseUrl(base): BaseUrl,
    ApiJson(body): ApiJson<SettlementTransferRequest>,
) -> Result<Response, ApiError> {
    let amount = body.amount.as_ref();
    let request = TransferRequest {
        currency: currency_or_kes(amount.and_then(|a| a.currency.as_deref()))?,
        requested: match amount.and_then(|a| a.value.as_ref()) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(v) => Some(destination_amount(Some(v))?),
        },
        destination_reference: optional_text(body.destination_reference.as_deref()),
        destination_type: body.destination_type,
        callback_url: callback_url_of(body.links.as_ref(), body.callback_url.is_some())?,
    };
    let url = send_money::transfer(
        &state,
        &auth.client_id,
        &base,
        SETTLEMENT_TRANSFERS,
        request,
    )?;
    Ok(created(&url))
}

async fn find(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    show_resource::<SendMoney>(&state, &id, &auth.client_id)
}
