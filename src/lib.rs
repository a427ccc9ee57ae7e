//! k2-sandbox: a local emulator of the Kopo Kopo K2 Connect API.
//!
//! Module map, by floor (`docs/ARCHITECTURE.md`; a module uses its floor and those below):
//! - The outside world: [`http`] (one router per API area, the `/_sandbox/` control plane,
//!   the checkout page, the gate every request passes), [`server`] (connections),
//!   [`cli`] (the client commands), [`run`] (`k2-sandbox run`), [`report`] (tables, verdicts,
//!   JUnit).
//! - [`scenario`]: scenario files: the YAML format, reading and checking it, applying it,
//!   exporting the world as one.
//! - [`service`]: what a request or a due job does to the world; `AppState`.
//! - [`scheduler`] (due work on the clock), [`scenarios`] (what the loaded scenarios ask of
//!   the running sandbox: rules, faults, callback faults, expectations), [`callbacks`]
//!   (signing, queueing and delivering callbacks).
//! - [`wire`] (serde types shaped like Kopo Kopo's JSON), [`store`] (the sharded in-memory
//!   state, the journal, the live feed).
//! - [`domain`] (validated values, resources and their states), [`clock`] (real or virtual
//!   time, the seeded id generator), [`config`] (flags and their `K2_SANDBOX_*` twins),
//!   [`routes`] (every route), [`signals`], [`suggest`] ("did you mean"), [`telemetry`]
//!   (logging).
//!
//! [`Sandbox::build`] binds and wires everything; [`Sandbox::run_until`] serves until a
//! future resolves, then drains. Split so tests can bind port 0 and learn the port.

pub mod callbacks;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod http;
pub mod report;
pub mod routes;
pub mod run;
pub mod scenario;
pub mod scenarios;
pub mod scheduler;
pub mod server;
pub mod service;
pub mod signals;
pub mod store;
pub mod suggest;
pub mod telemetry;
pub mod wire;

pub use service::{AppState, Settings};

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;

use crate::callbacks::{Delivering, Dispatcher, RetryPolicy};
use crate::clock::{Clock, IdGen};
use crate::config::ServeArgs;
use crate::scheduler::Scheduler;
use crate::store::{Application, Store};

pub struct Sandbox {
    listener: TcpListener,
    state: AppState,
    limits: server::ConnectionLimits,
    stats: Arc<server::ServerStats>,
    shutdown_grace: Duration,
    callback_concurrency: usize,
}

impl Sandbox {
    /// Binds the listener and builds the state; serves nothing yet.
    pub async fn build(args: ServeArgs) -> anyhow::Result<Self> {
        let addr = SocketAddr::new(args.host, args.port);
        let listener = bind(addr).await?;
        let local_addr = listener.local_addr()?;

        let clock = args.clock.map_or_else(Clock::real, Clock::frozen_at);
        let ids = IdGen::new(args.seed);
        let store = Store::new(args.initial_balance, clock.clone(), args.retention);
        store.add_application(Application {
            client_id: args.client_id.as_str().into(),
            client_secret: args.client_secret.clone(),
            api_key: args.api_key.clone(),
        });
        let scheduler = Scheduler::new(clock.clone());
        let scenarios: Arc<scenarios::Scenarios> = Arc::default();
        let dispatcher = Dispatcher::new(
            store.clone(),
            scheduler.clone(),
            clock.clone(),
            ids.clone(),
            delivering(&args),
            scenarios.clone(),
        )
        .context("building the callback HTTP client")?;
        let state = AppState::new(service::Parts {
            settings: Arc::new(settings(&args, local_addr)),
            store,
            clock,
            ids,
            scheduler,
            dispatcher,
            scenarios,
        });
        // Start-up work: scenario files. A bad one stops the start, naming file and line.
        if !args.scenario.is_empty() {
            let base = args.public_url.as_ref().map_or_else(
                || format!("http://{local_addr}"),
                |u| u.as_str().trim_end_matches('/').to_string(),
            );
            let loaded = scenario::load_files(&state, &args.scenario, &base)
                .map_err(|p| anyhow::anyhow!("scenario problems:\n{p}"))?;
            tracing::info!(scenarios = %loaded.scenarios.join(", "), faults = loaded.faults, timeline = loaded.timeline, "scenarios loaded");
        }
        Ok(Self {
            listener,
            state,
            limits: limits(&args),
            stats: Arc::default(),
            shutdown_grace: Duration::from_millis(args.shutdown_grace_ms),
            callback_concurrency: args.callback_concurrency,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.state.settings.local_addr
    }

    /// A handle on the state, for in-process tests and benchmarks.
    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// Connection counts, for what a shutdown reports.
    pub fn stats(&self) -> Arc<server::ServerStats> {
        self.stats.clone()
    }

    /// Serves until `shutdown` resolves; then stops accepting and, within the grace period in
    /// all, lets in-flight requests and queued callbacks finish; drops what is left, and
    /// returns.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Self {
            listener,
            state,
            limits,
            stats,
            shutdown_grace,
            callback_concurrency,
        } = self;
        let (stop_worker, worker_stopped) = tokio::sync::oneshot::channel::<()>();
        let exec_state = state.clone();
        let worker = tokio::spawn(state.scheduler.clone().run(
            move |job| service::jobs::execute(&exec_state, job),
            callback_concurrency,
            async move {
                let _ = worker_stopped.await;
            },
        ));

        let housekeeping = tokio::spawn(housekeeping(state.clone()));
        let app = http::app(state.clone());
        state
            .settings
            .ready
            .store(true, std::sync::atomic::Ordering::Release);
        let (stopping_tx, stopping) = tokio::sync::oneshot::channel();
        let feed = state.store.feed.clone();
        let shutdown = async move {
            shutdown.await;
            // Live streams never finish on their own: end them, so they do not hold the grace.
            feed.close();
            let _ = stopping_tx.send(tokio::time::Instant::now() + shutdown_grace);
        };
        server::serve(listener, app, limits, stats, shutdown, shutdown_grace).await;
        let deadline = stopping
            .await
            .unwrap_or_else(|_| tokio::time::Instant::now());
        tracing::info!("stopped serving HTTP");

        housekeeping.abort();
        drain(&state, deadline).await;
        let _ = stop_worker.send(());
        worker.await.context("callback worker")?;
        tracing::info!("callback worker stopped");
        Ok(())
    }
}

