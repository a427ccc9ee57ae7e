//! Paging and time filters shared by the control plane's lists: `limit` (default 100, at most
//! 1000), `cursor` (the `next_cursor` of the page before) and `since` (RFC 3339). Lists are
//! newest first, so no answer grows with the history.

use chrono::DateTime;

use crate::http::error::ApiError;
use crate::store::PageRequest;

pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;

/// The page asked for by `limit` and `cursor`.
pub fn request(limit: Option<usize>, cursor: Option<&str>) -> Result<PageRequest, ApiError> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    let before = cursor
        .map(|c| {
            c.trim().parse::<u64>().map_err(|_| {
                ApiError::BadRequest(format!(
                    "cursor {c:?} is not one this list gave: pass its next_cursor"
                ))
            })
        })
        .transpose()?;
    Ok(PageRequest { before, limit })
}

/// `since` as epoch milliseconds.
pub fn since_ms(since: Option<&str>) -> Result<Option<i64>, ApiError> {
    since
        .map(|s| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.timestamp_millis())
                .map_err(|_| {
                    ApiError::BadRequest(format!("since {s:?} is not an RFC 3339 instant"))
                })
        })
        .transpose()
}

/// The `next_cursor` of a page: a string, so clients pass it back as they got it.
pub fn next_cursor(next: Option<u64>) -> Option<String> {
    next.map(|n| n.to_string())
}
