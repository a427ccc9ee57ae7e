//! Command line and environment: one clap declaration gives the flags, their `K2_SANDBOX_*`
//! env twins, their defaults and `--help`. Nothing here touches the network or the store.

use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};
use url::Url;

pub const DEFAULT_CLIENT_ID: &str = "sandbox-client-id";
pub const DEFAULT_CLIENT_SECRET: &str = "sandbox-client-secret";
pub const DEFAULT_API_KEY: &str = "sandbox-api-key";
pub const DEFAULT_INITIAL_BALANCE: &str = "1000000";
/// How many of each kind of history every application keeps (`--retention`).
pub const DEFAULT_RETENTION: usize = 100_000;

#[derive(Debug, Parser)]
#[command(
    name = "k2-sandbox",
    version,
    args_conflicts_with_subcommands = true,
    about = "A local emulator of the Kopo Kopo K2 Connect payments API",
    long_about = "A local emulator of the Kopo Kopo K2 Connect payments API: every endpoint, \
                  signed asynchronous callbacks and webhooks, a ledger, and a control plane \
                  under /_sandbox/ that the client commands drive. Without a subcommand it \
                  runs `serve`."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Flags of `serve`, accepted without the subcommand too.
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the emulator (the default).
    Serve(ServeArgs),
    /// Exit 0 if a running sandbox answers its health check (for container health checks).
    Healthcheck(ClientArgs),
    /// Simulate real-world activity and fire its webhook, e.g. `trigger buygoods --amount 100`.
    Trigger(TriggerArgs),
    /// Answer a pending STK push as the customer: `stk pay|wrong_pin|cancel|timeout|
    /// unreachable|insufficient_funds <incoming payment id | phone number>`.
    Stk(StkArgs),
    /// Read or move the sandbox clock: `clock show`, `clock advance 7d`, `clock set <instant>`.
    Clock(ClockArgs),
    /// Forget every resource, delivery and balance (or one application's with --client-id).
    Reset(ResetArgs),
    /// The delivery log: `callbacks [list]`, `callbacks show <id>`, `callbacks replay <id>`,
    /// `callbacks replay --exhausted`.
    Callbacks(CallbacksArgs),
    /// The request journal: `requests [--path /api/v2/send_money] [--status 400] [--follow]`.
    Requests(RequestsArgs),
    /// Scenarios in a running sandbox: `scenario load <file>...`, `scenario list`,
    /// `scenario unload <name>`, `scenario export > world.yaml`.
    Scenario(ScenarioArgs),
    /// The verdicts of the receiver probes scenarios sent.
    Probes(ListArgs),
    /// Balances of an application's accounts; `balances set <amount> [--till <till>]`.
    Balances(BalancesArgs),
    /// STK prompts waiting for the customer's answer.
    Prompts(PromptsArgs),
    /// The webhook events fired.
    Events(EventsArgs),
    /// Everything that happens, live, a line each: requests, results, callback attempts,
    /// webhooks, SMS, prompts, clock moves, scenarios (`--kind request,callback` to narrow).
    Watch(WatchArgs),
    /// Print a shell completion script: `completions bash|zsh|fish|elvish|powershell`.
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Start a sandbox, run CMD against it, verify what the app did, report: `run [serve
    /// flags] [--scenario FILE]... [--junit FILE] -- CMD [ARGS]...`. CMD gets K2_BASE_URL,
    /// K2_SANDBOX_URL, K2_CLIENT_ID, K2_CLIENT_SECRET and K2_API_KEY. Exits 0 when all
    /// passed, 1 when an expectation failed, 2 for a configuration or usage error, else CMD's
    /// own code (126/127 when it could not run, 128+n for signal n).
    Run(RunArgs),
    /// Judge the loaded scenarios' expectations in a running sandbox: a verdict table, JUnit
    /// with --junit; exits 1 if one failed.
    Verify(VerifyArgs),
    /// Print the OpenAPI 3.1 document of everything the sandbox serves (JSON, or --yaml).
    Openapi(OpenapiArgs),
    /// Check YAML scenario files without running them: each problem with file, line and field.
    Validate {
        /// The files to check.
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct OpenapiArgs {
    /// YAML instead of JSON.
    #[arg(long)]
    pub yaml: bool,
    /// The server the document names (a sandbox's base URL).
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080")]
    pub server: String,
}

/// How the CLI reaches a running sandbox. Global: accepted anywhere after the command,
/// including after an action such as `clock advance 7d`. The ids differ from `serve`'s
/// flags of the same names, so that no value of one leaks into the other.
#[derive(Debug, Clone, Args)]
pub struct ClientArgs {
    /// Base URL of the running sandbox.
    #[arg(
        long = "url",
        id = "client_url",
        value_name = "URL",
        global = true,
        env = "K2_SANDBOX_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub url: Url,

    /// The sandbox's --admin-token, if it has one.
    #[arg(
        long = "admin-token",
        id = "client_admin_token",
        value_name = "TOKEN",
        global = true,
        env = "K2_SANDBOX_ADMIN_TOKEN",
        hide_env_values = true
    )]
    pub admin_token: Option<String>,
}