/// The listener on `addr`; a port in use says what to do about it.
async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            anyhow::anyhow!(
                "port {} is in use on {}: stop what holds it, or pick another port with \
                 --port (K2_SANDBOX_PORT); --port 0 takes a free one and prints it",
                addr.port(),
                addr.ip()
            )
        } else {
            anyhow::Error::new(e).context(format!("binding {addr}"))
        }
    })
}

/// How callbacks are delivered, as the flags say.
fn delivering(args: &ServeArgs) -> Delivering {
    Delivering {
        policy: RetryPolicy {
            attempts: args.callback_attempts,
            timeout: Duration::from_millis(args.callback_timeout_ms),
            backoff: Duration::from_millis(args.callback_backoff_ms),
        },
        connections_per_host: args.callback_concurrency,
        rewrites: args.callback_rewrite.clone(),
    }
}

/// The settings the handlers read, from the flags.
fn settings(args: &ServeArgs, local_addr: SocketAddr) -> Settings {
    Settings {
        client_id: args.client_id.clone(),
        api_key: args.api_key.clone(),
        auto_tenants: args.auto_tenants,
        tenant_ttl: Duration::from_secs(args.tenant_ttl),
        max_tenants: args.max_tenants,
        admin_token: args.admin_token.clone(),
        ready: std::sync::atomic::AtomicBool::new(false),
        public_url: args.public_url.clone(),
        allowed_hosts: args.allowed_host.clone(),
        cors_origins: args.cors_origin.clone(),
        local_addr,
        token_ttl: args.token_ttl(),
        callback_delay: Duration::from_millis(args.callback_delay_ms),
        stk_timeout: Duration::from_millis(args.stk_timeout_ms),
        max_body_bytes: args.max_body_bytes,
        body_timeout: Duration::from_millis(args.body_timeout_ms),
    }
}

/// The connection server's limits, the cap fitted to the open-files limit.
fn limits(args: &ServeArgs) -> server::ConnectionLimits {
    server::ConnectionLimits {
        header_timeout: Duration::from_millis(args.header_timeout_ms),
        idle_timeout: Duration::from_millis(args.idle_timeout_ms),
        max_connections: server::effective_max_connections(
            usize::try_from(args.max_connections).unwrap_or(usize::MAX),
        ),
    }
}

/// Lets queued results and callbacks run until `deadline`, then reports what is left.
async fn drain(state: &AppState, deadline: tokio::time::Instant) {
    loop {
        let left = state.scheduler.pending();
        let now = tokio::time::Instant::now();
        // A virtual clock will not move on its own: once nothing is due, nothing more will be.
        let settled = state.clock.is_virtual() && state.scheduler.wait_idle(Duration::ZERO).await;
        if left == 0 || settled || now >= deadline {
            if left > 0 {
                tracing::warn!(
                    jobs = left,
                    "shutting down with results or callbacks still queued"
                );
            }
            return;
        }
        state
            .scheduler
            .wait_idle((deadline - now).min(Duration::from_millis(50)))
            .await;
        tokio::time::sleep_until((now + Duration::from_millis(10)).min(deadline)).await;
    }
}

/// How often expired tokens and idle tenants are swept.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(30);

/// How long an expired or revoked token is still told apart from an unknown one.
const ENDED_TOKENS_KEPT_MS: i64 = 3_600_000;

/// Background sweeps that keep memory bounded when the sandbox runs for weeks: tokens that
/// ended over an hour ago, and auto-provisioned tenants unused past `--tenant-ttl`.
async fn housekeeping(state: AppState) {
    let mut every = tokio::time::interval(HOUSEKEEPING_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        // A sweep walks every token and tenant: on the blocking pool, not an async worker.
        let sweep = state.clone();
        let _ = tokio::task::spawn_blocking(move || housekeep(&sweep)).await;
    }
}

/// One sweep of [`housekeeping`].
pub fn housekeep(state: &AppState) {
    let purged = state
        .store
        .purge_tokens(|owner| state.clock.now_ms_of(owner), ENDED_TOKENS_KEPT_MS);
    if purged > 0 {
        tracing::debug!(purged, "dropped tokens that ended over an hour ago");
    }
    if state.settings.auto_tenants {
        for tenant in state.store.idle_tenants(state.settings.tenant_ttl) {
            state.store.drop_tenant(&tenant);
            state.clock.forget_tenant(&tenant);
            tracing::info!(client_id = %tenant, "dropped a tenant unused past --tenant-ttl");
        }
    }
}
