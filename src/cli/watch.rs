//! `watch`: everything the live stream carries, a line each.

use super::client::{Client, Outcome, read_as};
use super::show::print_or_end;
use crate::config::WatchArgs;
use crate::wire::control::{
    CallbackEvent, ClockEvent, Missed, PromptEvent, RequestEvent, ResourceEvent, ScenarioEvent,
    SmsEvent, StreamEvent, WebhookFired,
};

/// `watch`: everything that happens, a line each, until interrupted.
pub(super) async fn watch(client: &Client, w: WatchArgs) -> Outcome {
    let mut events = client
        .stream(&[("kind", w.kind), ("client_id", w.list.client_id)])
        .await?;
    while let Some((kind, event)) = events.next().await? {
        if w.list.json {
            print_or_end!("{event}");
            continue;
        }
        if kind == "missed" {
            let missed: Missed = read_as(event)?;
            print_or_end!("missed {} events: reading too slowly", missed.missed);
            continue;
        }
        let event: StreamEvent = read_as(event)?;
        print_or_end!(
            "{}  {:<8}  {:<18}  {}",
            event.at,
            kind,
            event.client_id.as_deref().unwrap_or("-"),
            event_line(&event)
        );
    }
    Ok("the sandbox ended the stream".into())
}

/// What one event of the stream says, on one line (its data as it came, should a newer
/// sandbox send a kind or shape this client does not know).
fn event_line(event: &StreamEvent) -> String {
    let line = match event.kind.as_str() {
        "request" => event.data_as::<RequestEvent>().map(|d| {
            let error = d.error.map_or_else(String::new, |e| format!(": {e}"));
            format!(
                "{} {} {} ({:.1} ms){error}",
                d.method, d.path, d.status, d.latency_ms
            )
        }),
        "resource" => event
            .data_as::<ResourceEvent>()
            .map(|d| format!("{} {} {}", d.kind, d.id, d.status)),
        "callback" => event.data_as::<CallbackEvent>().map(|d| {
            let answer = d
                .status
                .map_or_else(|| d.error.unwrap_or_else(|| "-".into()), |s| s.to_string());
            format!(
                "attempt {} to {}: {answer} ({})",
                d.attempt, d.url, d.outcome
            )
        }),
        "webhook" => event.data_as::<WebhookFired>().map(|d| {
            let till = d.till_number.unwrap_or_else(|| "-".into());
            format!("{} {} till {till}", d.topic, d.id)
        }),
        "sms" => event
            .data_as::<SmsEvent>()
            .map(|d| format!("to {}: {}", d.phone_number, d.message)),
        "prompt" => event.data_as::<PromptEvent>().map(|d| {
            format!(
                "{} {} (incoming payment {})",
                d.phone_number, d.status, d.id
            )
        }),
        "clock" => event
            .data_as::<ClockEvent>()
            .map(|d| format!("advanced {} ms", d.by_ms)),
        "scenario" => event
            .data_as::<ScenarioEvent>()
            .map(|d| format!("{} {}", d.name, d.action)),
        _ => None,
    };
    line.unwrap_or_else(|| event.data.to_string())
}
