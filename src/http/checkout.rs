//! The checkout a payment link's `link` points to (`/links/{token}`): public, as a customer
//! opens it. It shows the merchant, amount, reference and note and asks for an M-PESA phone
//! number; paying sends that phone an STK prompt (answered as the phone answers any prompt),
//! and the page follows it live (`GET /links/{token}/status`) until the link is Paid, or the
//! prompt failed and the customer may try again. Links already paid, cancelled or expired,
//! and unknown tokens, get a page that says so.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::clock::to_eat;
use crate::domain::incoming_payment::{IncomingPayment, PaymentState};
use crate::domain::payment_link::{LinkState, PaymentLink};
use crate::domain::phone::PhoneNumber;
use crate::service::AppState;
use crate::service::payment_links;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/links/{token}", get(page).post(pay))
        .route("/links/{token}/status", get(status))
        .layer(axum::middleware::map_response(with_page_headers))
}

/// What every answer of the checkout carries: a Content-Security-Policy that runs only the
/// page's own script and style (by their hashes) and lets it be framed nowhere, `nosniff`,
/// no referrer to other sites.
async fn with_page_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_str(page_policy()).expect("a policy is a header value"),
    );
    super::ui::page_headers(headers);
    response
}

/// The checkout's policy: its inline `<script>` and `<style>` allowed by their SHA-256
/// (computed once from a rendered page, so a change to the template changes them too).
fn page_policy() -> &'static str {
    static POLICY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    POLICY.get_or_init(|| {
        let sample = Page {
            title: String::new(),
            view: String::new(),
            merchant: "",
            expires: None,
            body: Body::NotFound,
        }
        .html();
        let hash = |open: &str, close: &str| -> String {
            let inside = sample
                .split_once(open)
                .and_then(|(_, rest)| rest.split_once(close))
                .map_or("", |(inside, _)| inside);
            let digest = <sha2::Sha256 as sha2::Digest>::digest(inside.as_bytes());
            let encoded =
                base64::Engine::encode(&base64::engine::general_purpose::STANDARD, digest);
            format!("'sha256-{encoded}'")
        };
        format!(
            "default-src 'none'; script-src {}; style-src {}; connect-src 'self'; \
             img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
            hash("<script>", "</script>"),
            hash("<style>", "</style>")
        )
    })
}

/// The link behind a `/links/{token}` URL, whoever owns it: the URL is the capability.
fn by_token(state: &AppState, token: &str) -> Option<PaymentLink> {
    let token = uuid::Uuid::parse_str(token).ok()?;
    state
        .store
        .payment_links
        .find_any(|l| l.link_token == token)
}

/// Where the customer stands: the link's state and, while it is active, its latest checkout.
enum View {
    /// No checkout yet: the form.
    Form,
    /// A prompt on the customer's phone.
    Waiting {
        phone: String,
    },
    /// The last prompt did not end in a payment: the form again, with why.
    Failed {
        id: uuid::Uuid,
        error: String,
    },
    Ended,
}

/// The STK prompt of the link's latest checkout, if any.
fn checkout_of(state: &AppState, link: &PaymentLink) -> Option<IncomingPayment> {
    link.checkout
        .and_then(|id| state.store.incoming_payments.get_any(id))
}

fn view_of(link: &PaymentLink, prompt: Option<&IncomingPayment>) -> View {
    if !matches!(link.state, LinkState::Active) {
        return View::Ended;
    }
    let Some(prompt) = prompt else {
        return View::Form;
    };
    match &prompt.state {
        // Paid: the link turns Paid in the same step; until then, still waiting.
        PaymentState::Pending | PaymentState::Success { .. } => View::Waiting {
            phone: prompt.request.subscriber.phone_number.to_string(),
        },
        PaymentState::Failed { errors } => View::Failed {
            id: prompt.id,
            error: errors.join(" "),
        },
    }
}

/// A key that changes whenever the page would: the script compares it with the status.
fn view_key(link: &PaymentLink, view: &View) -> String {
    let status = link.state.status();
    match view {
        View::Form | View::Ended => status.to_string(),
        View::Waiting { .. } => format!("{status}:waiting"),
        View::Failed { id, .. } => format!("{status}:failed:{id}"),
    }
}

/// `KES 1,250.00`, as a customer reads an amount.
fn amount(link: &PaymentLink) -> String {
    let cents = format!("{:.2}", link.amount.decimal());
    let (whole, fraction) = cents.split_once('.').unwrap_or((&cents, "00"));
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{} {grouped}.{fraction}", link.currency.code())
}

/// The page (`checkout/page.html`): askama escapes every value it writes, once, so text from
/// the link (a till name, a note) is text wherever it lands, and nothing in it is read as
/// part of the template.
#[derive(askama::Template)]
#[template(path = "checkout/page.html")]
struct Page<'a> {
    title: String,
    /// A key the page's script compares with the status to know when to refresh.
    view: String,
    merchant: &'a str,
    expires: Option<String>,
    body: Body<'a>,
}

/// What the page says, by the link's state and its latest checkout.
enum Body<'a> {
    NotFound,
    Paid {
        amount: String,
        receipt: &'a str,
        from: &'a str,
        at: String,
    },
    Cancelled,
    Expired {
        at: String,
    },
    Waiting {
        amount: String,
        phone: String,
        details: Details<'a>,
    },
    Failed {
        error: String,
        details: Details<'a>,
        form: PhoneForm<'a>,
    },
    Active {
        amount: String,
        details: Details<'a>,
        form: PhoneForm<'a>,
    },
}

/// The link's till, reference and note.
struct Details<'a> {
    till: &'a str,
    reference: &'a str,
    note: &'a str,
}

