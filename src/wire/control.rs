//! The control plane's own JSON (not Kopo Kopo's): typed views that the `/_sandbox/`
//! handlers write and the client commands read back, so both sides name each field once.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::delivery::{DeliveryState, Probe};
use crate::store::journal::Actor;

/// `GET /_sandbox/callbacks`: the delivery log, newest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeliveryLog {
    pub deliveries: Vec<DeliveryView>,
    pub next_cursor: Option<String>,
}

/// One delivery: what it reports on, where it goes, how it went, the exact bytes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeliveryView {
    pub id: Uuid,
    /// The application it belongs to.
    #[serde(default)]
    pub client_id: String,
    pub resource: ResourceView,
    /// The URL it is sent to.
    pub target: String,
    /// The URL the callback asked for, when `--callback-rewrite` sent it to `target` instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_target: Option<String>,
    pub state: DeliveryState,
    pub created_at: String,
    pub attempts: Vec<AttemptView>,
    pub signature: String,
    /// The exact body sent, as a string: its bytes are what the signature covers.
    pub body: String,
    /// Receiver probes only: what a correct receiver does and what the app did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<Probe>,
    /// The delivery this one sends again, when it is a replay.
    pub replay_of: Option<Uuid>,
    /// The latest replay of this delivery.
    pub replayed_by: Option<Uuid>,
}

/// What a delivery reports on: its kind (`incoming_payment`, …, `receiver_probe`) and id.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResourceView {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Uuid,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttemptView {
    pub attempt: u32,
    pub at: String,
    pub status: Option<u16>,
    pub error: Option<String>,
    /// What to do about the error, when the sandbox can tell (a loopback URL from inside a
    /// container).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    pub latency_ms: u64,
}

/// `GET /_sandbox/requests`: the journal, newest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestLog {
    pub requests: Vec<RequestView>,
    pub next_cursor: Option<String>,
}

/// One journaled request and its answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestView {
    pub sequence: u64,
    pub at: String,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub status: u16,
    pub by: Actor,
    pub client_id: Option<String>,
    pub request_body: String,
    pub response_body: String,
    pub latency_ms: u64,
    /// The connection was cut instead of answered (a scenario's drop fault).
    pub dropped: bool,
}

/// `GET /_sandbox/balances`: one application's accounts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Balances {
    pub client_id: String,
    /// The available balance (`source_identifier: null`).
    pub company: String,
    /// Every till that has been touched, by till number.
    pub tills: std::collections::BTreeMap<String, String>,
}

/// `GET /_sandbox/clock` and what moving it answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClockView {
    pub now: String,
    #[serde(rename = "virtual")]
    pub is_virtual: bool,
    /// Whose clock: an application that runs ahead on its own, or null for the shared one.
    pub client_id: Option<String>,
    /// How far this clock was advanced, in milliseconds, ahead of real time (or of the
    /// virtual clock's start): the shared advances plus the application's own.
    pub advanced_ms: i64,
    /// Results and callback attempts still queued or running.
    pub pending_jobs: usize,
}

/// `GET /_sandbox/health`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub version: String,
}

/// `POST /_sandbox/scenarios`: what a load did.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Loaded {
    pub scenarios: Vec<String>,
    pub rules: usize,
    pub faults: usize,
    pub callback_faults: usize,
    pub probes: usize,
    pub timeline: usize,
    /// What is written in an older spelling, with the canonical word (`validate`'s notes).
    pub notes: Vec<String>,
}

/// `DELETE /_sandbox/scenarios/{name}`: what an unload removed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Unloaded {
    pub name: String,
    pub rules: usize,
    pub faults: usize,
    pub callback_faults: usize,
    pub timeline: usize,
}

/// `GET /_sandbox/scenarios`: the loaded scenarios, in load order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioList {
    pub scenarios: Vec<ScenarioView>,
}

/// A loaded scenario: where it came from, what it added, what it keeps acting with, and how
/// its receiver probes went.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioView {
    pub name: String,
    pub description: Option<String>,
    /// The file it came from, or `(request body)`.
    pub source: String,
    pub loaded_at: String,
    /// What it added to the world, by section (stays after an unload).
    pub added: std::collections::BTreeMap<String, usize>,
    pub rules: usize,
    pub faults: usize,
    pub callback_faults: usize,
    pub probes: usize,
    pub timeline: usize,
    /// Moments still waiting for their time.
    pub timeline_pending: usize,
    /// The names of its expectations (`GET /_sandbox/verify` judges them).
    pub expectations: Vec<String>,
    pub probe_verdicts: ProbeVerdicts,
}

/// How a scenario's receiver probes went.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProbeVerdicts {
    pub passed: usize,
    pub failed: usize,
    pub waiting: usize,
}

