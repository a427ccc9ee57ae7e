//! Receiver probes: deliveries that test whether the app checks signatures the way Kopo Kopo
//! signs them. Each is sent once; the delivery log records whether the app accepted or
//! rejected it and whether that is what a correct receiver does.

use std::time::Duration;

use serde_json::{Value, json};

use super::model::ProbeSpec;
use crate::callbacks::signing::sign;
use crate::clock::{format_seconds, to_eat};
use crate::domain::delivery::{Probe, ProbeKind};
use crate::service::AppState;

const DAY_MS: i64 = 24 * 3600 * 1000;

/// A buygoods_transaction_received event as Kopo Kopo would send it.
fn sample_event(state: &AppState, base: &str, created_at_ms: i64, id: uuid::Uuid) -> Value {
    let resource_id = state.ids.uuid();
    json!({
        "topic": "buygoods_transaction_received",
        "id": id,
        "created_at": format_seconds(to_eat(created_at_ms)),
        "event": {
            "type": "Buygoods Transaction",
            "resource": {
                "id": resource_id,
                "amount": "100.0",
                "status": "Received",
                "system": "Lipa Na M-PESA",
                "currency": "KES",
                "reference": state.ids.mpesa_reference(),
                "till_number": "000000",
                "sender_phone_number": "+254712345678",
                "origination_time": format_seconds(to_eat(created_at_ms)),
                "sender_first_name": "Zoë",
                "sender_last_name": "Doe",
                "sender_middle_name": null,
            }
        },
        "_links": {
            "self": format!("{base}/webhook_events/{id}"),
            "resource": format!("{base}/financial_transaction/{resource_id}"),
        },
    })
}

/// The same document, non-canonically: indented, keys of the resource reversed, non-ASCII
/// escaped.
fn non_canonical(value: &Value) -> String {
    let mut v = value.clone();
    if let Some(resource) = v
        .pointer_mut("/event/resource")
        .and_then(Value::as_object_mut)
    {
        let reversed: serde_json::Map<String, Value> = resource
            .iter()
            .rev()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        *resource = reversed;
    }
    let pretty = serde_json::to_string_pretty(&v).expect("JSON serialises");
    pretty
        .chars()
        .map(|c| {
            if c.is_ascii() {
                c.to_string()
            } else {
                format!("\\u{:04x}", c as u32)
            }
        })
        .collect()
}

/// Queues the probes of one spec for `owner`, signed with `api_key`.
pub fn schedule(
    state: &AppState,
    scenario: &std::sync::Arc<str>,
    spec: &ProbeSpec,
    owner: &str,
    api_key: &str,
    base: &str,
) -> usize {
    let kinds = spec
        .kinds
        .clone()
        .unwrap_or_else(|| ProbeKind::ALL.to_vec());
    let after = spec.at.map_or(Duration::ZERO, |a| a.0);
    let now = state
        .clock
        .now_ms_of(owner)
        .saturating_add(crate::clock::millis(after));
    let event_id = state.ids.uuid();
    let fresh = sample_event(state, base, now, event_id);
    let compact = serde_json::to_string(&fresh).expect("JSON serialises");
    let good = sign(api_key, compact.as_bytes());
    for kind in &kinds {
        let (body, signature) = match kind {
            ProbeKind::Valid => (compact.clone(), good.clone()),
            ProbeKind::NonCanonicalJson => {
                let body = non_canonical(&sample_event(state, base, now, state.ids.uuid()));
                let signature = sign(api_key, body.as_bytes());
                (body, signature)
            }
            ProbeKind::MissingSignature => (compact.clone(), String::new()),
            ProbeKind::ShortSignature => (compact.clone(), good[..32].to_string()),
            ProbeKind::WrongKey => {
                let signature = sign(&format!("not-{api_key}"), compact.as_bytes());
                (compact.clone(), signature)
            }
            ProbeKind::StaleReplay => {
                let stale = sample_event(state, base, now - DAY_MS, state.ids.uuid());
                let body = serde_json::to_string(&stale).expect("JSON serialises");
                let signature = sign(api_key, body.as_bytes());
                (body, signature)
            }
        };
        let probe = Probe::new(*kind, Some(scenario.clone()));
        state.dispatcher.probe(
            owner,
            spec.url.0.as_str().into(),
            probe,
            body.into(),
            signature,
            after,
        );
    }
    kinds.len()
}
