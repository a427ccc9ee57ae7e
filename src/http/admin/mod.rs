//! The sandbox control plane, under the reserved prefix `/_sandbox/`: one file per area, each
//! with its router, merged here behind the admin token (`auth.rs`). Not part of Kopo Kopo's
//! API; no auth by default.

mod auth;
mod balances;
mod clock;
mod deliveries;
mod events;
mod handsets;
mod health;
mod inspect;
mod page;
mod scenarios;
mod stream;

use axum::Router;
use axum::routing::get;

pub use self::events::TriggerRequest;
use crate::service::AppState;

pub fn router(state: AppState) -> Router<AppState> {
    let guarded = Router::new()
        .merge(health::router())
        .merge(handsets::router())
        .merge(events::router())
        .merge(inspect::router())
        .merge(deliveries::router())
        .merge(clock::router())
        .merge(balances::router())
        .merge(scenarios::router())
        .route("/_sandbox/stream", get(stream::stream))
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            auth::require_admin_token,
        ));
    health::open_router().merge(guarded)
}
