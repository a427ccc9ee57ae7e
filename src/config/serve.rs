//! `k2-sandbox serve`: every flag of the sandbox, with its `K2_SANDBOX_*` env twin and its
//! default.

use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};
use url::Url;

pub const DEFAULT_CLIENT_ID: &str = "sandbox-client-id";
pub const DEFAULT_CLIENT_SECRET: &str = "sandbox-client-secret";
pub const DEFAULT_API_KEY: &str = "sandbox-api-key";
pub const DEFAULT_INITIAL_BALANCE: &str = "1000000";
/// How many of each kind of history every application keeps (`--retention`).
pub const DEFAULT_RETENTION: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to bind. The Docker image sets 0.0.0.0.
    #[arg(long, env = "K2_SANDBOX_HOST", default_value = "127.0.0.1")]
    pub host: IpAddr,

    /// Port to bind; 0 picks a free one. The bound address is printed on start-up as
    /// `k2-sandbox listening on http://HOST:PORT`.
    #[arg(long, env = "K2_SANDBOX_PORT", default_value_t = 8080)]
    pub port: u16,

    /// Base URL used in `Location` headers and `_links`. Default: the request's `Host` header,
    /// falling back to http://HOST:PORT.
    #[arg(long, env = "K2_SANDBOX_PUBLIC_URL")]
    pub public_url: Option<Url>,

    /// OAuth client id of the configured application.
    #[arg(long, env = "K2_SANDBOX_CLIENT_ID", default_value = DEFAULT_CLIENT_ID)]
    pub client_id: String,

    /// OAuth client secret of the configured application.
    #[arg(long, env = "K2_SANDBOX_CLIENT_SECRET", default_value = DEFAULT_CLIENT_SECRET, hide_env_values = true)]
    pub client_secret: String,

    /// API key of the configured application: the HMAC-SHA256 key of every callback signature.
    #[arg(long, env = "K2_SANDBOX_API_KEY", default_value = DEFAULT_API_KEY, hide_env_values = true)]
    pub api_key: String,

    /// Provision a fresh, isolated application for any client_id/client_secret on its first
    /// token request (it signs with --api-key), so parallel CI jobs can share one process.
    #[arg(long, env = "K2_SANDBOX_AUTO_TENANTS", value_parser = parse_switch)]
    pub auto_tenants: bool,

    /// Require `Authorization: Bearer <token>` on the /_sandbox/ control plane (health stays
    /// open).
    #[arg(long, env = "K2_SANDBOX_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,

    /// Lifetime of access tokens, in seconds.
    #[arg(long, env = "K2_SANDBOX_TOKEN_TTL", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..=3_153_600_000))]
    pub token_ttl: u64,

    /// Seed for ids, references and tokens: the same seed and requests give the same values.
    #[arg(long, env = "K2_SANDBOX_SEED")]
    pub seed: Option<u64>,

    /// Start a virtual clock frozen at this RFC 3339 instant (e.g. 2026-05-01T10:00:00+03:00);
    /// it moves only when advanced through /_sandbox/clock/advance. Default: real time.
    #[arg(long, env = "K2_SANDBOX_CLOCK", value_parser = parse_instant)]
    pub clock: Option<DateTime<Utc>>,

    /// Milliseconds after a request that its result is decided and its callback queued.
    #[arg(long, env = "K2_SANDBOX_CALLBACK_DELAY_MS", default_value_t = 1000)]
    pub callback_delay_ms: u64,

    /// How long an STK prompt waiting for a control-plane answer (a `manual` phone) stays open
    /// before it fails as expired, in milliseconds.
    #[arg(long, env = "K2_SANDBOX_STK_TIMEOUT_MS", default_value_t = 60_000)]
    pub stk_timeout_ms: u64,

    /// A YAML scenario file to load at start-up (repeatable; the env twin takes a
    /// comma-separated list). A bad file stops the start with its file, line and field.
    #[arg(long = "scenario", env = "K2_SANDBOX_SCENARIO", value_delimiter = ',')]
    pub scenario: Vec<std::path::PathBuf>,

    /// A host name to answer besides IP addresses, localhost (and *.localhost), single-label
    /// names (a compose service) and --public-url's host (repeatable; the env twin takes a
    /// comma-separated list). Requests naming any other Host get a JSON 403: a web page whose
    /// domain re-resolves to this machine (DNS rebinding) reaches nothing.
    #[arg(
        long = "allowed-host",
        env = "K2_SANDBOX_ALLOWED_HOST",
        value_delimiter = ',',
        value_name = "HOST"
    )]
    pub allowed_host: Vec<String>,

    /// An origin (`http://localhost:3000`) whose web pages may call this sandbox from a
    /// browser: CORS headers and preflights for it, and its changes to the control plane and
    /// checkout are not refused as cross-site (repeatable; the env twin takes a
    /// comma-separated list). Without it no CORS header is sent. `*` is refused.
    #[arg(
        long = "cors-origin",
        env = "K2_SANDBOX_CORS_ORIGIN",
        value_delimiter = ',',
        value_name = "ORIGIN",
        value_parser = parse_origin
    )]
    pub cors_origin: Vec<String>,

    /// Send callbacks for one host (and port) to another, e.g.
    /// `localhost:5000=host.docker.internal:5000` for an app on the host of a sandbox in
    /// Docker (repeatable; the env twin takes a comma-separated list). The delivery log shows
    /// the URL asked for and the URL used.
    #[arg(
        long = "callback-rewrite",
        env = "K2_SANDBOX_CALLBACK_REWRITE",
        value_delimiter = ',',
        value_name = "FROM=TO"
    )]
    pub callback_rewrite: Vec<crate::domain::rewrite::Rewrite>,

    /// Delivery attempts per callback before it is marked exhausted.
    #[arg(long, env = "K2_SANDBOX_CALLBACK_ATTEMPTS", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub callback_attempts: u32,

    /// Timeout of one delivery attempt, in milliseconds.
    #[arg(long, env = "K2_SANDBOX_CALLBACK_TIMEOUT_MS", default_value_t = 5000)]
    pub callback_timeout_ms: u64,

    /// Callback delivery attempts in flight at once, and connections open to any one
    /// receiver; further due callbacks wait their turn (none is dropped; results are still
    /// decided on time). Under a sustained load callbacks keep pace with about four per
    /// client connection (the default, with 64 busy clients).
    #[arg(long, env = "K2_SANDBOX_CALLBACK_CONCURRENCY", default_value_t = 256, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100_000))]
    pub callback_concurrency: usize,

    /// Wait before the first retry, in milliseconds; doubled after each failed attempt.
    #[arg(long, env = "K2_SANDBOX_CALLBACK_BACKOFF_MS", default_value_t = 1000)]
    pub callback_backoff_ms: u64,

    /// Balance every account (the company's and each till's) starts with, in KES.
    #[arg(long, env = "K2_SANDBOX_INITIAL_BALANCE", default_value = DEFAULT_INITIAL_BALANCE)]
    pub initial_balance: rust_decimal::Decimal,

    /// Largest request body accepted, in bytes; larger bodies get 413.
    #[arg(long, env = "K2_SANDBOX_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,

    /// How many of each kind of history every application keeps: finished resources of each
    /// type, callback deliveries, ledger entries and SMS messages (and ten times as many live
    /// tokens). Past it the oldest finished ones are dropped (pending work never is, nor what a
    /// client read or used since it last came up); a GET on one says it was evicted.
    #[arg(long, env = "K2_SANDBOX_RETENTION", default_value_t = DEFAULT_RETENTION, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub retention: usize,

    /// With --auto-tenants: seconds an auto-provisioned application may go unused (no token,
    /// no request) before it is dropped with everything it holds.
    #[arg(long, env = "K2_SANDBOX_TENANT_TTL", default_value_t = 86_400, value_parser = clap::value_parser!(u64).range(1..))]
    pub tenant_ttl: u64,

    /// With --auto-tenants: the most auto-provisioned applications at once; a new one past it
    /// replaces the one unused the longest.
    #[arg(long, env = "K2_SANDBOX_MAX_TENANTS", default_value_t = 10_000, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub max_tenants: usize,

    /// How long a client may take to send a request's line and headers, in milliseconds:
    /// from the connection's start, or from the first byte after the previous response. Past
    /// it the connection is closed.
    #[arg(long, env = "K2_SANDBOX_HEADER_TIMEOUT_MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout_ms: u64,

    /// How long a client may take to send a request's body, in milliseconds; past it the
    /// answer is a JSON 408 and the connection is closed.
    #[arg(long, env = "K2_SANDBOX_BODY_TIMEOUT_MS", default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub body_timeout_ms: u64,

    /// How long a keep-alive connection may sit idle between requests, in milliseconds.
    #[arg(long, env = "K2_SANDBOX_IDLE_TIMEOUT_MS", default_value_t = 60_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout_ms: u64,

    /// Connections served at once; past it a new connection gets a JSON 503 (Retry-After: 1)
    /// and is closed. Lowered to fit the open-files limit (ulimit -n).
    #[arg(long, env = "K2_SANDBOX_MAX_CONNECTIONS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections: u64,

    /// Threads that answer requests and deliver callbacks (0: one per CPU). One keeps every
    /// request's latency even and leaves the machine's other cores to the application under
    /// test; more help only a load test on a machine with cores to spare.
    #[arg(long, env = "K2_SANDBOX_WORKERS", default_value_t = 1, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(0..=1024))]
    pub workers: usize,

    /// On SIGINT/SIGTERM, how long in-flight requests and queued callbacks may still finish,
    /// in milliseconds; the process exits within this plus about a second. A second signal
    /// exits at once.
    #[arg(long, env = "K2_SANDBOX_SHUTDOWN_GRACE_MS", default_value_t = 5000)]
    pub shutdown_grace_ms: u64,

    /// Log output format (logs go to stderr; filter with RUST_LOG, default info).
    #[arg(long, env = "K2_SANDBOX_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,
}

