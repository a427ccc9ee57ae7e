//! The admin token: with `--admin-token`, every control-plane route but health and the
//! OpenAPI document needs it.

use axum::extract::State;

use crate::http::error::ApiError;
use crate::service::AppState;

/// With `--admin-token`, the control plane (but health and the OpenAPI document) needs
/// `Authorization: Bearer <token>`.
pub(super) async fn require_admin_token(
    State(state): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Result<axum::response::Response, ApiError> {
    if let Some(expected) = &state.settings.admin_token {
        use subtle::ConstantTimeEq as _;
        let presented = match crate::http::extract::BearerToken::from_headers(req.headers()) {
            crate::http::extract::BearerToken::Present(t) => t.to_string(),
            _ => presented_elsewhere(&req).unwrap_or_default(),
        };
        if !bool::from(presented.as_bytes().ct_eq(expected.as_bytes())) {
            return Err(ApiError::Unauthorized(
                "The control plane needs Authorization: Bearer <admin token>".into(),
            ));
        }
    }
    Ok(next.run(req).await)
}

/// Where a browser puts the admin token, since an `EventSource` cannot set a header: the
/// `k2_sandbox_admin_token` cookie, or on the stream alone, `?token=`.
fn presented_elsewhere(req: &axum::extract::Request) -> Option<String> {
    let cookie = req
        .headers()
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix("k2_sandbox_admin_token="))
        .map(str::to_string);
    cookie.or_else(|| {
        (req.uri().path() == "/_sandbox/stream")
            .then(|| req.uri().query())
            .flatten()
            .and_then(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .find(|(k, _)| k == "token")
                    .map(|(_, v)| v.into_owned())
            })
    })
}