/// `GET /_sandbox/prompts`: STK prompts waiting on a phone, oldest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PromptList {
    pub prompts: Vec<PromptView>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PromptView {
    pub id: Uuid,
    pub client_id: String,
    pub phone_number: String,
    pub amount: String,
    pub currency: String,
    pub till_number: String,
    pub initiated_at: String,
    /// How the phone answers prompts (`manual`: it waits for the control plane).
    pub behaviour: String,
}

/// `POST /_sandbox/prompts/{target}/{answer}`: the prompt answered.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Answered {
    pub id: Uuid,
    pub answer: String,
    /// The incoming payment's status now.
    pub status: String,
}

/// `GET /_sandbox/events`: the webhook events fired, newest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventList {
    pub events: Vec<EventView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventView {
    pub id: Uuid,
    pub topic: String,
    pub created_at: String,
    pub client_id: String,
    pub till_number: Option<String>,
    /// Its `_links.self`.
    #[serde(rename = "self")]
    pub self_url: String,
}

/// `POST /_sandbox/events`: the activity simulated and the webhook event it fired.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Triggered {
    pub id: Uuid,
    pub topic: String,
    /// The transaction (or other resource) the event is about.
    pub resource_id: Uuid,
    /// How many subscribers' deliveries were queued.
    pub deliveries: usize,
    /// The event as the subscribers receive it.
    pub payload: Box<serde_json::value::RawValue>,
}

/// `GET /_sandbox/handsets`: how phones answer STK prompts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Handsets {
    /// What a number with no setting does.
    pub default: String,
    /// The numbers that always answer one way.
    pub magic_numbers: Vec<MagicNumber>,
    /// Behaviours set through the control plane or scenarios.
    pub settings: Vec<HandsetView>,
}

/// One phone's behaviour as set; `PUT /_sandbox/handsets/{phone}` answers one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HandsetView {
    pub phone_number: String,
    pub behaviour: String,
    /// The application it applies to; null: every application.
    pub client_id: Option<String>,
}

/// A number that always answers one way, in every application.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MagicNumber {
    pub phone_number: String,
    pub behaviour: String,
}

/// `GET /_sandbox/sms`: the transaction SMS notifications sent, newest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SmsOutbox {
    pub messages: Vec<SmsView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SmsView {
    pub id: Uuid,
    pub client_id: String,
    pub phone_number: String,
    pub message: String,
    pub webhook_event_reference: String,
    pub sent_at: String,
}

/// `GET /_sandbox/ledger`: an application's credits and debits, newest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LedgerPage {
    pub client_id: String,
    pub entries: Vec<LedgerEntry>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub sequence: u64,
    pub at: String,
    /// `company`, or `till:<number>`.
    pub account: String,
    /// Signed: a debit is negative.
    pub amount: String,
    pub balance_after: String,
    pub memo: String,
}

/// `POST /_sandbox/payment_links/{id}/pay`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LinkPaid {
    pub id: Uuid,
    pub status: String,
}

/// `POST /_sandbox/callbacks/{id}/replay`: the new delivery sending the old one's bytes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Replay {
    pub id: Uuid,
    pub replay_of: Uuid,
}

/// `POST /_sandbox/callbacks/replay`: every exhausted (or dropped) delivery sent again.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Replays {
    pub replayed: usize,
    pub replays: Vec<Replay>,
}

/// One event of `GET /_sandbox/stream` (an SSE `data` line): what happened, to whom, when;
/// `data` is one of the `*Event` views below, by `kind`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StreamEvent {
    pub seq: u64,
    pub kind: String,
    pub client_id: Option<String>,
    pub at: String,
    pub data: serde_json::Value,
}

impl StreamEvent {
    /// `data` read as the view of its kind.
    pub fn data_as<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_value(self.data.clone()).ok()
    }
}

/// The `missed` event: a reader too slow lost this many.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Missed {
    pub missed: u64,
}

/// `request`: a request answered.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestEvent {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub status: u16,
    pub latency_ms: f64,
    /// Its journal sequence (none when refused before the journal).
    pub journal: Option<u64>,
    pub error: Option<String>,
    pub by: Actor,
}

/// `resource`: a result decided.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResourceEvent {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Uuid,
    pub status: String,
}

/// `callback`: one delivery attempt.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CallbackEvent {
    pub delivery: Uuid,
    pub resource: ResourceView,
    pub url: String,
    pub attempt: u32,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub latency_ms: u64,
    pub outcome: String,
}

/// `webhook`: a webhook event fired.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WebhookFired {
    pub id: Uuid,
    pub topic: String,
    pub till_number: Option<String>,
}

/// `sms`: a transaction SMS went out.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SmsEvent {
    pub id: Uuid,
    pub phone_number: String,
    pub message: String,
}

/// `prompt`: an STK prompt waits for the customer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PromptEvent {
    pub id: Uuid,
    pub phone_number: String,
    pub status: String,
}

/// `clock`: the clock moved.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClockEvent {
    pub by_ms: i64,
    pub client_id: Option<String>,
}

/// `scenario`: a scenario loaded, replaced or unloaded.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioEvent {
    pub name: String,
    pub action: String,
}