/// A switch's env twin, spelled as people spell it: `1`, `true`, `yes`, `on`, `y`, `t` turn it
/// on; `0`, `false`, `no`, `off`, `n`, `f` and the empty string leave it off.
fn parse_switch(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" | "y" | "t" => Ok(true),
        "" | "0" | "false" | "no" | "off" | "n" | "f" => Ok(false),
        other => Err(format!(
            "{other:?} is not a switch value: use 1, true, yes or on; 0, false, no, off or empty"
        )),
    }
}

fn parse_instant(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("expected an RFC 3339 instant like 2026-05-01T10:00:00+03:00: {e}"))
}

impl Default for ServeArgs {
    /// The documented defaults, independent of the process environment (tests rely on that).
    fn default() -> Self {
        Self {
            host: IpAddr::from([127, 0, 0, 1]),
            port: 8080,
            public_url: None,
            client_id: DEFAULT_CLIENT_ID.into(),
            client_secret: DEFAULT_CLIENT_SECRET.into(),
            api_key: DEFAULT_API_KEY.into(),
            auto_tenants: false,
            admin_token: None,
            token_ttl: 3600,
            seed: None,
            clock: None,
            callback_delay_ms: 1000,
            stk_timeout_ms: 60_000,
            scenario: Vec::new(),
            callback_rewrite: Vec::new(),
            allowed_host: Vec::new(),
            cors_origin: Vec::new(),
            callback_attempts: 5,
            callback_timeout_ms: 5000,
            callback_concurrency: 256,
            callback_backoff_ms: 1000,
            initial_balance: DEFAULT_INITIAL_BALANCE.parse().expect("a decimal"),
            max_body_bytes: 1024 * 1024,
            retention: DEFAULT_RETENTION,
            tenant_ttl: 86_400,
            max_tenants: 10_000,
            header_timeout_ms: 10_000,
            body_timeout_ms: 30_000,
            idle_timeout_ms: 60_000,
            max_connections: 1000,
            workers: 1,
            shutdown_grace_ms: 5000,
            log_format: LogFormat::Pretty,
        }
    }
}

