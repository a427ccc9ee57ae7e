//! The merchant's own accounts and external recipients:
//! `POST`/`GET /api/v2/merchant_wallets`, `/api/v2/merchant_bank_accounts`,
//! `/api/v2/external_recipients`, and `GET /api/v1/pay_recipients/{id}` (seed 004).

use axum::Router;
use axum::extract::{MatchedPath, Path, State};
use axum::response::Response;
use axum::routing::{get, post};

use super::error::ApiError;
use super::extract::{ApiJson, Authenticated, BaseUrl};
use super::resource::{api_json, created};
use crate::domain::Invalid;
use crate::domain::recipients::MerchantAccountKind;
use crate::domain::recipients::RecipientFields;
use crate::service::{AppState, recipients};
use crate::wire::Document;
use crate::wire::recipients::{
    ExternalRecipientRequest, MerchantAccountAttributes, recipient_document,
};

const WALLETS: &str = "/api/v2/merchant_wallets";
const BANK_ACCOUNTS: &str = "/api/v2/merchant_bank_accounts";
const EXTERNAL: &str = "/api/v2/external_recipients";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(WALLETS, post(create_wallet))
        .route("/api/v2/merchant_wallets/{id}", get(find_wallet))
        .route("/api/v1/merchant_wallets", post(create_wallet))
        .route("/api/v1/merchant_wallets/{id}", get(find_wallet))
        .route(BANK_ACCOUNTS, post(create_bank_account))
        .route(
            "/api/v2/merchant_bank_accounts/{id}",
            get(find_bank_account),
        )
        .route("/api/v1/merchant_bank_accounts", post(create_bank_account))
        .route(
            "/api/v1/merchant_bank_accounts/{id}",
            get(find_bank_account),
        )
        .route(EXTERNAL, post(create_external))
        .route("/api/v2/external_recipients/{id}", get(find_external))
        // v1 "pay recipients" are the same recipients (`{type, pay_recipient: {...}}`).
        .route("/api/v1/pay_recipients", post(create_external))
        .route("/api/v1/pay_recipients/{id}", get(find_pay_recipient))
}

fn create_merchant_account(
    state: &AppState,
    owner: &str,
    base: &str,
    collection: &str,
    fields: &RecipientFields,
    kind: Result<MerchantAccountKind, Invalid>,
) -> Result<Response, ApiError> {
    let url =
        recipients::add_merchant_account(state, owner, base, collection, fields.nickname(), kind?);
    Ok(created(&url))
}

async fn create_wallet(
    State(state): State<AppState>,
    auth: Authenticated,
    BaseUrl(base): BaseUrl,
    collection: MatchedPath,
    ApiJson(fields): ApiJson<RecipientFields>,
) -> Result<Response, ApiError> {
    let kind = fields.merchant_wallet();
    create_merchant_account(
        &state,
        &auth.client_id,
        &base,
        collection.as_str(),
        &fields,
        kind,
    )
}

async fn create_bank_account(
    State(state): State<AppState>,
    auth: Authenticated,
    BaseUrl(base): BaseUrl,
    collection: MatchedPath,
    ApiJson(fields): ApiJson<RecipientFields>,
) -> Result<Response, ApiError> {
    let kind = fields.merchant_bank_account();
    create_merchant_account(
        &state,
        &auth.client_id,
        &base,
        collection.as_str(),
        &fields,
        kind,
    )
}

/// A merchant account of the given destination type, or 404.
fn merchant_account(
    state: &AppState,
    id: &str,
    owner: &str,
    destination_type: &str,
    what: &str,
) -> Result<Response, ApiError> {
    state
        .store
        .merchant_accounts
        .find(id, owner)
        .filter(|a| a.destination_type() == destination_type)
        .map(|a| api_json(&Document::<MerchantAccountAttributes>::from(&a)))
        .ok_or_else(|| super::resource::not_found(&state.store.merchant_accounts, id, what))
}

async fn find_wallet(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    merchant_account(
        &state,
        &id,
        &auth.client_id,
        "merchant_wallet",
        "Merchant wallet",
    )
}

async fn find_bank_account(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    merchant_account(
        &state,
        &id,
        &auth.client_id,
        "merchant_bank_account",
        "Merchant bank account",
    )
}

async fn create_external(
    State(state): State<AppState>,
    auth: Authenticated,
    BaseUrl(base): BaseUrl,
    collection: MatchedPath,
    ApiJson(body): ApiJson<ExternalRecipientRequest>,
) -> Result<Response, ApiError> {
    let (nickname, details) = body.validate()?;
    let url = recipients::add_external(
        &state,
        &auth.client_id,
        &base,
        collection.as_str(),
        nickname,
        details,
    );
    Ok(created(&url))
}

async fn find_external(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    external(&state, &id, &auth.client_id, "external_recipient")
}

async fn find_pay_recipient(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    external(&state, &id, &auth.client_id, "pay_recipient")
}

fn external(
    state: &AppState,
    id: &str,
    owner: &str,
    kind: &'static str,
) -> Result<Response, ApiError> {
    state
        .store
        .external_recipients
        .find(id, owner)
        .map(|r| api_json(&recipient_document(&r, kind)))
        .ok_or_else(|| {
            super::resource::not_found(&state.store.external_recipients, id, "Recipient")
        })
}
