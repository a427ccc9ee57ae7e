//! OAuth 2 client credentials, as the reference's "Authorization" section describes:
//! token, revoke, introspect and token info.

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};

use super::error::OAuthError;
use super::extract::{BearerToken, ClientSlot, OAuthParams, check_token};
use crate::service::{AppState, oauth};
use crate::store::Application;
use crate::wire::oauth::{
    ApplicationRef, Introspection, IntrospectionDetails, TokenInfo, TokenResponse,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/oauth/token", post(token))
        .route("/oauth/revoke", post(revoke))
        .route("/oauth/introspect", post(introspect))
        .route("/oauth/token/info", get(token_info))
}

/// The application whose `client_id`/`client_secret` the request carries.
fn client(state: &AppState, params: &OAuthParams) -> Result<Arc<Application>, OAuthError> {
    let (Some(id), Some(secret)) = (params.get("client_id"), params.get("client_secret")) else {
        return Err(OAuthError::invalid_client());
    };
    oauth::authenticate(state, id, secret).ok_or_else(OAuthError::invalid_client)
}

#[tracing::instrument(level = "debug", skip_all)]
async fn token(
    State(state): State<AppState>,
    params: OAuthParams,
) -> Result<axum::response::Response, OAuthError> {
    match params.get("grant_type") {
        None => return Err(OAuthError::invalid_request("grant_type")),
        Some("client_credentials") => {}
        Some(_) => return Err(OAuthError::unsupported_grant_type()),
    }
    let app = client(&state, &params)?;
    ClientSlot::set(app.client_id.clone());
    let (access_token, now_ms) = oauth::issue(&state, &app);
    let ttl = state.settings.token_ttl;
    let body = TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: ttl.as_secs(),
        created_at: crate::clock::eat_seconds_text(now_ms),
    }
    .to_json();
    Ok(super::resource::json_bytes(body))
}

/// RFC 7009: 200 `{}` whether or not the token existed. The Node SDK sends
/// `Authorization: Bearer null` here, so only the client credentials in the body count.
async fn revoke(
    State(state): State<AppState>,
    params: OAuthParams,
) -> Result<Json<serde_json::Map<String, serde_json::Value>>, OAuthError> {
    let app = client(&state, &params)?;
    ClientSlot::set(app.client_id.clone());
    let token = params
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("token"))?;
    oauth::revoke(&state, &app.client_id, token);
    Ok(Json(serde_json::Map::new()))
}

/// RFC 7662. The caller authenticates with its client credentials or, failing those, a valid
/// bearer token (the Node SDK's `Bearer null` is ignored when credentials are present).
async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: OAuthParams,
) -> Result<Json<Introspection>, OAuthError> {
    let caller = if params.get("client_id").is_some() || params.get("client_secret").is_some() {
        client(&state, &params)?.client_id.clone()
    } else {
        match BearerToken::from_headers(&headers) {
            BearerToken::Present(t) => {
                check_token(&state, t)
                    .map_err(|_| OAuthError::invalid_client())?
                    .client_id
            }
            _ => return Err(OAuthError::invalid_client()),
        }
    };
    ClientSlot::set(caller.clone());
    let token = params
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("token"))?;
    let details = oauth::introspect(&state, &caller, token).map(|r| IntrospectionDetails {
        scope: "",
        client_id: r.client_id.to_string(),
        token_type: "Bearer",
        exp: r.expires_at_ms / 1000,
        iat: r.issued_at_ms / 1000,
    });
    Ok(Json(Introspection {
        active: details.is_some(),
        details,
    }))
}

async fn token_info(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<TokenInfo>, OAuthError> {
    let BearerToken::Present(token) = BearerToken::from_headers(&headers) else {
        return Err(OAuthError::invalid_token("The access token is missing"));
    };
    let record = check_token(&state, token).map_err(|p| OAuthError::invalid_token(p.message()))?;
    let now_ms = state.clock.now_ms_of(&record.client_id);
    Ok(Json(TokenInfo {
        resource_owner_id: None,
        scope: [],
        expires_in: (record.expires_at_ms - now_ms) / 1000,
        application: ApplicationRef {
            uid: record.client_id.to_string(),
        },
        created_at: record.issued_at_ms / 1000,
    }))
}
