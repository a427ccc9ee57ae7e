//! `requests`: the request journal, and `--follow` from the live stream.

use serde_json::Value;

use super::client::{Client, Outcome, read_as, shown_as};
use super::show::{cell, print_or_end};
use crate::config::RequestsArgs;
use crate::store::journal::Actor;
use crate::wire::control::{RequestLog, RequestView};

/// A request as a table row: the app's requests name its application; the others, who
/// sent them.
fn request_row(r: &RequestView) -> Vec<String> {
    let path = match &r.query {
        Some(q) => format!("{}?{q}", r.path),
        None => r.path.clone(),
    };
    let by = match r.by {
        Actor::App => r.client_id.clone().unwrap_or_else(|| "-".into()),
        other => format!("({})", other.name()),
    };
    vec![
        r.at.clone(),
        r.method.clone(),
        path,
        r.status.to_string(),
        format!("{} ms", r.latency_ms),
        by,
    ]
}

const REQUEST_HEADER: [&str; 6] = ["AT", "METHOD", "PATH", "STATUS", "LATENCY", "CLIENT"];

pub(super) async fn requests(client: &Client, r: RequestsArgs) -> Outcome {
    // Following: subscribed to the live stream before the history is read, so that no
    // request answered in between is lost (one answered after the subscription and before
    // the read is in both, and shown once, from the history).
    let events = if r.follow {
        Some(
            client
                .stream(&[
                    ("kind", Some("request".into())),
                    ("client_id", r.list.client_id.clone()),
                ])
                .await?,
        )
    } else {
        None
    };
    let answer = client.get("/_sandbox/requests", &query(&r)).await?;
    let Some(mut events) = events else {
        return shown_as(r.list.json, answer, |log: &RequestLog| {
            let rows: Vec<Vec<String>> = log.requests.iter().map(request_row).collect();
            crate::report::table(&REQUEST_HEADER, &rows)
        });
    };
    // The history, then every request answered after it, as it is answered.
    let history: RequestLog = read_as(answer)?;
    let shown_up_to = history.requests.iter().map(|e| e.sequence).max();
    for entry in history.requests.iter().rev() {
        if r.list.json {
            print_or_end!("{}", serde_json::to_string(entry).unwrap_or_default());
        } else {
            print_or_end!("{}", request_row(entry).join("  "));
        }
    }
    while let Some((kind, event)) = events.next().await? {
        if kind != "request" || !wanted(&r, &event["data"], shown_up_to) {
            continue;
        }
        if r.list.json {
            print_or_end!("{event}");
        } else {
            print_or_end!("{}", request_row(&live_row(&event)).join("  "));
        }
    }
    Ok("the sandbox ended the stream".into())
}

/// The journal's query for what `r` asks.
fn query(r: &RequestsArgs) -> Vec<(&'static str, Option<String>)> {
    vec![
        ("path", r.path.clone()),
        ("status", r.status.map(|s| s.to_string())),
        ("method", r.method.clone()),
        ("client_id", r.list.client_id.clone()),
        ("by", Some(r.by.clone())),
        ("since", r.since.clone()),
        ("limit", Some(r.limit.to_string())),
    ]
}

/// Whether a live request event (its `data`) is one `r` asks for and not in the history shown
/// already (up to the journal sequence `shown_up_to`).
fn wanted(r: &RequestsArgs, data: &Value, shown_up_to: Option<u64>) -> bool {
    data["journal"]
        .as_u64()
        .zip(shown_up_to)
        .is_none_or(|(journal, shown)| journal > shown)
        && r.path
            .as_deref()
            .is_none_or(|p| cell(&data["path"]).starts_with(p))
        && r.status.is_none_or(|s| data["status"] == s)
        && sent_by(&r.by, &data["by"])
        && r.method
            .as_deref()
            .is_none_or(|m| cell(&data["method"]).eq_ignore_ascii_case(m))
}

/// A live request event as the journal shows a request (the stream carries no bodies).
fn live_row(event: &Value) -> RequestView {
    let data = &event["data"];
    let text = |v: &Value| v.as_str().map(str::to_string);
    RequestView {
        sequence: data["journal"].as_u64().unwrap_or_default(),
        at: cell(&event["at"]),
        method: cell(&data["method"]),
        path: cell(&data["path"]),
        query: text(&data["query"]),
        status: data["status"]
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .unwrap_or_default(),
        by: data["by"]
            .as_str()
            .and_then(Actor::parse)
            .unwrap_or(Actor::App),
        client_id: text(&event["client_id"]),
        request_body: String::new(),
        response_body: String::new(),
        latency_ms: data["latency_ms"].as_f64().unwrap_or(0.0).round() as u64,
        dropped: false,
    }
}

/// Whether a live request event's sender (`by`) is among `by` (`all`, or a comma-separated
/// list; the server checked the names when the history was read).
fn sent_by(by: &str, sender: &Value) -> bool {
    let sender = sender.as_str().unwrap_or("app");
    by.split(',')
        .map(str::trim)
        .any(|b| b.eq_ignore_ascii_case("all") || b.eq_ignore_ascii_case(sender))
}