/// The phone number form, refilled with what was entered and why it did not validate.
struct PhoneForm<'a> {
    amount: String,
    value: &'a str,
    problem: Option<&'a str>,
}

impl Page<'_> {
    fn html(&self) -> String {
        askama::Template::render(self).unwrap_or_else(|e| {
            tracing::error!(error = %e, "the checkout page did not render");
            String::from("The checkout page could not be shown.")
        })
    }
}

/// The page of `link` as `state` sees it now; `entered` and `problem` refill the form after
/// a phone number that did not validate.
fn render(state: &AppState, link: &PaymentLink, entered: Option<(&str, &str)>) -> String {
    let view = view_of(link, checkout_of(state, link).as_ref());
    let (title, body) = body_of(link, &view, entered);
    Page {
        title,
        view: view_key(link, &view),
        merchant: &link.till_name,
        expires: Some(for_people(link.expires_at_ms)),
        body,
    }
    .html()
}

/// The page's title and what it says, by the link's state and the customer's `view`.
// Over 60 lines: one arm per state the page shows, each naming what it says.
fn body_of<'a>(
    link: &'a PaymentLink,
    view: &View,
    entered: Option<(&'a str, &'a str)>,
) -> (String, Body<'a>) {
    let merchant = link.till_name.as_str();
    let details = || Details {
        till: &link.till_number,
        reference: link.payment_reference.as_deref().unwrap_or("—"),
        note: link.note.as_deref().unwrap_or("—"),
    };
    let form = |value, problem| PhoneForm {
        amount: amount(link),
        value,
        problem,
    };
    match (&link.state, view) {
        (
            LinkState::Paid {
                transaction_reference,
                sender_phone_number,
                at_ms,
            },
            _,
        ) => (
            format!("Paid: {merchant}"),
            Body::Paid {
                amount: amount(link),
                receipt: transaction_reference,
                from: sender_phone_number,
                at: for_people(*at_ms),
            },
        ),
        (LinkState::Cancelled, _) => (format!("Cancelled: {merchant}"), Body::Cancelled),
        (LinkState::Expired, _) => (
            format!("Expired: {merchant}"),
            Body::Expired {
                at: for_people(link.expires_at_ms),
            },
        ),
        (LinkState::Active, View::Waiting { phone }) => (
            format!("Check your phone: {merchant}"),
            Body::Waiting {
                amount: amount(link),
                phone: phone.clone(),
                details: details(),
            },
        ),
        (LinkState::Active, View::Failed { error, .. }) => (
            format!("Pay {merchant}"),
            Body::Failed {
                error: error.clone(),
                details: details(),
                form: form("", None),
            },
        ),
        (LinkState::Active, _) => (
            format!("Pay {merchant}"),
            Body::Active {
                amount: amount(link),
                details: details(),
                form: match entered {
                    Some((value, problem)) => form(value, Some(problem)),
                    None => form("", None),
                },
            },
        ),
    }
}

fn not_found() -> Response {
    let page = Page {
        title: "Payment link not found".into(),
        view: "Unknown".into(),
        merchant: "Payment link not found",
        expires: None,
        body: Body::NotFound,
    };
    (StatusCode::NOT_FOUND, Html(page.html())).into_response()
}

fn no_store(status: StatusCode, page: String) -> Response {
    (status, [(header::CACHE_CONTROL, "no-store")], Html(page)).into_response()
}

async fn page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match by_token(&state, &token) {
        Some(link) => no_store(StatusCode::OK, render(&state, &link, None)),
        None => not_found(),
    }
}

#[derive(Deserialize)]
struct PayForm {
    phone_number: Option<String>,
}

/// The form's submit: a valid number gets its prompt and the page (303, so a reload does not
/// pay twice) shows "check your phone"; an invalid one gets the form back with the problem.
async fn pay(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(form): Form<PayForm>,
) -> Response {
    let Some(link) = by_token(&state, &token) else {
        return not_found();
    };
    let entered = form.phone_number.as_deref().unwrap_or("");
    let phone = match PhoneNumber::parse(form.phone_number.as_deref()) {
        Ok(phone) => phone,
        Err(problem) => {
            let page = render(&state, &link, Some((entered, &problem.0)));
            return no_store(StatusCode::BAD_REQUEST, page);
        }
    };
    match payment_links::checkout(&state, &link, phone) {
        Ok(()) => Redirect::to(&format!("/links/{token}")).into_response(),
        // Paid, cancelled or expired meanwhile: the page says which.
        Err(_) => no_store(StatusCode::CONFLICT, render(&state, &link, None)),
    }
}

/// `{"status", "view", "checkout": {"phone_number", "status", "error"} | null}`.
async fn status(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let Some(link) = by_token(&state, &token) else {
        return crate::http::error::error_response(
            StatusCode::NOT_FOUND,
            "Payment link not found".into(),
        );
    };
    let prompt = checkout_of(&state, &link);
    let view = view_of(&link, prompt.as_ref());
    let checkout = prompt.map(|p| {
        let error = match &p.state {
            PaymentState::Failed { errors } => Some(errors.join(" ")),
            _ => None,
        };
        json!({
            "phone_number": p.request.subscriber.phone_number.to_string(),
            "status": p.state.status(),
            "error": error,
        })
    });
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({
            "status": link.state.status(),
            "view": view_key(&link, &view),
            "checkout": checkout,
        })),
    )
        .into_response()
}

/// A time as a customer reads it on the page: "14 December 2026, 14:21 EAT".
fn for_people(ms: i64) -> String {
    to_eat(ms).format("%-d %B %Y, %H:%M EAT").to_string()
}