#[derive(Debug, Args)]
pub struct TriggerArgs {
    /// buygoods, buygoods-reversed, b2b, b2b-reversed, settlement, customer-created, card,
    /// card-voided, card-reversed (or a full event type such as buygoods_transaction_received).
    pub event: String,
    /// Till the money goes to (default 000000).
    #[arg(long)]
    pub till: Option<String>,
    /// Amount in KES (default 100).
    #[arg(long)]
    pub amount: Option<String>,
    /// The payer's or customer's phone number (default +254712345678).
    #[arg(long)]
    pub phone: Option<String>,
    #[arg(long)]
    pub first_name: Option<String>,
    #[arg(long)]
    pub middle_name: Option<String>,
    #[arg(long)]
    pub last_name: Option<String>,
    /// The paying till, for b2b (default 000001).
    #[arg(long)]
    pub sending_till: Option<String>,
    /// The transaction a reversal reverses (id or M-PESA reference); default: a new one.
    #[arg(long)]
    pub transaction: Option<String>,
    /// Masked card number, for card events.
    #[arg(long)]
    pub card_number: Option<String>,
    /// The application it happens to (default: the sandbox's configured one).
    #[arg(long)]
    pub client_id: Option<String>,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, Args)]
pub struct StkArgs {
    /// pay, wrong_pin, cancel, timeout, unreachable or insufficient_funds (`-` for `_` works too).
    pub answer: String,
    /// The incoming payment's id, or a phone number (its latest pending prompt).
    pub target: String,
    /// With a phone number: only this application's prompts.
    #[arg(long)]
    pub client_id: Option<String>,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, Args)]
pub struct ClockArgs {
    #[command(subcommand)]
    pub action: ClockAction,
    /// One application's own clock instead of the shared one.
    #[arg(
        long = "client-id",
        id = "clock_client_id",
        value_name = "CLIENT_ID",
        global = true
    )]
    pub client_id: Option<String>,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, Subcommand)]
pub enum ClockAction {
    /// Print the sandbox's time.
    Show,
    /// Move the clock forward by a duration such as 90s, 15m, 3h or 7d.
    Advance { by: String },
    /// Move the clock forward to an RFC 3339 instant.
    Set { to: String },
}

#[derive(Debug, Args)]
pub struct ResetArgs {
    /// Reset only this application's world.
    #[arg(long)]
    pub client_id: Option<String>,
    #[command(flatten)]
    pub client: ClientArgs,
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

/// What every listing command takes: how to reach the sandbox and how to print.
#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Only this application's.
    #[arg(
        long = "client-id",
        id = "list_client_id",
        value_name = "CLIENT_ID",
        global = true
    )]
    pub client_id: Option<String>,
    /// The sandbox's JSON answer instead of a table, for scripts.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, Args)]
