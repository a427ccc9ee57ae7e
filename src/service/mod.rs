//! The service floor: what a request or a due job does to the world. Accept and settle
//! resources, decide with the script's rules, record received money, emit webhook events and
//! queue signed callbacks; the scheduler and the dispatcher are driven from here. Handlers
//! parse, call a service, render; scenarios are applied through services too.

pub mod jobs;
pub mod lifecycle;
pub mod simulate;
mod state;
pub mod timeline;

pub use self::state::{AppState, Settings};
