//! The `k2-sandbox` binary: parse the CLI, set up logging, build, serve until a signal.

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context as _;
use clap::Parser as _;
use k2_sandbox::Sandbox;
use k2_sandbox::config::{Cli, Invocation, ServeArgs};
use k2_sandbox::signals::Signals;

/// mimalloc: the sandbox allocates and frees small objects at a high rate from several
/// threads, where glibc's malloc spent a quarter of a create's CPU. Its 2.x line (the `v2`
/// feature): Rust asks every allocation with an alignment, and 3.x serves an aligned block
/// over 1 KiB that is not a power of two (a request's boxed futures, hyper's buffers) by
/// over-allocating it, on its slow path. Off (the system's allocator) without the default
/// `mimalloc` feature, for heap profilers.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<ExitCode> {
    let invocation = Cli::parse().invocation();
    let runtime = runtime(invocation.workers()).context("starting the async runtime")?;
    let outcome = runtime.block_on(async {
        match invocation {
            Invocation::Serve(args) => serve(args).await.map(|()| ExitCode::SUCCESS),
            Invocation::Run(args) => run(*args).await,
            Invocation::Client(command) => k2_sandbox::cli::run(command).await,
        }
    });
    // Exit without waiting on the blocking pool: a scenario still parsing there has nobody
    // left to answer, and must not hold the process past its shutdown grace.
    runtime.shutdown_background();
    // Whatever ended the process, the queued log lines are written out before it exits.
    k2_sandbox::telemetry::flush();
    outcome
}

/// The async runtime: `workers` threads (0: one per CPU the process may use) answer requests
/// and deliver callbacks, named `k2-sandbox-rt`; its other threads, started on demand for
/// blocking work (resolving the bind address, parsing a scenario), are `k2-sandbox-blk`. The
/// workers are the first threads it starts.
///
/// A worker takes tasks from the runtime's shared queue every fourth task. A worker's own
/// queue holds 256 tasks; under load, with the callback attempts in flight beside the
/// connections, it overflows into the shared queue, and a task there waited while every task
/// woken since went first: tokio's own interval (tuned from the tasks' mean poll time) gave
/// a 26-28 ms create p99 at 64 connections where 4 gives 15-16 ms, and 61 gave 207 ms.
fn runtime(workers: usize) -> std::io::Result<tokio::runtime::Runtime> {
    let workers = match workers {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    };
    let started = AtomicUsize::new(0);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name_fn(move || {
            let worker = started.fetch_add(1, Ordering::Relaxed) < workers;
            if worker {
                "k2-sandbox-rt"
            } else {
                "k2-sandbox-blk"
            }
            .to_string()
        })
        .global_queue_interval(4)
        .enable_all()
        .build()
}

/// `k2-sandbox run`: the log set up, the sandbox built and serving, then `run::run`.
async fn run(args: k2_sandbox::config::RunArgs) -> anyhow::Result<ExitCode> {
    let built = match k2_sandbox::run::start_logging(&args) {
        Ok(()) => Sandbox::build(args.serve.clone()).await,
        Err(e) => Err(e),
    };
    // Not the app's failure: the run is misconfigured (a bad scenario, a busy port).
    let sandbox = match built {
        Ok(sandbox) => sandbox,
        Err(e) => {
            eprintln!("k2-sandbox: error: {e:#}");
            return Ok(ExitCode::from(k2_sandbox::run::USAGE));
        }
    };
    let state = sandbox.state();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(sandbox.run_until(async move {
        let _ = stopped.await;
    }));
    let serving = k2_sandbox::run::Serving { state, stop, task };
    k2_sandbox::run::run(args, serving).await
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    k2_sandbox::telemetry::init(
        args.log_format,
        k2_sandbox::telemetry::non_blocking_stderr(),
    );
    tracing::info!("starting k2-sandbox {}", env!("CARGO_PKG_VERSION"));
    tracing::debug!(config = %args.masked_summary(), "configuration");
    let (public_url, client_id) = (args.public_url.clone(), args.client_id.clone());

    // The first SIGINT/SIGTERM starts a graceful shutdown; a second one exits at once.
    let mut signals = Signals::new()?;
    let sandbox = Sandbox::build(args).await?;
    // A first line on stdout a script can parse for the bound address, then where things are.
    let mut stdout = std::io::stdout();
    let addr = sandbox.local_addr();
    // One write: a reader that takes the first line and goes never cuts the others short.
    let lines = format!(
        "k2-sandbox listening on http://{addr}\n{}",
        banner(addr, public_url.as_ref(), &client_id)
    );
    stdout
        .write_all(lines.as_bytes())
        .and_then(|()| stdout.flush())
        .context("writing the start-up lines")?;

    let state = sandbox.state();
    let stats = sandbox.stats();
    sandbox
        .run_until(async move {
            let first = signals.next().await;
            tracing::info!("received {first}, shutting down");
            tokio::spawn(async move {
                let second = signals.next().await;
                tracing::warn!(
                    connections = stats.open_connections(),
                    queued_jobs = state.scheduler.pending(),
                    "received a second {second}: exiting at once, abandoning what is left"
                );
                k2_sandbox::telemetry::flush();
                std::process::exit(if second == "SIGINT" { 130 } else { 143 });
            });
        })
        .await?;
    tracing::info!("k2-sandbox stopped");
    Ok(())
}

/// Where the API, the dashboard and the OpenAPI document are, at an address a browser can
/// open (`--public-url`, or the bound one with `127.0.0.1` for an unspecified address).
fn banner(addr: std::net::SocketAddr, public_url: Option<&url::Url>, client_id: &str) -> String {
    let base = k2_sandbox::run::browsable_base(addr, public_url);
    format!(
        "  API        {base}/api/v2/ (and /api/v1/), tokens at {base}/oauth/token\n\
         \x20 dashboard  {base}/_sandbox/ui/\n\
         \x20 OpenAPI    {base}/_sandbox/openapi.json\n\
         \x20 client id  {client_id} (RUST_LOG=debug logs the whole configuration)\n"
    )
}
