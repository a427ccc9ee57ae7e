//! The application state every service and handler works on: settings fixed at start-up and
//! the `Arc`-backed parts (store, clock, ids, scheduler, dispatcher, script).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use url::Url;

use crate::callbacks::Dispatcher;
use crate::clock::{Clock, IdGen};
use crate::scenarios::Scenarios;
use crate::scheduler::Scheduler;
use crate::store::Store;

/// Settings the handlers read, fixed at start-up.
#[derive(Debug)]
pub struct Settings {
    /// The application configured on the command line.
    pub client_id: String,
    /// The key auto-provisioned applications sign with (`--auto-tenants`).
    pub api_key: String,
    pub auto_tenants: bool,
    /// How long an auto-provisioned tenant may go unused, and how many there may be.
    pub tenant_ttl: Duration,
    pub max_tenants: usize,
    pub admin_token: Option<String>,
    /// False until start-up work is done: health answers 503 meanwhile.
    pub ready: std::sync::atomic::AtomicBool,
    pub public_url: Option<Url>,
    /// `--allowed-host`: names served beyond IP addresses, localhost and single labels.
    pub allowed_hosts: Vec<String>,
    /// `--cors-origin`: origins whose pages may call the sandbox, as `Origin` writes them.
    pub cors_origins: Vec<String>,
    pub local_addr: SocketAddr,
    pub token_ttl: Duration,
    pub callback_delay: Duration,
    pub stk_timeout: Duration,
    pub max_body_bytes: usize,
    /// How long a request's body may take to arrive.
    pub body_timeout: Duration,
}

/// The application state: one `Arc`, so the clone every middleware and handler takes is one
/// atomic increment; its parts are reached through `Deref`.
#[derive(Clone)]
pub struct AppState(Arc<Parts>);

impl AppState {
    pub fn new(parts: Parts) -> Self {
        Self(Arc::new(parts))
    }
}

impl std::ops::Deref for AppState {
    type Target = Parts;

    fn deref(&self) -> &Parts {
        &self.0
    }
}

/// What the state is made of; each part is also cheap to clone on its own.
pub struct Parts {
    pub settings: Arc<Settings>,
    pub store: Store,
    pub clock: Clock,
    pub ids: IdGen,
    pub scheduler: Scheduler,
    pub dispatcher: Dispatcher,
    pub scenarios: Arc<Scenarios>,
}
