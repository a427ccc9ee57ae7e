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

use crate::clock::{format_seconds, to_eat};
use crate::domain::incoming_payment::{IncomingPayment, PaymentState};
use crate::domain::payment_link::{LinkState, PaymentLink};
use crate::domain::phone::PhoneNumber;
use crate::service::AppState;
use crate::service::payment_links;

const PAGE: &str = include_str!("checkout/page.html");

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/links/{token}", get(page).post(pay))
        .route("/links/{token}/status", get(status))
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

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
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

/// The page of `link` as `state` sees it now; `entered` and `problem` refill the form after
/// a phone number that did not validate.
fn render(state: &AppState, link: &PaymentLink, entered: Option<(&str, &str)>) -> String {
    let view = view_of(link, checkout_of(state, link).as_ref());
    let merchant = escape(&link.till_name);
    let amount = escape(&amount(link));
    let details = format!(
        "<dl><dt>Till</dt><dd>{till}</dd><dt>Reference</dt><dd>{reference}</dd>\
         <dt>Note</dt><dd>{note}</dd></dl>",
        till = escape(&link.till_number),
        reference = escape(link.payment_reference.as_deref().unwrap_or("—")),
        note = escape(link.note.as_deref().unwrap_or("—")),
    );
    let form = |problem: Option<&str>, value: &str| {
        let (invalid, error) = match problem {
            Some(p) => (
                " aria-invalid=\"true\" aria-describedby=\"phone-error\"",
                format!(
                    "<p class=\"error\" id=\"phone-error\" role=\"alert\">{}</p>",
                    escape(p)
                ),
            ),
            None => ("", String::new()),
        };
        format!(
            "<form method=\"post\" novalidate><label for=\"phone\">M-PESA phone number</label>\
             <input id=\"phone\" name=\"phone_number\" type=\"tel\" inputmode=\"tel\" \
             autocomplete=\"tel\" placeholder=\"0712 345 678\" required value=\"{value}\"{invalid}>\
             <p class=\"hint\">Safaricom number, as 07…, 2547… or +2547…</p>{error}\
             <button type=\"submit\">Pay {amount}</button></form>",
            value = escape(value),
        )
    };
    let (title, body) = match (&link.state, &view) {
        (
            LinkState::Paid {
                transaction_reference,
                sender_phone_number,
                at_ms,
            },
            _,
        ) => (
            format!("Paid: {merchant}"),
            format!(
                "<div class=\"state\"><span class=\"badge\" aria-hidden=\"true\">✓</span>\
                 <h2>Paid</h2><p>{amount} received. Thank you.</p></div>\
                 <dl><dt>M-PESA receipt</dt><dd>{receipt}</dd><dt>From</dt><dd>{from}</dd>\
                 <dt>At</dt><dd>{at}</dd></dl>",
                receipt = escape(transaction_reference),
                from = escape(sender_phone_number),
                at = format_seconds(to_eat(*at_ms)),
            ),
        ),
        (LinkState::Cancelled, _) => (
            format!("Cancelled: {merchant}"),
            "<div class=\"state\"><span class=\"badge muted\" aria-hidden=\"true\">×</span>\
             <h2>Cancelled</h2><p>The merchant cancelled this payment link. \
             Nothing was charged.</p></div>"
                .to_string(),
        ),
        (LinkState::Expired, _) => (
            format!("Expired: {merchant}"),
            format!(
                "<div class=\"state\"><span class=\"badge muted\" aria-hidden=\"true\">⌛</span>\
                 <h2>Expired</h2><p>This payment link expired on {at}. Ask the merchant \
                 for a new one.</p></div>",
                at = format_seconds(to_eat(link.expires_at_ms)),
            ),
        ),
        (LinkState::Active, View::Waiting { phone }) => (
            format!("Check your phone: {merchant}"),
            format!(
                "<div class=\"state\"><div class=\"spinner\" aria-hidden=\"true\"></div>\
                 <h2>Check your phone</h2><p>We sent a payment request for {amount} to \
                 <strong>{phone}</strong>. Enter your M-PESA PIN on the phone to pay.</p></div>\
                 {details}",
                phone = escape(phone),
            ),
        ),
        (LinkState::Active, View::Failed { error, .. }) => (
            format!("Pay {merchant}"),
            format!(
                "<div class=\"state\" role=\"alert\"><span class=\"badge bad\" \
                 aria-hidden=\"true\">!</span><h2>Payment not completed</h2><p>{error}</p>\
                 <p>You can try again.</p></div>{details}{form}",
                error = escape(error),
                form = form(None, ""),
            ),
        ),
        (LinkState::Active, _) => (
            format!("Pay {merchant}"),
            format!(
                "<p class=\"amount\">{amount}</p>{details}{form}",
                form = match entered {
                    Some((value, problem)) => form(Some(problem), value),
                    None => form(None, ""),
                },
            ),
        ),
    };
    let content = format!(
        "<header class=\"merchant\"><p>Pay</p><h1>{merchant}</h1></header>\
         <div class=\"body\">{body}</div>\
         <footer>k2-sandbox payment link · expires {expires}</footer>",
        expires = format_seconds(to_eat(link.expires_at_ms)),
    );
    page_with(&title, &escape(&view_key(link, &view)), &content)
}

/// The page's template filled in: `view` and `content` are HTML already.
fn page_with(title: &str, view: &str, content: &str) -> String {
    PAGE.replace("{title}", title)
        .replace("{view}", view)
        .replace("{content}", content)
}

fn not_found() -> Response {
    let content = "<header class=\"merchant\"><p>Pay</p><h1>Payment link not found</h1></header>\
         <div class=\"body\"><p>This link does not exist. Check the address, or ask the \
         merchant for a new link.</p></div>";
    let page = page_with("Payment link not found", "Unknown", content);
    (StatusCode::NOT_FOUND, Html(page)).into_response()
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
