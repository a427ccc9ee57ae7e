//! The client commands' flags: how to reach a running sandbox and what each command asks of it.

use clap::{Args, Subcommand};
use url::Url;

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
    /// card-voided, card-reversed, m2m (or a full event type such as
    /// buygoods_transaction_received).
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
    /// The paying merchant's name, for m2m (default Jane Flowers).
    #[arg(long)]
    pub sending_merchant: Option<String>,
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
        /// Write the applications' client secrets and API keys too (left out by default: the
        /// file then loads where its applications exist, as after a reset).
        #[arg(long)]
        with_secrets: bool,
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

#[derive(Debug, Args)]
pub struct HandsetsArgs {
    #[command(subcommand)]
    pub action: Option<HandsetsAction>,
    #[command(flatten)]
    pub list: ListArgs,
}

#[derive(Debug, Subcommand)]
pub enum HandsetsAction {
    /// How a phone answers its STK prompts from now on: pay, wrong_pin, cancel, timeout,
    /// unreachable, insufficient_funds, or manual (it waits for `stk <answer> <phone>`).
    /// With --client-id, only that application's prompts.
    Set { phone: String, behaviour: String },
}

#[derive(Debug, Args)]
pub struct PayLinkArgs {
    /// The payment link's id (the last part of its Location).
    pub link: String,
    /// The paying customer's phone number.
    #[arg(long, default_value = "+254712345678")]
    pub phone: String,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, Args)]
pub struct PageArgs {
    /// How many, newest first (at most 1000).
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    #[command(flatten)]
    pub list: ListArgs,
}

#[derive(Debug, Args)]
pub struct SmsArgs {
    /// Only messages to this phone number.
    #[arg(long)]
    pub phone: Option<String>,
    #[command(flatten)]
    pub page: PageArgs,
}
