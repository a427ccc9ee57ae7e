//! One integration binary: each module drives a real sandbox over HTTP.

mod auth;
mod callbacks;
mod cli;
mod connections;
mod control_plane;
mod errors;
mod events;
mod fidelity;
mod handset;
mod helpers;
mod incoming_payments;
mod input_limits;
mod isolation;
mod oauth;
mod payment_links;
mod polling;
mod recipients;
mod retention;
mod reversals;
mod scenario_corpus;
mod scenarios;
mod send_money;
mod sms_notifications;
mod snapshots;
mod v1;
mod webhooks;