impl ServeArgs {
    pub fn token_ttl(&self) -> Duration {
        Duration::from_secs(self.token_ttl)
    }

    /// The effective configuration for the start-up log, secrets masked.
    pub fn masked_summary(&self) -> String {
        format!(
            "host={} port={} public_url={} client_id={} client_secret={} api_key={} auto_tenants={} \
             admin_token={} \
             token_ttl={}s seed={} clock={} callback_delay_ms={} stk_timeout_ms={} callback_attempts={} \
             callback_timeout_ms={} callback_concurrency={} callback_backoff_ms={} initial_balance={} max_body_bytes={} \
             retention={} tenant_ttl={}s max_tenants={} \
             header_timeout_ms={} body_timeout_ms={} idle_timeout_ms={} max_connections={} \
             workers={} shutdown_grace_ms={} allowed_hosts={} cors_origins={} callback_rewrites={} \
             scenarios={}",
            self.host,
            self.port,
            self.public_url
                .as_ref()
                .map_or("(from Host header)".to_string(), Url::to_string),
            self.client_id,
            mask(&self.client_secret),
            mask(&self.api_key),
            self.auto_tenants,
            self.admin_token
                .as_deref()
                .map_or("(none)".to_string(), mask),
            self.token_ttl,
            self.seed.map_or("(random)".to_string(), |s| s.to_string()),
            self.clock.map_or("real".to_string(), |c| c.to_rfc3339()),
            self.callback_delay_ms,
            self.stk_timeout_ms,
            self.callback_attempts,
            self.callback_timeout_ms,
            self.callback_concurrency,
            self.callback_backoff_ms,
            self.initial_balance,
            self.max_body_bytes,
            self.retention,
            self.tenant_ttl,
            self.max_tenants,
            self.header_timeout_ms,
            self.body_timeout_ms,
            self.idle_timeout_ms,
            self.max_connections,
            self.workers,
            self.shutdown_grace_ms,
            listed(self.allowed_host.iter()),
            listed(self.cors_origin.iter()),
            listed(self.callback_rewrite.iter()),
            listed(self.scenario.iter().map(|p| p.display())),
        )
    }
}

