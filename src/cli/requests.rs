//! `requests`: the request journal, and `--follow` from the live stream.

use serde_json::{Value, json};

use super::client::{Client, Outcome};
use super::show::{cell, print_or_end, shown};
use crate::config::RequestsArgs;

fn request_rows(requests: &[Value]) -> Vec<Vec<String>> {
    requests
        .iter()
        .map(|r| {
            let path = match r["query"].as_str() {
                Some(q) => format!("{}?{q}", cell(&r["path"])),
                None => cell(&r["path"]),
            };
            // The app's requests name its application; the others, who sent them.
            let by = match r["by"].as_str() {
                Some(by @ ("customer" | "control")) => format!("({by})"),
                _ => cell(&r["client_id"]),
            };
            vec![
                cell(&r["at"]),
                cell(&r["method"]),
                path,
                cell(&r["status"]),
                format!("{} ms", cell(&r["latency_ms"])),
                by,
            ]
        })
        .collect()
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
        return Ok(shown(r.list.json, answer, |a| {
            let rows = request_rows(
                a["requests"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default(),
            );
            crate::report::table(&REQUEST_HEADER, &rows)
        }));
    };
    // The history, then every request answered after it, as it is answered.
    let history = answer["requests"].as_array().cloned().unwrap_or_default();
    let shown_up_to = history.iter().filter_map(|e| e["sequence"].as_u64()).max();
    for entry in history.iter().rev() {
        if r.list.json {
            print_or_end!("{entry}");
        } else {
            print_or_end!(
                "{}",
                request_rows(std::slice::from_ref(entry))[0].join("  ")
            );
        }
    }
    while let Some((kind, event)) = events.next().await? {
        if kind != "request" || !wanted(&r, &event["data"], shown_up_to) {
            continue;
        }
        if r.list.json {
            print_or_end!("{event}");
        } else {
            print_or_end!("{}", request_rows(&[live_row(&event)])[0].join("  "));
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

/// A live request event in the journal's shape, for [`request_rows`].
fn live_row(event: &Value) -> Value {
    let data = &event["data"];
    json!({
        "at": event["at"], "method": data["method"], "path": data["path"],
        "query": data["query"], "status": data["status"],
        "latency_ms": format!("{:.1}", data["latency_ms"].as_f64().unwrap_or(0.0)),
        "client_id": event["client_id"], "by": data["by"],
    })
}

/// Whether a live request event's sender (`by`) is among `by` (`all`, or a comma-separated
/// list; the server checked the names when the history was read).
fn sent_by(by: &str, sender: &Value) -> bool {
    let sender = sender.as_str().unwrap_or("app");
    by.split(',')
        .map(str::trim)
        .any(|b| b.eq_ignore_ascii_case("all") || b.eq_ignore_ascii_case(sender))
}
