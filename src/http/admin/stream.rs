//! `GET /_sandbox/stream`: the live feed as Server-Sent Events, filterable by application and
//! kind. Each event's SSE `event` is its kind, its `id` the feed's sequence, its `data` the
//! JSON event. A subscriber that falls behind gets a `missed` event saying how many went by;
//! at shutdown the stream ends.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use serde::Deserialize;

use crate::http::error::ApiError;
use crate::service::AppState;
use crate::store::feed::Next;

/// The kinds of events the feed carries.
pub const KINDS: [&str; 8] = [
    "request", "resource", "callback", "webhook", "sms", "prompt", "clock", "scenario",
];

#[derive(Deserialize)]
pub struct StreamFilter {
    /// Only this application's events (and those that belong to none: clock, scenarios).
    client_id: Option<String>,
    /// Comma-separated kinds, e.g. `request,callback`; default all.
    kind: Option<String>,
}

pub async fn stream(
    State(state): State<AppState>,
    Query(filter): Query<StreamFilter>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
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
    let subscription = state.store.feed.subscribe();
    let client_id = filter.client_id;
    let events = futures_util::stream::unfold(subscription, move |mut sub| {
        let kinds = kinds.clone();
        let client_id = client_id.clone();
        async move {
            loop {
                match sub.next().await {
                    Next::Closed => return None,
                    Next::Missed(n) => {
                        let event = Event::default()
                            .event("missed")
                            .data(format!("{{\"missed\":{n}}}"));
                        return Some((Ok(event), sub));
                    }
                    Next::Event(e) => {
                        let wanted = kinds.as_ref().is_none_or(|k| k.iter().any(|k| k == e.kind))
                            && client_id.as_deref().is_none_or(|c| {
                                e.client_id.as_deref().is_none_or(|owner| owner == c)
                            });
                        if !wanted {
                            continue;
                        }
                        let data = serde_json::to_string(&*e).unwrap_or_default();
                        let event = Event::default()
                            .event(e.kind)
                            .id(e.seq.to_string())
                            .data(data);
                        return Some((Ok(event), sub));
                    }
                }
            }
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