/// A list flag's values for the start-up log, comma-separated, or `(none)`.
fn listed<T: std::fmt::Display>(values: impl Iterator<Item = T>) -> String {
    let text = values.map(|v| v.to_string()).collect::<Vec<_>>().join(",");
    if text.is_empty() {
        "(none)".into()
    } else {
        text
    }
}

/// Shows the first two characters of a secret, so a wrong one can be spotted but not read.
fn mask(secret: &str) -> String {
    let head: String = secret.chars().take(2).collect();
    format!("{head}***")
}

/// `--cors-origin`'s value as browsers write an `Origin`: `scheme://host[:port]`, lowercase,
/// without a default port. `*` is refused: it would let every page on the web drive the
/// sandbox.
pub fn parse_origin(text: &str) -> Result<String, String> {
    if text.trim() == "*" {
        return Err(
            "`*` would let every web page drive this sandbox: name each origin, e.g. \
             http://localhost:3000"
                .into(),
        );
    }
    let url = url::Url::parse(text.trim()).map_err(|e| {
        format!("{text:?} is not an origin ({e}): write scheme://host[:port], e.g. http://localhost:3000")
    })?;
    let bare = matches!(url.scheme(), "http" | "https")
        && url.host().is_some()
        && url.username().is_empty()
        && url.password().is_none()
        && url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none();
    if !bare {
        return Err(format!(
            "{text:?} is not an origin: write http(s)://host[:port] with no path, e.g. \
             http://localhost:3000"
        ));
    }
    Ok(url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::parse_origin;

    #[test]
    fn an_origin_is_written_as_browsers_send_it_and_anything_else_is_refused() {
        for (given, origin) in [
            ("http://localhost:3000", "http://localhost:3000"),
            ("http://LocalHost:3000/", "http://localhost:3000"),
            ("https://app.example.com:443", "https://app.example.com"),
            ("http://127.0.0.1:80", "http://127.0.0.1"),
            (" http://[::1]:5173 ", "http://[::1]:5173"),
        ] {
            assert_eq!(parse_origin(given).as_deref(), Ok(origin), "{given}");
        }
        for refused in [
            "*",
            "localhost:3000",
            "http://localhost:3000/app",
            "http://user@localhost:3000",
            "file:///tmp/page.html",
            "ftp://example.com",
            "http://localhost:3000?x=1",
        ] {
            assert!(parse_origin(refused).is_err(), "{refused}");
        }
    }
}
