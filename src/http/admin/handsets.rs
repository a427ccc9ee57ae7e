//! The virtual customer's phones: pending STK prompts, answering them, and per-number
//! behaviour.

use axum::extract::{Path, Query, State};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use uuid::Uuid;

use crate::clock::{format_millis, to_eat};
use crate::domain::handset::{Answer, Behaviour, MAGIC_NUMBERS};
use crate::domain::phone::PhoneNumber;
use crate::http::error::ApiError;
use crate::http::extract::ApiJson;
use crate::service::AppState;
use crate::service::payment_links::pay_payment_link;
use crate::service::prompts::answer_prompt;
use crate::wire::control::{
    Answered, HandsetView, Handsets, LinkPaid, MagicNumber, PromptList, PromptView,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/_sandbox/prompts", get(prompts))
        .route("/_sandbox/prompts/{target}/{answer}", post(answer))
        .route("/_sandbox/handsets", get(handsets))
        .route("/_sandbox/handsets/{phone}", put(set_handset))
        .route("/_sandbox/payment_links/{id}/pay", post(pay_link))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PayLink {
    phone_number: String,
}

/// A customer pays a payment link (by the link's id), as through its page.
async fn pay_link(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PayLink>,
) -> Result<Json<LinkPaid>, ApiError> {
    let phone = PhoneNumber::parse(Some(&body.phone_number))?;
    let link = Uuid::parse_str(id.trim())
        .ok()
        .and_then(|id| state.store.payment_links.find_any(|l| l.meta.id == id))
        .ok_or_else(|| ApiError::NotFound("Payment link not found".into()))?;
    if !pay_payment_link(&state, &link, phone) {
        return Err(ApiError::BadRequest(format!(
            "Only active payment links can be paid; this one is {}",
            link.state.status()
        )));
    }
    Ok(Json(LinkPaid {
        id: link.meta.id,
        status: "Paid".into(),
    }))
}

#[derive(Deserialize)]
struct PromptFilter {
    phone: Option<String>,
    client_id: Option<String>,
}

/// STK prompts waiting on a phone, oldest first.
async fn prompts(
    State(state): State<AppState>,
    Query(filter): Query<PromptFilter>,
) -> Result<Json<PromptList>, ApiError> {
    let phone = filter
        .phone
        .as_deref()
        .map(|p| PhoneNumber::parse(Some(p)))
        .transpose()?;
    let prompts: Vec<PromptView> = crate::service::prompts::pending_prompts(
        &state,
        phone.as_ref(),
        filter.client_id.as_deref(),
    )
    .into_iter()
    .map(|p| PromptView {
        id: p.id,
        behaviour: state
            .store
            .handsets
            .behaviour(&p.owner, &p.request.subscriber.phone_number)
            .as_str()
            .into(),
        client_id: p.owner.to_string(),
        phone_number: p.request.subscriber.phone_number.to_string(),
        amount: p.request.amount.to_string(),
        currency: p.request.currency.code().into(),
        till_number: p.request.till_number.to_string(),
        initiated_at: format_millis(to_eat(p.initiated_at_ms)),
    })
    .collect();
    Ok(Json(PromptList { prompts }))
}

#[derive(Deserialize)]
struct AnswerScope {
    /// With a phone number: only this application's prompts.
    client_id: Option<String>,
}

/// Answers a prompt, named by the incoming payment's id or by its phone number (the phone's
/// latest pending prompt, of one application when `client_id` is given), as the customer
/// would.
async fn answer(
    State(state): State<AppState>,
    Path((target, answer)): Path<(String, String)>,
    Query(scope): Query<AnswerScope>,
) -> Result<Json<Answered>, ApiError> {
    let answer = Answer::parse(&answer)?;
    let id = match Uuid::parse_str(target.trim()) {
        Ok(id) => id,
        Err(_) => {
            let phone = PhoneNumber::parse(Some(&target)).map_err(|_| {
                ApiError::NotFound(format!(
                    "{target} is neither an incoming payment id nor a phone number"
                ))
            })?;
            crate::service::prompts::pending_prompts(
                &state,
                Some(&phone),
                scope.client_id.as_deref(),
            )
            .last()
            .map(|p| p.id)
            .ok_or_else(|| ApiError::NotFound(format!("No pending STK prompt on {phone}")))?
        }
    };
    let exists = state.store.incoming_payments.inspect(id, |_| ()).is_some();
    if !exists {
        return Err(ApiError::NotFound("Incoming payment not found".into()));
    }
    if !answer_prompt(&state, id, answer) {
        return Err(ApiError::BadRequest(
            "The STK prompt was already answered".into(),
        ));
    }
    let status = state
        .store
        .incoming_payments
        .inspect(id, |p| p.state.status())
        .unwrap_or("Pending");
    Ok(Json(Answered {
        id,
        answer: answer.as_str().into(),
        status: status.into(),
    }))
}

async fn handsets(State(state): State<AppState>) -> Json<Handsets> {
    let magic = MAGIC_NUMBERS
        .iter()
        .map(|(phone, b)| MagicNumber {
            phone_number: (*phone).to_string(),
            behaviour: b.as_str().to_string(),
        })
        .collect();
    let settings = state
        .store
        .handsets
        .settings()
        .into_iter()
        .map(|(client_id, phone, b)| HandsetView {
            phone_number: phone.to_string(),
            behaviour: b.as_str().to_string(),
            client_id,
        })
        .collect();
    Json(Handsets {
        default: "pay".into(),
        magic_numbers: magic,
        settings,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HandsetSetting {
    behaviour: String,
    /// Only this application's prompts; absent: every application's.
    client_id: Option<String>,
}

/// Sets how a number answers its prompts from now on.
async fn set_handset(
    State(state): State<AppState>,
    Path(phone): Path<String>,
    ApiJson(body): ApiJson<HandsetSetting>,
) -> Result<Json<HandsetView>, ApiError> {
    let phone = PhoneNumber::parse(Some(&phone))?;
    let behaviour = Behaviour::parse(&body.behaviour)?;
    if let Some(client) = body.client_id.as_deref()
        && state.store.application(client).is_none()
    {
        return Err(ApiError::NotFound(format!("No application {client:?}")));
    }
    state
        .store
        .handsets
        .set(body.client_id.clone(), phone, behaviour);
    Ok(Json(HandsetView {
        phone_number: phone.to_string(),
        behaviour: behaviour.as_str().to_string(),
        client_id: body.client_id,
    }))
}
