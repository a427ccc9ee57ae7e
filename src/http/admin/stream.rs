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
use crate::store::feed::{Data, FeedEvent, FeedKind, Subscription};

/// A comment this often keeps an idle connection (and the proxies on its way) open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// How long the stream gathers events after the first before writing them.
const COALESCE: Duration = Duration::from_millis(25);

#[derive(Deserialize)]
pub struct StreamFilter {
    /// Only this application's events (and those that belong to none: clock, scenarios).
    client_id: Option<String>,
    /// Comma-separated kinds, e.g. `request,callback`; default all.
    kind: Option<String>,
}

/// What one subscriber wants, and how its events' times are written.
struct Wanted {
    kinds: Option<Vec<FeedKind>>,
    client_id: Option<String>,
    stamp: MillisStamp,
}

impl Wanted {
    fn takes(&self, e: &FeedEvent) -> bool {
        self.kinds.as_ref().is_none_or(|k| k.contains(&e.kind))
            && self
                .client_id
                .as_deref()
                .is_none_or(|c| e.client_id.as_deref().is_none_or(|owner| owner == c))
    }

    /// Appends what `sub` has waiting to `out` as SSE text: a `missed` notice if it fell
    /// behind, then each event it wants. The JSON is written straight into `out` (no string
    /// per event, no formatting machinery).
    fn write(&mut self, sub: &mut Subscription, out: &mut Vec<u8>) {
        let taken = sub.take();
        // Events are 250 to 450 bytes: one allocation for the lot, in the common case.
        out.reserve(taken.held() * 448);
        if taken.missed > 0 {
            out.extend_from_slice(b"event: missed\ndata: {\"missed\":");
            out.extend_from_slice(itoa::Buffer::new().format(taken.missed).as_bytes());
            out.extend_from_slice(b"}\n\n");
        }
        for e in taken.events() {
            if !self.takes(e) {
                continue;
            }
            let mut seq = itoa::Buffer::new();
            let seq = seq.format(e.seq).as_bytes();
            out.extend_from_slice(b"event: ");
            out.extend_from_slice(e.kind.name().as_bytes());
            out.extend_from_slice(b"\nid: ");
            out.extend_from_slice(seq);
            // `{"seq", "kind", "client_id", "at", "data"}`. Compact JSON holds no newline:
            // one `data:` line.
            out.extend_from_slice(b"\ndata: {\"seq\":");
            out.extend_from_slice(seq);
            out.extend_from_slice(b",\"kind\":\"");
            out.extend_from_slice(e.kind.name().as_bytes());
            out.extend_from_slice(b"\",\"client_id\":");
            json::opt_str(out, e.client_id.as_deref());
            out.extend_from_slice(b",\"at\":\"");
            out.extend_from_slice(self.stamp.format(e.at));
            out.extend_from_slice(b"\",\"data\":");
            // Plain data into a Vec: writing cannot fail.
            let _ = match &e.data {
                Data::Request(r) => {
                    json::request(out, r);
                    Ok(())
                }
                Data::Resource(d) => {
                    json::resource(out, d);
                    Ok(())
                }
                Data::Callback(d) => {
                    json::callback(out, d);
                    Ok(())
                }
                Data::Webhook(d) => serde_json::to_writer(&mut *out, d),
                Data::Json(d) => serde_json::to_writer(&mut *out, d),
            };
            out.extend_from_slice(b"}\n\n");
        }
    }
}

/// The most frequent events written by hand (one for each request, result and callback
/// attempt), in the shapes `tests/api/stream.rs` pins.
mod json {
    use crate::domain::delivery::ResourceRef;
    use crate::store::feed::{CallbackData, RequestData, ResourceData};

    /// A JSON string; the common case (nothing to escape) is copied as is.
    pub fn str(out: &mut Vec<u8>, s: &str) {
        // Or-ed over every byte rather than stopping at the first: the compiler vectorises it.
        let escaped = s
            .bytes()
            .fold(false, |e, b| e | (b < 0x20) | (b == b'"') | (b == b'\\'));
        if escaped {
            let _ = serde_json::to_writer(&mut *out, s);
        } else {
            out.push(b'"');
            out.extend_from_slice(s.as_bytes());
            out.push(b'"');
        }
    }

    pub fn opt_str(out: &mut Vec<u8>, s: Option<&str>) {
        match s {
            Some(s) => str(out, s),
            None => out.extend_from_slice(b"null"),
        }
    }

    pub fn request(out: &mut Vec<u8>, r: &RequestData) {
        out.extend_from_slice(b"{\"method\":");
        str(out, r.method.as_str());
        out.extend_from_slice(b",\"path\":");
        str(out, r.target.path());
        out.extend_from_slice(b",\"query\":");
        opt_str(out, r.target.query());
        out.extend_from_slice(b",\"status\":");
        number(out, r.status);
        out.extend_from_slice(b",\"latency_ms\":");
        let _ = serde_json::to_writer(&mut *out, &r.latency_ms);
        out.extend_from_slice(b",\"journal\":");
        match r.journal {
            Some(j) => number(out, j),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"error\":");
        opt_str(out, r.error.as_deref());
        out.extend_from_slice(b",\"by\":\"");
        out.extend_from_slice(
            crate::store::journal::Actor::of_path(r.target.path())
                .name()
                .as_bytes(),
        );
        out.extend_from_slice(b"\"}");
    }

