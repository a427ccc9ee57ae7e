//! The client commands: drive a running sandbox through its control plane (`--url`) with
//! readable output. Exit code 0 on success, 1 when the sandbox refuses, 2 when it cannot be
//! reached. One file per command group; `client.rs` talks to the sandbox, `show.rs` shows.

mod callbacks;
mod client;
mod customers;
mod requests;
mod scenarios;
mod show;
mod watch;
mod world;

use std::process::ExitCode;

use self::client::{Client, Failure, Outcome};
use self::show::line;
use crate::config::Command;

/// Runs a client command, printing its result; the exit code says how it went.
pub async fn run(command: Command) -> anyhow::Result<ExitCode> {
    Ok(match execute(command).await? {
        Ok(text) => {
            line(format_args!("{text}"));
            ExitCode::SUCCESS
        }
        Err(Failure::Refused(message)) => {
            for line in message.lines() {
                eprintln!("error: {line}");
            }
            ExitCode::from(1)
        }
        Err(Failure::Failed(output)) => {
            line(format_args!("{output}"));
            ExitCode::from(1)
        }
        Err(Failure::Unreachable(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    })
}

async fn execute(command: Command) -> anyhow::Result<Outcome> {
    use self::callbacks::callbacks;
    use self::customers::{handsets, ledger, pay_link, sms};
    use self::requests::requests;
    use self::scenarios::{probes, scenario, validate, verify};
    use self::watch::watch;
    use self::world::{balances, clock, events, healthcheck, prompts, reset, stk, trigger};
    Ok(match command {
        Command::Serve(_) | Command::Run(_) => unreachable!("not a client command"),
        Command::Verify(v) => verify(&Client::new(&v.client)?, v).await,
        Command::Validate { files } => validate(&files),
        Command::Healthcheck(args) => healthcheck(&Client::new(&args)?).await,
        Command::Trigger(t) => trigger(&Client::new(&t.client)?, t).await,
        Command::Stk(s) => stk(&Client::new(&s.client)?, s).await,
        Command::Clock(c) => clock(&Client::new(&c.client)?, c).await,
        Command::Reset(r) => reset(&Client::new(&r.client)?, r).await,
        Command::Callbacks(c) => callbacks(&Client::new(&c.list.client)?, c).await,
        Command::Requests(r) => requests(&Client::new(&r.list.client)?, r).await,
        Command::Scenario(s) => scenario(&Client::new(&s.list.client)?, s).await,
        Command::Probes(p) => probes(&Client::new(&p.client)?, p).await,
        Command::Balances(b) => balances(&Client::new(&b.list.client)?, b).await,
        Command::Prompts(p) => prompts(&Client::new(&p.list.client)?, p).await,
        Command::Events(e) => events(&Client::new(&e.list.client)?, e).await,
        Command::Handsets(h) => handsets(&Client::new(&h.list.client)?, h).await,
        Command::PayLink(p) => pay_link(&Client::new(&p.client)?, p).await,
        Command::Ledger(l) => ledger(&Client::new(&l.list.client)?, l).await,
        Command::Sms(s) => sms(&Client::new(&s.page.list.client)?, s).await,
        Command::Watch(w) => watch(&Client::new(&w.list.client)?, w).await,
        Command::Completions { shell } => Ok(completions(shell)),
        Command::Openapi(o) => Ok(openapi(&o)),
    })
}

/// The OpenAPI document, as JSON or YAML.
fn openapi(args: &crate::config::OpenapiArgs) -> String {
    let doc = crate::http::openapi::document(&args.server);
    if args.yaml {
        crate::http::openapi::yaml(&doc).trim_end().to_string()
    } else {
        serde_json::to_string_pretty(&doc).expect("a JSON value serialises")
    }
}

/// A shell completion script for every command and flag.
fn completions(shell: clap_complete::Shell) -> String {
    use clap::CommandFactory as _;
    let mut script = Vec::new();
    clap_complete::generate(
        shell,
        &mut crate::config::Cli::command(),
        "k2-sandbox",
        &mut script,
    );
    String::from_utf8_lossy(&script).trim_end().to_string()
}