pub struct CallbacksArgs {
    #[command(subcommand)]
    pub action: Option<CallbacksAction>,
    /// pending, delivered, exhausted or dropped.
    #[arg(long, global = true)]
    pub status: Option<String>,
    /// Only deliveries made at or after this RFC 3339 instant.
    #[arg(long, global = true)]
    pub since: Option<String>,
    /// How many, newest first (at most 1000).
    #[arg(long, global = true, default_value_t = 50)]
    pub limit: usize,
    #[command(flatten)]
    pub list: ListArgs,
}

#[derive(Debug, Subcommand)]
pub enum CallbacksAction {
    /// The delivery log, newest first (the default).
    List,
    /// One delivery: its exact body, signature and every attempt.
    Show { id: String },
    /// Send a delivery again, byte for byte; with --exhausted, every exhausted one not
    /// replayed yet.
    Replay {
        /// The delivery to replay.
        #[arg(required_unless_present = "exhausted")]
        id: Option<String>,
        /// Replay every exhausted delivery (of --client-id's application, if given).
        #[arg(long, conflicts_with = "id")]
        exhausted: bool,
    },
}

#[derive(Debug, Args)]
pub struct RequestsArgs {
    /// Only paths that start with this, e.g. /api/v2/incoming_payments.
    #[arg(long)]
    pub path: Option<String>,
    /// Only answers with this status.
    #[arg(long)]
    pub status: Option<u16>,
    /// Only this method.
    #[arg(long)]
    pub method: Option<String>,
    /// Only requests at or after this RFC 3339 instant.
    #[arg(long)]
    pub since: Option<String>,
    /// Who sent them: app (the API's requests), customer (checkout pages and their polls),
    /// control (control-plane changes), all; or a comma-separated list.
    #[arg(long, default_value = "app")]
    pub by: String,
    /// How many, newest first (at most 1000).
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Keep printing new requests as they are answered, until interrupted.
    #[arg(long, short)]
    pub follow: bool,
    #[command(flatten)]
    pub list: ListArgs,
}

#[derive(Debug, Args)]
pub struct ScenarioArgs {
    #[command(subcommand)]
    pub action: ScenarioAction,
    #[command(flatten)]
    pub list: ListArgs,
}

#[derive(Debug, Subcommand)]
pub enum ScenarioAction {
    /// Load scenario files into the running sandbox (each all or nothing; a loaded name is
    /// replaced).
    Load {
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
    /// The loaded scenarios.
    List,
    /// Unload a scenario: its rules, faults and pending moments go; the world it made stays.
    Unload { name: String },
    /// Print the world (applications, tills, balances, accounts, recipients, subscriptions,
    /// handsets, transactions received) as a scenario file that loads back into it.
    Export {
        /// The exported scenario's name.
        #[arg(long, default_value = "exported")]
        name: String,
    },
}

#[derive(Debug, Args)]
pub struct BalancesArgs {
    #[command(subcommand)]
    pub action: Option<BalancesAction>,
    #[command(flatten)]
    pub list: ListArgs,
}

#[derive(Debug, Subcommand)]
pub enum BalancesAction {
    /// Set an account's balance outright: the company's, or a till's with --till.
    Set {
        /// In KES, e.g. 1500 or 99.50.
        amount: String,
        #[arg(long)]
        till: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct PromptsArgs {
    /// Only prompts sent to this phone number.
    #[arg(long)]
    pub phone: Option<String>,
    #[command(flatten)]
    pub list: ListArgs,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Only these kinds, comma-separated: request, resource, callback, webhook, sms, prompt,
    /// clock, scenario.
    #[arg(long)]
    pub kind: Option<String>,
    #[command(flatten)]
    pub list: ListArgs,
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Only events of this type, e.g. buygoods_transaction_received.
    #[arg(long)]
    pub topic: Option<String>,
    /// How many, newest first (at most 1000).
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    #[command(flatten)]
    pub list: ListArgs,
}

/// What the binary was asked to do.
pub enum Invocation {
    Serve(ServeArgs),
    Run(Box<RunArgs>),
    Client(Command),
}

impl Invocation {
    /// The runtime's worker threads: the sandbox's `--workers`, one for a client command.
    pub fn workers(&self) -> usize {
        match self {
            Self::Serve(args) => args.workers,
            Self::Run(args) => args.serve.workers,
            Self::Client(_) => 1,
        }
    }
}

impl Cli {
    /// Serve (with the flags given before or after the optional `serve`), or a client command.
    pub fn invocation(self) -> Invocation {
        match self.command {
            Some(Command::Serve(args)) => Invocation::Serve(args),
            Some(Command::Run(args)) => Invocation::Run(Box::new(args)),
            None => Invocation::Serve(self.serve),
            Some(other) => Invocation::Client(other),
        }
    }
}

/// `k2-sandbox run`: the sandbox's flags, the reports, and the command after `--`. It binds a
/// free port unless told one.
#[derive(Debug, Args)]
#[command(mut_arg("port", |a| a
    .default_value("0")
    .help("Port to bind; by default a free one, given to the command in K2_BASE_URL")))]
