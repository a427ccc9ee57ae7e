//! OAuth applications and their tokens: authenticating a client (provisioning it first when
//! `--auto-tenants` lets any client id in), issuing, revoking and introspecting tokens.

use std::sync::Arc;

use super::AppState;
use crate::store::{Application, TokenRecord};

/// The application `client_id`/`client_secret` name, if they match one. With
/// `--auto-tenants` an unknown client id is provisioned first (and the tenant unused the
/// longest dropped past `--max-tenants`).
pub fn authenticate(state: &AppState, client_id: &str, secret: &str) -> Option<Arc<Application>> {
    if state.settings.auto_tenants {
        let (added, dropped) = state.store.provision_application(
            Application {
                client_id: client_id.into(),
                client_secret: secret.to_string(),
                api_key: state.settings.api_key.clone(),
            },
            state.settings.max_tenants,
        );
        if added {
            tracing::info!(client_id, "provisioned a new tenant");
        }
        if let Some(old) = dropped {
            state.clock.forget_tenant(&old);
            tracing::info!(client_id = %old, "dropped the tenant unused the longest (--max-tenants)");
        }
        state.store.touch_tenant(client_id);
    }
    state.store.authenticate_client(client_id, secret)
}

/// A new access token of `app`, valid `--token-ttl` from now on its clock: its text and when
/// it was issued.
pub fn issue(state: &AppState, app: &Application) -> (String, i64) {
    let now_ms = state.clock.now_ms_of(&app.client_id);
    let ttl = state.settings.token_ttl;
    let token = state.store.issue_token(
        state.ids.token_bytes(),
        TokenRecord {
            client_id: app.client_id.clone(),
            issued_at_ms: now_ms,
            expires_at_ms: now_ms.saturating_add(crate::clock::millis(ttl)),
            revoked: false,
            revoked_at_ms: None,
            used: Default::default(),
        },
    );
    tracing::debug!(client_id = %app.client_id, "issued access token");
    (token, now_ms)
}

/// Revokes `token` if it is `client_id`'s (RFC 7009: whether or not it existed, the answer
/// is the same).
pub fn revoke(state: &AppState, client_id: &str, token: &str) {
    let now_ms = state.clock.now_ms_of(client_id);
    if state.store.revoke_token(token, client_id, now_ms) {
        tracing::debug!(client_id, "revoked access token");
    }
}

/// `token`'s record if it is `caller`'s and active now; a token of another application is
/// none of the caller's business.
pub fn introspect(state: &AppState, caller: &str, token: &str) -> Option<TokenRecord> {
    state
        .store
        .token(token)
        .filter(|r| *r.client_id == *caller && r.is_active(state.clock.now_ms_of(&r.client_id)))
}
