//! `watch`: everything the live stream carries, a line each.

use super::client::{Client, Outcome};
use super::show::{cell, print_or_end};
use crate::config::WatchArgs;

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
        let what = event_line(&kind, &event);
        print_or_end!(
            "{}  {:<8}  {:<18}  {what}",
            cell(&event["at"]),
            kind,
            cell(&event["client_id"])
        );
    }
    Ok("the sandbox ended the stream".into())
}

/// What one event of the stream says, on one line.
fn event_line(kind: &str, event: &serde_json::Value) -> String {
    let d = &event["data"];
    match kind {
        "request" => format!(
            "{} {} {} ({:.1} ms){}",
            cell(&d["method"]),
            cell(&d["path"]),
            cell(&d["status"]),
            d["latency_ms"].as_f64().unwrap_or(0.0),
            d["error"]
                .as_str()
                .map_or_else(String::new, |e| format!(": {e}"))
        ),
        "resource" => format!(
            "{} {} {}",
            cell(&d["type"]),
            cell(&d["id"]),
            cell(&d["status"])
        ),
        "callback" => format!(
            "attempt {} to {}: {} ({})",
            cell(&d["attempt"]),
            cell(&d["url"]),
            if d["status"].is_null() {
                cell(&d["error"])
            } else {
                cell(&d["status"])
            },
            cell(&d["outcome"])
        ),
        "webhook" => format!(
            "{} {} till {}",
            cell(&d["topic"]),
            cell(&d["id"]),
            cell(&d["till_number"])
        ),
        "sms" => format!("to {}: {}", cell(&d["phone_number"]), cell(&d["message"])),
        "prompt" => format!(
            "{} {} (incoming payment {})",
            cell(&d["phone_number"]),
            cell(&d["status"]),
            cell(&d["id"])
        ),
        "clock" => format!("advanced {} ms", cell(&d["by_ms"])),
        "scenario" => format!("{} {}", cell(&d["name"]), cell(&d["action"])),
        "missed" => format!(
            "missed {} events: reading too slowly",
            cell(&event["missed"])
        ),
        _ => event.to_string(),
    }
}
