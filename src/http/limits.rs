//! What every request must fit before any route sees it: a URI and headers of bounded size,
//! and a body of at most the body limit that arrives within the body timeout. The body is
//! read here, whole, for every route: a route that ignores its body still leaves the
//! keep-alive connection ready for the next request.
//!
//! hyper reads heads up to larger limits (see `server`), so that these answer in the API's
//! JSON; only a head past hyper's own limits, or one that is not HTTP at all, gets hyper's
//! empty 400, 414 or 431.

use std::task::Poll;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt as _, LengthLimitError, Limited};

use super::error::{ApiError, OAuthError};
use crate::service::AppState;

/// The longest request URI (path and query) answered.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// The most header fields in one request.
pub const MAX_HEADERS: usize = 100;
/// The most bytes of header names and values in one request.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
/// How much of a body past the limit is read and thrown away before the 413, so that a client
/// still writing its body reads the answer instead of a connection reset under its write.
/// A body declared larger than the limit and this together is refused without reading.
const DRAIN_BYTES: u64 = 16 * 1024 * 1024;

/// The request's head and whole body, or the answer that refuses it.
pub async fn read(state: &AppState, req: Request) -> Result<(Parts, Bytes), Response> {
    // The OAuth endpoints answer in OAuth's error shape, as their handlers do.
    let oauth = req.uri().path().starts_with("/oauth/");
    let closing = |error: ApiError| closing(error, oauth);
    let uri_len = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if uri_len > MAX_URI_BYTES {
        return Err(closing(ApiError::UriTooLong(MAX_URI_BYTES)));
    }
    let headers = req.headers();
    if headers.len() > MAX_HEADERS {
        return Err(closing(ApiError::HeadersTooLarge(format!(
            "Too many request headers: the limit is {MAX_HEADERS}"
        ))));
    }
    let header_bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return Err(closing(ApiError::HeadersTooLarge(format!(
            "Request headers are too large: the limit is {MAX_HEADER_BYTES} bytes"
        ))));
    }
    // No body (a GET, a POST with Content-Length: 0): nothing to check, read or wait for.
    if http_body::Body::is_end_stream(req.body()) {
        let (parts, _) = req.into_parts();
        return Ok((parts, Bytes::new()));
    }
    let limit = state.settings.max_body_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    // A client that waits for 100 Continue has not sent its body: nothing to drain.
    let drain = !headers.contains_key(header::EXPECT)
        && declared.is_none_or(|len| len <= limit as u64 + DRAIN_BYTES);
    let timeout = state.settings.body_timeout;
    let (parts, mut body) = req.into_parts();
    if declared.is_some_and(|len| len > limit as u64) {
        if drain {
            discard(&mut body, timeout).await;
        }
        return Err(closing(ApiError::PayloadTooLarge(limit)));
    }
    // Boxed: a request without a body need not carry room for reading one.
    let bytes = Box::pin(read_body(state, body, limit, drain, oauth)).await?;
    Ok((parts, bytes))
}

/// The whole body within its timeout, or the answer that refuses it.
async fn read_body(
    state: &AppState,
    mut body: Body,
    limit: usize,
    drain: bool,
    oauth: bool,
) -> Result<Bytes, Response> {
    let closing = |error: ApiError| closing(error, oauth);
    let timeout = state.settings.body_timeout;
    let mut collect = std::pin::pin!(Limited::new(&mut body, limit).collect());
    // A small body usually arrives with its head and is read at the first poll, without
    // arming the timeout's timer (the clock read and timer entry cost more than the read).
    let first = std::future::poll_fn(|cx| Poll::Ready(collect.as_mut().poll(cx))).await;
    let read = match first {
        Poll::Ready(read) => Ok(read),
        Poll::Pending => tokio::time::timeout(timeout, collect).await,
    };
    let bytes = match read {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) if e.is::<LengthLimitError>() => {
            if drain {
                discard(&mut body, timeout).await;
            }
            return Err(closing(ApiError::PayloadTooLarge(limit)));
        }
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "the request body could not be read");
            return Err(closing(ApiError::BadRequest(
                "The request body ended before its Content-Length".into(),
            )));
        }
        Err(_) => {
            return Err(closing(ApiError::RequestTimeout(format!(
                "The request body did not arrive within {} ms",
                state.settings.body_timeout.as_millis()
            ))));
        }
    };
    Ok(bytes)
}

/// Reads and drops up to `DRAIN_BYTES` of what is left of a refused body, for at most
/// `timeout`: the answer then reaches a client that writes its whole body before it reads.
async fn discard(body: &mut axum::body::Body, timeout: std::time::Duration) {
    let drop_all = async {
        let mut left = DRAIN_BYTES;
        while let Some(Ok(frame)) = body.frame().await {
            let len = frame.data_ref().map_or(0, |data| data.len() as u64);
            left = left.saturating_sub(len);
            if left == 0 {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(timeout, drop_all).await;
}

/// An error after which the connection cannot be trusted to be at a request boundary: the
/// body was not read to its end, so the connection closes after the answer.
fn closing(error: ApiError, oauth: bool) -> Response {
    let mut response = if oauth {
        OAuthError::from(error).into_response()
    } else {
        error.into_response()
    };
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
