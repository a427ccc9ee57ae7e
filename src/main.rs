//! The `k2-sandbox` binary: parse the CLI, set up logging, build, serve until a signal.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser as _;
use k2_sandbox::Sandbox;
use k2_sandbox::config::{Cli, Invocation, ServeArgs};

fn main() -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let outcome = runtime.block_on(async {
        match Cli::parse().invocation() {
            Invocation::Serve(args) => serve(args).await.map(|()| ExitCode::SUCCESS),
            Invocation::Client(command) => k2_sandbox::cli::run(command).await,
        }
    });
    // Exit without waiting on the blocking pool: a scenario still parsing there has nobody
    // left to answer, and must not hold the process past its shutdown grace.
    runtime.shutdown_background();
    outcome
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    k2_sandbox::telemetry::init(args.log_format, std::io::stderr);
    tracing::info!(config = %args.masked_summary(), "starting k2-sandbox {}", env!("CARGO_PKG_VERSION"));

    let sandbox = Sandbox::build(args).await?;
    // One line on stdout a script can parse for the bound address.
    let mut stdout = std::io::stdout();
    writeln!(
        stdout,
        "k2-sandbox listening on http://{}",
        sandbox.local_addr()
    )
    .and_then(|()| stdout.flush())
    .context("writing the start-up line")?;

    sandbox.run_until(shutdown_signal()).await?;
    tracing::info!("k2-sandbox stopped");
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM (docker stop).
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("received SIGINT, shutting down"),
        () = terminate => tracing::info!("received SIGTERM, shutting down"),
    }
}
