//! Log subscriber set-up. Logs go to the writer handed in (stderr in the binary), filtered by
//! `RUST_LOG` (default `info`), pretty (coloured only on a terminal) or JSON. The binary writes through a background thread
//! ([`non_blocking_stderr`]), so a slow terminal or a full pipe never holds up a request.

use std::io::IsTerminal as _;
use std::sync::Mutex;

use tracing_appender::non_blocking::{NonBlocking, WorkerGuard};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::LogFormat;

pub fn init<W>(format: LogFormat, writer: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Colour only for a person at a terminal, and never with NO_COLOR set (no-color.org).
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(writer);
    // A second init (tests) keeps the first subscriber.
    let _ = match format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// The guard of the background log writer: dropping it writes out what is queued.
static GUARD: Mutex<Option<WorkerGuard>> = Mutex::new(None);

/// Stderr behind a background thread. Lines are queued (dropped past 128k queued lines,
/// rather than blocking a request) and written in order; [`flush`] writes out the rest.
pub fn non_blocking_stderr() -> NonBlocking {
    // Buffered: the worker writes every line it finds queued, then flushes, so a burst of
    // lines costs one write to stderr instead of one per line.
    let stderr = std::io::BufWriter::with_capacity(64 * 1024, std::io::stderr());
    let (writer, guard) = tracing_appender::non_blocking(stderr);
    *GUARD.lock().unwrap_or_else(|p| p.into_inner()) = Some(guard);
    writer
}

/// Writes out every queued log line; call before the process exits.
pub fn flush() {
    drop(GUARD.lock().unwrap_or_else(|p| p.into_inner()).take());
}
