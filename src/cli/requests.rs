//! `requests`: the request journal, and `--follow` from the live stream.

use super::client::{Client, Outcome, read_as, shown_as};
use super::show::print_or_end;
use crate::config::RequestsArgs;
use crate::store::journal::Actor;
use crate::wire::control::{RequestEvent, RequestLog, RequestView, StreamEvent};

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

/// `--follow` cannot size its columns to rows that have not come yet: fixed widths, wide
/// enough for a timestamp, a method, most API paths and a latency (a longer path pushes its
/// own line's later cells right, never the next line's).
const FOLLOW_WIDTHS: [usize; 5] = [29, 6, 44, 6, 8];

/// One `--follow` line: each cell but the last padded to its column.
fn follow_line<S: AsRef<str>>(cells: &[S]) -> String {
    let mut line = String::new();
    for (i, cell) in cells.iter().enumerate() {
        let cell = cell.as_ref();
        match FOLLOW_WIDTHS.get(i) {
            Some(width) => line.push_str(&format!("{cell:<width$}  ")),
            None => line.push_str(cell),
        }
    }
    line.trim_end().to_string()
}

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
    if !r.list.json {
        print_or_end!("{}", follow_line(&REQUEST_HEADER));
    }
    for entry in history.requests.iter().rev() {
        if r.list.json {
            print_or_end!("{}", serde_json::to_string(entry).unwrap_or_default());
        } else {
            print_or_end!("{}", follow_line(&request_row(entry)));
        }
    }
    while let Some((kind, event)) = events.next().await? {
        if kind != "request" {
            continue;
        }
        let Some((live, data)) = read_as::<StreamEvent>(event.clone())
            .ok()
            .and_then(|e| e.data_as::<RequestEvent>().map(|d| (e, d)))
        else {
            continue;
        };
        if !wanted(&r, &data, shown_up_to) {
            continue;
        }
        if r.list.json {
            print_or_end!("{event}");
        } else {
            print_or_end!("{}", follow_line(&request_row(&live_row(&live, data))));
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
fn wanted(r: &RequestsArgs, data: &RequestEvent, shown_up_to: Option<u64>) -> bool {
    data.journal
        .zip(shown_up_to)
        .is_none_or(|(journal, shown)| journal > shown)
        && r.path.as_deref().is_none_or(|p| data.path.starts_with(p))
        && r.status.is_none_or(|s| data.status == s)
        && sent_by(&r.by, data.by)
        && r.method
            .as_deref()
            .is_none_or(|m| data.method.eq_ignore_ascii_case(m))
}

/// A live request event as the journal shows a request (the stream carries no bodies).
fn live_row(event: &StreamEvent, data: RequestEvent) -> RequestView {
    RequestView {
        sequence: data.journal.unwrap_or_default(),
        at: event.at.clone(),
        method: data.method,
        path: data.path,
        query: data.query,
        status: data.status,
        by: data.by,
        client_id: event.client_id.clone(),
        request_body: String::new(),
        response_body: String::new(),
        latency_ms: data.latency_ms.round() as u64,
        dropped: false,
    }
}

/// Whether a live request event's sender is among `by` (`all`, or a comma-separated list;
/// the server checked the names when the history was read).
fn sent_by(by: &str, sender: Actor) -> bool {
    by.split(',')
        .map(str::trim)
        .any(|b| b.eq_ignore_ascii_case("all") || b.eq_ignore_ascii_case(sender.name()))
}
