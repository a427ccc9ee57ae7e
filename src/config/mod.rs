//! Command line and environment: one clap declaration gives the flags, their `K2_SANDBOX_*`
//! env twins, their defaults and `--help`. Nothing here touches the network or the store.
//! `serve.rs` holds the sandbox's flags, `run.rs` those of `run` and `verify`, `client.rs`
//! the client commands'.

mod client;
mod run;
mod serve;

use clap::{Parser, Subcommand};

pub use self::client::{
    BalancesAction, BalancesArgs, CallbacksAction, CallbacksArgs, ClientArgs, ClockAction,
    ClockArgs, EventsArgs, HandsetsAction, HandsetsArgs, ListArgs, OpenapiArgs, PageArgs,
    PayLinkArgs, PromptsArgs, RequestsArgs, ResetArgs, ScenarioAction, ScenarioArgs, SmsArgs,
    StkArgs, TriggerArgs, WatchArgs,
};
pub use self::run::{RunArgs, VerifyArgs};
pub use self::serve::{
    DEFAULT_API_KEY, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_INITIAL_BALANCE,
    DEFAULT_RETENTION, LogFormat, ServeArgs,
};

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
    /// How phones answer STK prompts: `handsets` lists the settings and magic numbers,
    /// `handsets set <phone> <behaviour>` changes one.
    Handsets(HandsetsArgs),
    /// Pay a payment link as a customer on its page would: `pay-link <link id> [--phone N]`.
    PayLink(PayLinkArgs),
    /// Every credit and debit of an application's accounts, newest first.
    Ledger(PageArgs),
    /// The transaction SMS notifications sent, newest first.
    Sms(SmsArgs),
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
    fn the_summary_shows_list_flags_as_they_were_read() {
        let Invocation::Serve(parsed) = Cli::try_parse_from([
            "k2-sandbox",
            "--allowed-host",
            "a.example",
            "--cors-origin",
            "http://LocalHost:3000/",
            "--callback-rewrite",
            "localhost:5000=app:5000",
        ])
        .expect("flags parse")
        .invocation() else {
            panic!("no subcommand means serve");
        };
        let summary = parsed.masked_summary();
        assert!(
            summary.contains(
                "allowed_hosts=a.example cors_origins=http://localhost:3000 \
                 callback_rewrites=localhost:5000=app:5000 scenarios=(none)"
            ),
            "{summary}"
        );
    }

    #[test]
    fn secrets_are_masked() {
        let summary = ServeArgs::default().masked_summary();
        assert!(!summary.contains(DEFAULT_CLIENT_SECRET));
        assert!(!summary.contains(DEFAULT_API_KEY));
    }
}