#[command(after_help = RUN_EXIT_CODES)]
pub struct RunArgs {
    #[command(flatten)]
    pub serve: ServeArgs,

    /// Write the verdicts as JUnit XML: one suite per scenario, one case per expectation,
    /// one for the command.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<std::path::PathBuf>,

    /// Write the verdicts as JSON.
    #[arg(long, value_name = "FILE")]
    pub report: Option<std::path::PathBuf>,

    /// After the command exits, how long at most to let due work (results, callbacks and
    /// their retries) finish before judging, e.g. 10s.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub settle: std::time::Duration,

    /// Where the sandbox's log goes (`-`: stderr, with the command's output).
    #[arg(long, value_name = "FILE", default_value = "k2-sandbox.log")]
    pub log_file: std::path::PathBuf,

    /// The command to run and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<std::ffi::OsString>,
}

/// `run --help`'s last words: what its exit code says.
const RUN_EXIT_CODES: &str = "Exit codes:
  0        the command succeeded and every expectation passed
  1        an expectation failed (the app did something wrong)
  2        a configuration or usage error: a bad flag or scenario, a sandbox that could not
           start (a busy port), a report that could not be written
  N        the command failed with its own code N
  126/127  the command could not be run / was not found (as a shell says)
  128+n    signal n ended the command";

fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    crate::clock::parse_span(text)
}

/// `k2-sandbox verify`: where the sandbox is and which reports to write.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Write the verdicts as JUnit XML: one suite per scenario, one case per expectation.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<std::path::PathBuf>,

    /// Write the verdicts as JSON.
    #[arg(long, value_name = "FILE")]
    pub report: Option<std::path::PathBuf>,

    /// Print the verdicts as JSON instead of a table.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub client: ClientArgs,
}

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
             workers={} shutdown_grace_ms={}",
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
        )
    }
}

/// Shows the first two characters of a secret, so a wrong one can be spotted but not read.
fn mask(secret: &str) -> String {
    let head: String = secret.chars().take(2).collect();
    format!("{head}***")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_declaration_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults_match_the_clap_defaults() {
        let Invocation::Serve(parsed) = Cli::try_parse_from(["k2-sandbox"])
            .expect("no flags parse")
            .invocation()
        else {
            panic!("no subcommand means serve");
        };
        let default = ServeArgs::default();
        // Env twins may be set by whoever runs the tests; compare only what they cannot reach.
        if std::env::vars().all(|(k, _)| !k.starts_with("K2_SANDBOX_")) {
            assert_eq!(parsed.masked_summary(), default.masked_summary());
        }
    }

    #[test]
    fn secrets_are_masked() {
        let summary = ServeArgs::default().masked_summary();
        assert!(!summary.contains(DEFAULT_CLIENT_SECRET));
        assert!(!summary.contains(DEFAULT_API_KEY));
    }
}
