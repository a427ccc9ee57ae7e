//! `k2-sandbox run -- CMD`: a sandbox in this process, CMD run against it with the address and
//! credentials in its environment, then the due work let finish, the loaded scenarios'
//! expectations judged, the verdicts printed and reported, and the sandbox stopped.
//!
//! Exit code (so that CI can tell "the app is wrong" from "the pipeline is misconfigured"):
//! 0 when CMD succeeded and every expectation passed; 1 when an expectation failed; 2 for a
//! configuration or usage error (a bad flag or scenario, a sandbox that could not start, a
//! report that could not be written); CMD's own code when it failed, 126 when it could not be
//! run and 127 when it was not found (as a shell says), 128 + n when signal n ended it.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::config::RunArgs;
use crate::report::CommandOutcome;
use crate::service::AppState;
use crate::signals::Signals;

/// A sandbox serving (`crate::Sandbox::run_until` spawned): its state, the sender that stops
/// it, and its task.
pub struct Serving {
    pub state: AppState,
    pub stop: tokio::sync::oneshot::Sender<()>,
    pub task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// Runs the command against the serving sandbox, judges, reports and stops it. `main` builds
/// the sandbox after [`start_logging`] (building logs the scenarios it loads).
pub async fn run(args: RunArgs, serving: Serving) -> anyhow::Result<ExitCode> {
    let Serving { state, stop, task } = serving;
    let mut signals = Signals::new()?;
    let addr = state.settings.local_addr;
    let base = browsable_base(addr, args.serve.public_url.as_ref());
    while !state
        .settings
        .ready
        .load(std::sync::atomic::Ordering::Acquire)
    {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let shown = shell_words(&args.command);
    eprintln!("k2-sandbox: listening on {base}; running {shown}");

    let outcome = run_command(&args, &base, &mut signals).await;
    let settled = settle(&state, args.settle).await;
    if !settled {
        eprintln!(
            "k2-sandbox: work still due after --settle {}: judged as it stands",
            humantime::format_duration(args.settle)
        );
    }
    let report = crate::service::verify::verify(&state);
    println!("\n{}", crate::report::verdicts(&report, Some(&outcome)));
    let written = crate::report::write(
        &report,
        Some(&outcome),
        args.junit.as_deref(),
        args.report.as_deref(),
    );

    let _ = stop.send(());
    task.await.context("the sandbox's task")??;
    if let Err(e) = written {
        eprintln!("k2-sandbox: error: {e:#}");
        return Ok(ExitCode::from(USAGE));
    }
    Ok(exit_code(&outcome, report.passed))
}

/// A configuration or usage error: a bad flag (clap's own code), a bad scenario, a sandbox
/// that could not start, a report that could not be written.
pub const USAGE: u8 = 2;

/// `run`'s exit code: see the module's documentation.
fn exit_code(outcome: &CommandOutcome, passed: bool) -> ExitCode {
    match (outcome.code, outcome.signal) {
        (Some(0), _) if passed => ExitCode::SUCCESS,
        (Some(0), _) => ExitCode::from(1),
        (Some(code), _) => ExitCode::from(u8::try_from(code).unwrap_or(1).max(1)),
        (None, Some(signal)) => ExitCode::from(signal.saturating_add(128)),
        (None, None) => ExitCode::from(1),
    }
}

/// The sandbox's log goes to `--log-file`, or stderr for `-`.
pub fn start_logging(args: &RunArgs) -> anyhow::Result<()> {
    let format = args.serve.log_format;
    if args.log_file.as_os_str() == "-" {
        crate::telemetry::init(format, crate::telemetry::non_blocking_stderr());
    } else {
        let file = std::fs::File::create(&args.log_file)
            .with_context(|| format!("creating the log file {}", args.log_file.display()))?;
        crate::telemetry::init_with(format, crate::telemetry::non_blocking(file), false);
    }
    Ok(())
}

/// Runs the command with the sandbox's address and credentials in its environment, its
/// output passed through, and SIGINT/SIGTERM passed on to it, until it exits.
async fn run_command(args: &RunArgs, base: &str, signals: &mut Signals) -> CommandOutcome {
    let started = Instant::now();
    let shown = shell_words(&args.command);
    let mut child = match command(args, base).spawn() {
        Ok(child) => child,
        Err(e) => {
            // As a shell answers: 127 not found, 126 found but not runnable.
            let (code, why) = if e.kind() == std::io::ErrorKind::NotFound {
                (127, "not found")
            } else {
                (126, "could not be run")
            };
            return CommandOutcome {
                command: shown,
                code: Some(code),
                signal: None,
                error: Some(format!("{why}: {e}")),
                duration: started.elapsed(),
            };
        }
    };
    let status = loop {
        tokio::select! {
            status = child.wait() => break status,
            signal = signals.next() => pass_on(child.id(), signal),
        }
    };
    let (code, signal, error) = match status {
        Ok(status) => {
            #[cfg(unix)]
            let signal = std::os::unix::process::ExitStatusExt::signal(&status);
            #[cfg(not(unix))]
            let signal: Option<i32> = None;
            let error = signal.map(|s| format!("ended by signal {s}"));
            (
                status.code(),
                signal.and_then(|s| u8::try_from(s).ok()),
                error,
            )
        }
        Err(e) => (None, None, Some(format!("could not wait for it: {e}"))),
    };
    CommandOutcome {
        command: shown,
        code,
        signal,
        error,
        duration: started.elapsed(),
    }
}

/// The command, with the sandbox's address and credentials in its environment, in a process
/// group of its own: a Ctrl-C at the terminal reaches this process, which passes it on once
/// (in the terminal's group the command would get it twice).
fn command(args: &RunArgs, base: &str) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(&args.command[0]);
    command
        .args(&args.command[1..])
        .env("K2_BASE_URL", base)
        .env("K2_SANDBOX_URL", base)
        .env("K2_CLIENT_ID", &args.serve.client_id)
        .env("K2_CLIENT_SECRET", &args.serve.client_secret)
        .env("K2_API_KEY", &args.serve.api_key);
    if let Some(token) = &args.serve.admin_token {
        command.env("K2_SANDBOX_ADMIN_TOKEN", token);
    }
    #[cfg(unix)]
    command.process_group(0);
    command
}

/// Sends `signal` (`SIGINT` or `SIGTERM`) to the command's process group.
fn pass_on(pid: Option<u32>, signal: &str) {
    #[cfg(unix)]
    {
        use nix::sys::signal::{Signal, killpg};
        use nix::unistd::Pid;
        let signal = if signal == "SIGINT" {
            Signal::SIGINT
        } else {
            Signal::SIGTERM
        };
        if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
            let _ = killpg(Pid::from_raw(pid), signal);
        }
    }
    #[cfg(not(unix))]
    let _ = (pid, signal);
}

