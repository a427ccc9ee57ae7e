//! One integration binary: each module drives a real sandbox over HTTP.

mod auth;
mod callbacks;
mod control_plane;
mod errors;
mod fidelity;
mod helpers;
mod incoming_payments;
mod oauth;
mod recipients;
mod send_money;
mod webhooks;
