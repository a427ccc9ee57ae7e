//! `GET /_sandbox/stream`: the live feed as Server-Sent Events, filterable by application and
//! kind. Each event's SSE `event` is its kind, its `id` the feed's sequence, its `data` the
//! JSON event. A subscriber that falls behind gets a `missed` event saying how many went by;
//! at shutdown the stream ends. After an event arrives the stream waits [`COALESCE`] for more
//! and writes them together, so a busy sandbox costs a reader one wake-up and one write per
//! interval, not per event (a person watching cannot tell 25 ms).

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::clock::MillisStamp;
use crate::http::error::ApiError;
use crate::service::AppState;
use crate::store::feed::{FeedEvent, Next, Subscription};

/// The kinds of events the feed carries.
pub const KINDS: [&str; 8] = [
    "request", "resource", "callback", "webhook", "sms", "prompt", "clock", "scenario",
];

/// A comment this often keeps an idle connection (and the proxies on its way) open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// How long the stream gathers events after the first before writing them.
const COALESCE: Duration = Duration::from_millis(25);

/// The most events written together (the feed's ring holds 4096).
const BATCH: usize = 2048;

#[derive(Deserialize)]
pub struct StreamFilter {
    /// Only this application's events (and those that belong to none: clock, scenarios).
    client_id: Option<String>,
    /// Comma-separated kinds, e.g. `request,callback`; default all.
    kind: Option<String>,
}

/// What one subscriber wants, and how its events' times are written.
struct Wanted {
    kinds: Option<Vec<String>>,
    client_id: Option<String>,
    stamp: MillisStamp,
}

impl Wanted {
    fn takes(&self, e: &FeedEvent) -> bool {
        self.kinds
            .as_ref()
            .is_none_or(|k| k.iter().any(|k| k == e.kind))
            && self
                .client_id
                .as_deref()
                .is_none_or(|c| e.client_id.as_deref().is_none_or(|owner| owner == c))
    }

    /// Appends `next` to `out` as SSE text; false once the stream is over. The JSON is
    /// written straight into `out` (no string per event, no formatting machinery).
    fn write(&mut self, next: Next, out: &mut Vec<u8>) -> bool {
        match next {
            Next::Closed => return false,
            Next::Missed(n) => {
                out.extend_from_slice(b"event: missed\ndata: {\"missed\":");
                out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
                out.extend_from_slice(b"}\n\n");
            }
            Next::Event(e) if self.takes(&e) => {
                out.extend_from_slice(b"event: ");
                out.extend_from_slice(e.kind.as_bytes());
                out.extend_from_slice(b"\nid: ");
                out.extend_from_slice(itoa::Buffer::new().format(e.seq).as_bytes());
                // `{"seq", "kind", "client_id", "at", "data"}`. Compact JSON holds no newline:
                // one `data:` line. Plain data into a Vec: writing cannot fail.
                out.extend_from_slice(b"\ndata: {\"seq\":");
                out.extend_from_slice(itoa::Buffer::new().format(e.seq).as_bytes());
                out.extend_from_slice(b",\"kind\":\"");
                out.extend_from_slice(e.kind.as_bytes());
                out.extend_from_slice(b"\",\"client_id\":");
                let _ = serde_json::to_writer(&mut *out, &e.client_id);
                out.extend_from_slice(b",\"at\":\"");
                out.extend_from_slice(self.stamp.format(e.at).as_bytes());
                out.extend_from_slice(b"\",\"data\":");
                let _ = serde_json::to_writer(&mut *out, &e.data);
                out.extend_from_slice(b"}\n\n");
            }
            Next::Event(_) => {}
        }
        true
    }
}

pub async fn stream(
    State(state): State<AppState>,
    Query(filter): Query<StreamFilter>,
) -> Result<Response, ApiError> {
    let kinds: Option<Vec<String>> = filter
        .kind
        .as_deref()
        .map(|k| {
            k.split(',')
                .map(|k| k.trim().to_ascii_lowercase())
                .filter(|k| !k.is_empty())
                .map(|k| {
                    if KINDS.contains(&k.as_str()) {
                        Ok(k)
                    } else {
                        Err(ApiError::BadRequest(format!(
                            "kind {k:?} is not one of {}{}",
                            KINDS.join(", "),
                            crate::suggest::did_you_mean(&k, KINDS)
                        )))
                    }
                })
                .collect()
        })
        .transpose()?;
    let wanted = Wanted {
        kinds,
        client_id: filter.client_id,
        stamp: MillisStamp::default(),
    };
    let subscription = state.store.feed.subscribe();
    let chunks = futures_util::stream::unfold(
        (subscription, wanted, false),
        |(mut sub, mut wanted, ended): (Subscription, Wanted, bool)| async move {
            if ended {
                return None;
            }
            let mut out = Vec::new();
            let mut open = true;
            while out.is_empty() && open {
                match tokio::time::timeout(KEEP_ALIVE, sub.next()).await {
                    Err(_) => out.extend_from_slice(b": keep-alive\n\n"),
                    Ok(next) => {
                        open = wanted.write(next, &mut out);
                        if open {
                            tokio::time::sleep(COALESCE).await;
                        }
                    }
                }
                // Whatever else is already waiting goes in the same write.
                for _ in 0..BATCH {
                    let Some(next) = sub.ready() else { break };
                    if !wanted.write(next, &mut out) {
                        open = false;
                        break;
                    }
                }
            }
            if out.is_empty() {
                return None;
            }
            Some((
                Ok::<_, std::convert::Infallible>(Bytes::from(out)),
                (sub, wanted, !open),
            ))
        },
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        Body::from_stream(chunks),
    )
        .into_response())
}