    fn number(out: &mut Vec<u8>, n: impl itoa::Integer) {
        out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    }

    fn uuid(out: &mut Vec<u8>, id: &uuid::Uuid) {
        out.push(b'"');
        out.extend_from_slice(
            id.hyphenated()
                .encode_lower(&mut uuid::Uuid::encode_buffer())
                .as_bytes(),
        );
        out.push(b'"');
    }

    /// `"type":…,"id":…` (inside an object).
    fn resource_ref(out: &mut Vec<u8>, r: &ResourceRef) {
        out.extend_from_slice(b"\"type\":\"");
        out.extend_from_slice(r.kind.name().as_bytes());
        out.extend_from_slice(b"\",\"id\":");
        uuid(out, &r.id);
    }

    /// `{"type", "id", "status"}`.
    pub fn resource(out: &mut Vec<u8>, d: &ResourceData) {
        out.push(b'{');
        resource_ref(out, &d.resource);
        out.extend_from_slice(b",\"status\":");
        str(out, &d.status);
        out.push(b'}');
    }

    /// `{"delivery", "resource", "url", "attempt", "status", "error", "latency_ms",
    /// "outcome"}`.
    pub fn callback(out: &mut Vec<u8>, d: &CallbackData) {
        out.extend_from_slice(b"{\"delivery\":");
        uuid(out, &d.delivery);
        out.extend_from_slice(b",\"resource\":{");
        resource_ref(out, &d.resource);
        out.extend_from_slice(b"},\"url\":");
        str(out, &d.url);
        out.extend_from_slice(b",\"attempt\":");
        number(out, d.attempt);
        out.extend_from_slice(b",\"status\":");
        match d.status {
            Some(s) => number(out, s),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"error\":");
        opt_str(out, d.error.as_deref());
        out.extend_from_slice(b",\"latency_ms\":");
        number(out, d.latency_ms);
        out.extend_from_slice(b",\"outcome\":\"");
        out.extend_from_slice(d.outcome.as_bytes());
        out.extend_from_slice(b"\"}");
    }
}

/// The kinds `?kind=` names, comma-separated.
fn kinds(names: &str) -> Result<Vec<FeedKind>, ApiError> {
    names
        .split(',')
        .map(|k| k.trim().to_ascii_lowercase())
        .filter(|k| !k.is_empty())
        .map(|k| {
            FeedKind::parse(&k).ok_or_else(|| {
                let names = FeedKind::ALL.map(FeedKind::name);
                ApiError::BadRequest(format!(
                    "kind {k:?} is not one of {}{}",
                    names.join(", "),
                    crate::suggest::did_you_mean(&k, names)
                ))
            })
        })
        .collect()
}

pub async fn stream(
    State(state): State<AppState>,
    Query(filter): Query<StreamFilter>,
) -> Result<Response, ApiError> {
    let wanted = Wanted {
        kinds: filter.kind.as_deref().map(kinds).transpose()?,
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
                match tokio::time::timeout(KEEP_ALIVE, sub.wait()).await {
                    Err(_) => out.extend_from_slice(b": keep-alive\n\n"),
                    Ok(false) => open = false,
                    Ok(true) => {
                        tokio::time::sleep(COALESCE).await;
                        wanted.write(&mut sub, &mut out);
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::json;
    use crate::domain::delivery::{CallbackKind, ResourceRef};
    use crate::store::feed::{CallbackData, ResourceData};

    fn parsed(write: impl FnOnce(&mut Vec<u8>)) -> serde_json::Value {
        let mut out = Vec::new();
        write(&mut out);
        serde_json::from_slice(&out).expect("valid JSON")
    }

    #[test]
    fn a_failed_attempt_is_written_as_json() {
        let id = uuid::Uuid::from_u128(7);
        let data = CallbackData {
            delivery: id,
            resource: ResourceRef {
                kind: CallbackKind::Of(crate::domain::kinds::ResourceKind::SendMoney),
                id,
            },
            url: "http://app/cb?a=\"1\"".into(),
            attempt: 3,
            status: None,
            error: Some("connection refused\n\"here\"".into()),
            latency_ms: 12,
            outcome: "will retry",
        };
        assert_eq!(
            parsed(|out| json::callback(out, &data)),
            json!({
                "delivery": id,
                "resource": {"type": "send_money", "id": id},
                "url": "http://app/cb?a=\"1\"",
                "attempt": 3,
                "status": null,
                "error": "connection refused\n\"here\"",
                "latency_ms": 12,
                "outcome": "will retry",
            })
        );
    }

    #[test]
    fn a_result_is_written_as_json() {
        let id = uuid::Uuid::from_u128(9);
        let data = ResourceData {
            resource: ResourceRef {
                kind: CallbackKind::Of(crate::domain::kinds::ResourceKind::IncomingPayment),
                id,
            },
            status: "Failed".into(),
        };
        assert_eq!(
            parsed(|out| json::resource(out, &data)),
            json!({"type": "incoming_payment", "id": id, "status": "Failed"})
        );
    }
}
