//! `POST /_sandbox/events`: simulate real-world activity (a payment into a till, a reversal,
//! a settlement, a new customer, a card payment) and fire its webhook event; `GET` lists the
//! webhook events fired, whatever caused them.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;

use crate::domain::activity::Activity;
use crate::domain::money::Amount;
use crate::domain::phone::PhoneNumber;
use crate::domain::webhooks::EventType;
use crate::domain::{Invalid, optional_text};
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, BaseUrl};
use crate::service::AppState;
use crate::service::simulate::simulate;
use crate::wire::control::{EventList, EventView, Triggered};

pub fn router() -> Router<AppState> {
    Router::new().route("/_sandbox/events", get(list).post(trigger))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriggerRequest {
    /// One of the webhook event types, e.g. `buygoods_transaction_received`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The application it happens to (default: the configured one).
    pub client_id: Option<String>,
    pub till_number: Option<String>,
    pub amount: Option<Value>,
    pub phone_number: Option<String>,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub last_name: Option<String>,
    pub sending_till: Option<String>,
    pub transaction: Option<String>,
    pub card_number: Option<String>,
    pub sending_merchant: Option<String>,
}

impl TriggerRequest {
    pub fn activity(self, default_owner: &str, base_url: String) -> Result<Activity, Invalid> {
        let topic = EventType::parse(Some(&self.event_type))?;
        let amount = match &self.amount {
            None | Some(Value::Null) => None,
            Some(v) => Some(Amount::parse(Some(v), "Amount")?),
        };
        let owner = self.client_id.unwrap_or_else(|| default_owner.to_string());
        let mut a = Activity::new(topic, owner, base_url);
        a.amount = amount;
        if let Some(phone) = self.phone_number.as_deref() {
            a.phone_number = PhoneNumber::parse(Some(phone))?;
        }
        let text = |v: Option<String>| optional_text(v.as_deref());
        a.till_number = text(self.till_number).unwrap_or(a.till_number);
        a.first_name = text(self.first_name).or(a.first_name);
        a.middle_name = text(self.middle_name);
        a.last_name = text(self.last_name).or(a.last_name);
        a.sending_till = text(self.sending_till).unwrap_or(a.sending_till);
        a.transaction = text(self.transaction);
        a.card_number = text(self.card_number).unwrap_or(a.card_number);
        a.sending_merchant = text(self.sending_merchant).unwrap_or(a.sending_merchant);
        Ok(a)
    }
}

async fn trigger(
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    ApiJson(body): ApiJson<TriggerRequest>,
) -> Result<(StatusCode, Json<Triggered>), ApiError> {
    let activity = body.activity(&state.settings.client_id, base)?;
    if state.store.application(&activity.owner).is_none() {
        return Err(ApiError::NotFound(format!(
            "No application {:?}",
            activity.owner
        )));
    }
    let done = simulate(&state, &activity)?;
    let event = state
        .store
        .webhook_events
        .get(done.event_id, &activity.owner)
        .ok_or_else(|| ApiError::Internal("the simulated event was not recorded".into()))?;
    let deliveries = state
        .store
        .count_deliveries(|d| d.resource.id == done.event_id);
    Ok((
        StatusCode::CREATED,
        Json(Triggered {
            id: done.event_id,
            topic: activity.topic.as_str().into(),
            resource_id: done.resource_id,
            deliveries,
            payload: crate::wire::webhooks::event_payload(&event),
        }),
    ))
}

#[derive(Deserialize)]
struct EventFilter {
    /// An event type, e.g. `buygoods_transaction_received`.
    topic: Option<String>,
    client_id: Option<String>,
    since: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

/// The webhook events fired, newest first (their deliveries are in the delivery log, under
/// the event's id).
async fn list(
    State(state): State<AppState>,
    Query(f): Query<EventFilter>,
) -> Result<Json<EventList>, ApiError> {
    let request = super::page::request(f.limit, f.cursor.as_deref())?;
    let since_ms = super::page::since_ms(f.since.as_deref())?;
    let topic = f
        .topic
        .as_deref()
        .map(|t| EventType::parse(Some(t)))
        .transpose()?;
    let page = state.store.webhook_events.page_any(
        request,
        |e| e.sequence,
        |e| {
            topic.is_none_or(|t| e.topic == t)
                && f.client_id.as_deref().is_none_or(|c| **e.owner_id() == *c)
                && since_ms.is_none_or(|t| e.created_at_ms() >= t)
        },
    );
    Ok(Json(EventList {
        events: page
            .items
            .into_iter()
            .map(|e| EventView {
                id: e.id,
                topic: e.topic.as_str().into(),
                created_at: crate::clock::format_millis(crate::clock::to_eat(e.created_at_ms())),
                client_id: e.owner_id().to_string(),
                till_number: e.till_number().map(str::to_string),
                self_url: e.url().of(e.id).to_string(),
            })
            .collect(),
        next_cursor: super::page::next_cursor(page.next),
    }))
}
