//! Payment links: `POST /api/v2/payment_links`, `GET /api/v2/payment_links/{id}`,
//! `POST /api/v2/payment_links/{id}/cancel`, and the customer-facing page the `link` points
//! to (`GET`/`POST /links/{token}`), served by the sandbox so a link can really be paid.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::error::ApiError;
use super::extract::{ApiJson, Authenticated, BaseUrl};
use super::resource::{created, show};
use crate::clock::{format_seconds, to_eat};
use crate::domain::metadata::Metadata;
use crate::domain::money::{Amount, Currency};
use crate::domain::payment_link::{LinkState, PaymentLink};
use crate::domain::phone::PhoneNumber;
use crate::domain::{optional_text, required_text};
use crate::service::AppState;
use crate::service::lifecycle::pay_payment_link;
use crate::service::payment_links::{self, NewLink};
use crate::wire::payment_links::{PaymentLinkAttributes, PaymentLinkRequest};
use crate::wire::{Document, callback_url_of};

const COLLECTION: &str = "/api/v2/payment_links";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(COLLECTION, post(create))
        .route("/api/v2/payment_links/{id}", get(find))
        .route("/api/v2/payment_links/{id}/cancel", post(cancel))
        .route("/links/{token}", get(page).post(pay))
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
        amount: Amount::parse(body.amount.as_ref(), "Amount")?,
        metadata: Metadata::parse(body.metadata.as_ref())?,
        callback_url: callback_url_of(body.links.as_ref())?,
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
    show::<_, Document<PaymentLinkAttributes>>(
        &state,
        &state.store.payment_links,
        &id,
        &auth.client_id,
        "Payment link",
    )
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

/// The link behind a `/links/{token}` URL, whoever owns it: the URL is the capability.
fn by_token(state: &AppState, token: &str) -> Option<PaymentLink> {
    let token = uuid::Uuid::parse_str(token).ok()?;
    state
        .store
        .payment_links
        .find_any(|l| l.link_token == token)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn render_page(link: &PaymentLink, notice: Option<&str>) -> Html<String> {
    let status = link.state.status();
    let form = if matches!(link.state, LinkState::Active) {
        r#"<form method="post"><label>M-PESA phone number <input name="phone_number" value="+254700000000"></label> <button type="submit">Pay</button></form>"#
    } else {
        ""
    };
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Pay {till}</title></head><body>\
         <h1>{till}</h1><p>Amount: {currency} {amount}</p><p>Reference: {reference}</p>\
         <p>Note: {note}</p><p>Status: <strong id=\"status\">{status}</strong></p>{notice}{form}\
         <p><small>k2-sandbox payment link; expires {expires}</small></p></body></html>",
        till = escape(&link.till_name),
        currency = link.currency.code(),
        amount = link.amount,
        reference = escape(link.payment_reference.as_deref().unwrap_or("-")),
        note = escape(link.note.as_deref().unwrap_or("-")),
        notice = notice
            .map(|n| format!("<p>{}</p>", escape(n)))
            .unwrap_or_default(),
        expires = format_seconds(to_eat(link.expires_at_ms)),
    ))
}

async fn page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match by_token(&state, &token) {
        Some(link) => render_page(&link, None).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Html("<h1>Payment link not found</h1>".to_string()),
        )
            .into_response(),
    }
}

#[derive(Deserialize)]
struct PayForm {
    phone_number: Option<String>,
}

/// A customer pays the link: the till is credited, a Buygoods transaction and its webhook
/// event are recorded, and the link's callback reports it Paid.
async fn pay(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(form): Form<PayForm>,
) -> Response {
    let Some(link) = by_token(&state, &token) else {
        return (
            StatusCode::NOT_FOUND,
            Html("<h1>Payment link not found</h1>".to_string()),
        )
            .into_response();
    };
    let phone = match PhoneNumber::parse(form.phone_number.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            return (StatusCode::BAD_REQUEST, render_page(&link, Some(&e.0))).into_response();
        }
    };
    if !pay_payment_link(&state, &link, phone) {
        let current = by_token(&state, &token).unwrap_or(link);
        let notice = format!(
            "This link is {} and cannot be paid.",
            current.state.status()
        );
        return (StatusCode::CONFLICT, render_page(&current, Some(&notice))).into_response();
    }
    let current = by_token(&state, &token).unwrap_or(link);
    (
        [(header::CACHE_CONTROL, "no-store")],
        render_page(&current, Some("Payment received. Thank you.")),
    )
        .into_response()
}
