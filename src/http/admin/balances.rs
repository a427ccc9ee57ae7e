//! `GET`/`PUT /_sandbox/balances`: an application's accounts, and setting one outright.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use crate::domain::ledger::Account;
use crate::domain::money::format_amount;
use crate::http::error::ApiError;
use crate::http::extract::ApiJson;
use crate::service::AppState;
use crate::wire::control::Balances;

pub fn router() -> Router<AppState> {
    Router::new().route("/_sandbox/balances", get(balances).put(set_balance))
}

#[derive(Deserialize)]
struct BalancesQuery {
    client_id: Option<String>,
}

/// Balances of one application (default: the configured one).
async fn balances(
    State(state): State<AppState>,
    Query(query): Query<BalancesQuery>,
) -> Json<Balances> {
    let client_id = query
        .client_id
        .unwrap_or_else(|| state.settings.client_id.clone());
    let ledger = &state.store.ledger;
    let tills = ledger
        .accounts(&client_id)
        .into_iter()
        .filter_map(|(account, balance)| match account {
            Account::Till(t) => Some((t.to_string(), format_amount(balance))),
            Account::Company => None,
        })
        .collect();
    Json(Balances {
        company: format_amount(ledger.balance(&client_id, &Account::Company)),
        client_id,
        tills,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetBalance {
    client_id: Option<String>,
    /// A till's account; absent or null: the company account.
    till_number: Option<String>,
    balance: serde_json::Value,
}

/// Sets an account's balance outright (recorded in the ledger as an adjustment).
async fn set_balance(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SetBalance>,
) -> Result<Json<Balances>, ApiError> {
    let amount = match &body.balance {
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::String(s) => s.trim().to_string(),
        _ => String::new(),
    }
    .parse::<rust_decimal::Decimal>()
    .ok()
    .filter(|d| !d.is_sign_negative())
    .ok_or_else(|| ApiError::BadRequest("balance must be a non-negative amount".into()))?;
    let owner = body
        .client_id
        .clone()
        .unwrap_or_else(|| state.settings.client_id.clone());
    let account = Account::from_source(body.till_number.as_deref());
    state.store.ledger.set(&owner, &account, amount);
    Ok(balances(
        State(state),
        Query(BalancesQuery {
            client_id: Some(owner),
        }),
    )
    .await)
}
