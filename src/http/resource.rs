//! What every resource endpoint shares: `201 Created` with `Location`, and
//! `GET` by id that 404s for unknown, malformed or another application's ids.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::error::ApiError;
use crate::domain::Owned;
use crate::service::AppState;
use crate::service::resource::Documented;
use crate::store::Collection;

/// `201 Created`, no body, `Location: {self_url}`.
pub fn created(self_url: &impl std::fmt::Display) -> Response {
    (
        StatusCode::CREATED,
        [(header::LOCATION, self_url.to_string())],
    )
        .into_response()
}

/// The 404 for an id of `collection` that is not there: "evicted by retention" when it was
/// dropped to keep memory bounded, "not found" otherwise.
pub fn not_found<T: Owned + Clone>(collection: &Collection<T>, id: &str, what: &str) -> ApiError {
    if collection.was_evicted(id) {
        ApiError::NotFound(format!(
            "{what} was evicted by retention: the sandbox keeps the newest {} of each \
             application (--retention)",
            collection.retention()
        ))
    } else {
        ApiError::NotFound(format!("{what} not found"))
    }
}

/// The document of `owner`'s resource `id`, or a 404 saying `what` was not found. While a
/// scenario hides its result (an early callback), the document from before it.
pub fn show<T, D>(
    state: &AppState,
    collection: &Collection<T>,
    id: &str,
    owner: &str,
    what: &str,
) -> Result<Response, ApiError>
where
    T: Owned + Clone,
    D: for<'a> From<&'a T> + Serialize + 'static,
{
    let (resource_id, document) = collection
        .rendered::<D>(id, owner, |r| crate::wire::json::to_vec(&D::from(r)).into())
        .ok_or_else(|| not_found(collection, id, what))?;
    Ok(
        match state.scenarios.shown_instead(&state.clock, resource_id) {
            Some(before) => api_json(&before),
            None => json_bytes(document),
        },
    )
}

/// [`show`] for a kind of resource: its collection, document and name.
pub fn show_resource<R: Documented>(
    state: &AppState,
    id: &str,
    owner: &str,
) -> Result<Response, ApiError> {
    show::<R, R::Document>(state, R::collection(&state.store), id, owner, R::WHAT)
}

/// `200 OK` with `value` as the API's JSON (`wire::json`: escaped as Rails escapes).
pub fn api_json(value: &impl Serialize) -> Response {
    json_bytes(crate::wire::json::to_vec(value))
}

/// `200 OK` with a JSON document already written out.
pub fn json_bytes(document: impl Into<axum::body::Body>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        document.into(),
    )
        .into_response()
}