/// Lets the work due within `limit` finish (results, callbacks and their retries); true if
/// nothing was left. On a virtual clock nothing falls due by waiting: only what is due now.
async fn settle(state: &AppState, limit: Duration) -> bool {
    if state.clock.is_virtual() {
        return state.scheduler.wait_idle(limit).await;
    }
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if !state.scheduler.busy_within(left) {
            return true;
        }
        if left.is_zero() {
            return false;
        }
        tokio::time::sleep(left.min(Duration::from_millis(20))).await;
    }
}

/// The command line as a person would type it.
fn shell_words(words: &[std::ffi::OsString]) -> String {
    words
        .iter()
        .map(|w| {
            let w = w.to_string_lossy();
            if !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c))
            {
                w.into_owned()
            } else {
                format!("'{}'", w.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The sandbox's base URL as a browser or a client on this machine opens it: `--public-url`,
/// or the bound address with `127.0.0.1` for an unspecified one (`0.0.0.0`).
pub fn browsable_base(addr: std::net::SocketAddr, public_url: Option<&url::Url>) -> String {
    public_url.map_or_else(
        || {
            let ip = if addr.ip().is_unspecified() {
                std::net::IpAddr::from([127, 0, 0, 1])
            } else {
                addr.ip()
            };
            format!("http://{}", std::net::SocketAddr::new(ip, addr.port()))
        },
        |u| u.as_str().trim_end_matches('/').to_string(),
    )
}
