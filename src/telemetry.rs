//! Log subscriber set-up. Logs go to the writer handed in (stderr in the binary), filtered by
//! `RUST_LOG` (default `info`), pretty (coloured only on a terminal) or JSON. The binary writes through a background thread
//! ([`non_blocking_stderr`]), so a slow terminal or a full pipe never holds up a request.

use std::fmt::{self, Write as _};
use std::io::IsTerminal as _;
use std::sync::Mutex;

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{FormatEvent, FormatFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

use tracing_appender::non_blocking::{NonBlocking, WorkerGuard};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::LogFormat;

pub fn init<W>(format: LogFormat, writer: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    // Colour only for a person at a terminal, and never with NO_COLOR set (no-color.org).
    init_with(format, writer, std::io::stderr().is_terminal());
}

/// [`init`] for a writer that is not stderr: `terminal` says whether it is one.
pub fn init_with<W>(format: LogFormat, writer: W, terminal: bool)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let colour = terminal && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(writer);
    // A second init (tests) keeps the first subscriber.
    let _ = match format {
        // Fields written as `Plain` writes them (strings unquoted), in colour.
        LogFormat::Pretty if colour => builder.fmt_fields(PlainFields).try_init(),
        // Off a terminal the same text as the default format, written by `Plain`.
        LogFormat::Pretty => builder.event_format(Plain).try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// The default format's text without colour (`2026-11-28T19:20:00.123456Z  INFO target:
/// message key=value ...`), written without its machinery: the timestamp's date and time of
/// day formatted once a second, strings and numbers written straight into the line. The
/// access log writes a line per request, so this is on the hot path.
struct Plain;

impl<S, N> FormatEvent<S, N> for Plain
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        timestamp(&mut writer)?;
        let meta = event.metadata();
        // The level right-aligned in five, as `{:>5}` would.
        writer.write_str(match *meta.level() {
            tracing::Level::ERROR => " ERROR ",
            tracing::Level::WARN => "  WARN ",
            tracing::Level::INFO => "  INFO ",
            tracing::Level::DEBUG => " DEBUG ",
            tracing::Level::TRACE => " TRACE ",
        })?;
        // Spans (debug level) as the default shows them: `name{fields}:`.
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                writer.write_str(span.name())?;
                let ext = span.extensions();
                if let Some(fields) = ext.get::<FormattedFields<N>>()
                    && !fields.is_empty()
                {
                    write!(writer, "{{{fields}}}")?;
                }
                writer.write_char(':')?;
            }
            writer.write_char(' ')?;
        }
        writer.write_str(meta.target())?;
        writer.write_str(": ")?;
        let mut fields = Fields {
            writer: &mut writer,
            first: true,
            result: Ok(()),
        };
        event.record(&mut fields);
        fields.result?;
        writer.write_char('\n')
    }
}

/// `2026-11-28T19:20:00.123456Z`, as the default format writes it.
fn timestamp(writer: &mut Writer<'_>) -> fmt::Result {
    thread_local! {
        /// The second last formatted, and its text up to the seconds.
        static SECOND: std::cell::RefCell<(u64, String)> = const {
            std::cell::RefCell::new((u64::MAX, String::new()))
        };
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    SECOND.with_borrow_mut(|(second, text)| {
        if *second != now.as_secs() {
            *second = now.as_secs();
            text.clear();
            let at = chrono::DateTime::from_timestamp(now.as_secs() as i64, 0).unwrap_or_default();
            write!(text, "{}", at.format("%Y-%m-%dT%H:%M:%S"))?;
        }
        writer.write_str(text)?;
        // `.{:06}Z` by hand: the microseconds as six digits.
        let mut micros = *b".000000Z";
        let mut n = now.subsec_micros();
        for digit in micros[1..7].iter_mut().rev() {
            *digit = b'0' + (n % 10) as u8;
            n /= 10;
        }
        writer.write_str(std::str::from_utf8(&micros).unwrap_or(".000000Z"))
    })
}

/// The fields of an event or span as [`Plain`] writes them, for the coloured format.
struct PlainFields;

impl<'writer> FormatFields<'writer> for PlainFields {
    fn format_fields<R: tracing_subscriber::field::RecordFields>(
        &self,
        mut writer: Writer<'writer>,
        fields: R,
    ) -> fmt::Result {
        let mut visitor = Fields {
            writer: &mut writer,
            first: true,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result
    }
}

/// Writes the message, then ` name=value` for every other field; strings and numbers as
/// they are, anything else through its `Debug` (which for `%value` fields is its `Display`).
struct Fields<'w, 'a> {
    writer: &'w mut Writer<'a>,
    first: bool,
    result: fmt::Result,
}

impl Fields<'_, '_> {
    fn write(&mut self, field: &Field, value: impl FnOnce(&mut Writer<'_>) -> fmt::Result) {
        if self.result.is_err() {
            return;
        }
        self.result = (|| {
            if field.name() != "message" {
                if !self.first {
                    self.writer.write_char(' ')?;
                }
                self.writer.write_str(field.name())?;
                self.writer.write_char('=')?;
            } else if !self.first {
                self.writer.write_char(' ')?;
            }
            self.first = false;
            value(self.writer)
        })();
    }
}

impl Visit for Fields<'_, '_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.write(field, |w| w.write_str(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.write(field, |w| w.write_str(itoa::Buffer::new().format(value)));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.write(field, |w| w.write_str(itoa::Buffer::new().format(value)));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        // As `Debug` writes it (`1.5`, `2.0`). A number of tenths (a latency rounded to 0.1
        // ms, on every access line) is written digit by digit, without the float machinery.
        let tenths = value * 10.0;
        if tenths.fract() == 0.0 && (0.0..1e15).contains(&tenths) {
            let tenths = tenths as u64;
            self.write(field, |w| {
                w.write_str(itoa::Buffer::new().format(tenths / 10))?;
                w.write_char('.')?;
                w.write_char(char::from(b'0' + (tenths % 10) as u8))
            });
        } else {
            self.write(field, |w| write!(w, "{value:?}"));
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.write(field, |w| w.write_str(if value { "true" } else { "false" }));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.write(field, |w| write!(w, "{value:?}"));
    }
}

/// The guard of the background log writer: dropping it writes out what is queued.
static GUARD: Mutex<Option<WorkerGuard>> = Mutex::new(None);

/// Stderr behind a background thread. Lines are queued (dropped past 128k queued lines,
/// rather than blocking a request) and written in order; [`flush`] writes out the rest.
pub fn non_blocking_stderr() -> NonBlocking {
    non_blocking(std::io::stderr())
}

/// Any output (a log file) behind the same background thread as [`non_blocking_stderr`].
pub fn non_blocking(out: impl std::io::Write + Send + 'static) -> NonBlocking {
    // Buffered: the worker writes every line it finds queued, then flushes, so a burst of
    // lines costs one write instead of one per line.
    let out = std::io::BufWriter::with_capacity(64 * 1024, out);
    let (writer, guard) = tracing_appender::non_blocking(out);
    *GUARD.lock().unwrap_or_else(|p| p.into_inner()) = Some(guard);
    writer
}

/// Writes out every queued log line; call before the process exits.
pub fn flush() {
    drop(GUARD.lock().unwrap_or_else(|p| p.into_inner()).take());
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt::MakeWriter;

    /// A writer into a shared buffer.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buffer {
        type Writer = Self;
        fn make_writer(&'a self) -> Self {
            self.clone()
        }
    }

    /// The first line's timestamp, and the lines two events make without their timestamps,
    /// in `Plain` or in the coloured format (without colour).
    fn line(plain: bool) -> (String, String) {
        let out = Buffer::default();
        let builder = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(out.clone());
        let emit = || {
            let (method, client_id, none) = ("GET", Some("app"), None::<&str>);
            tracing::info!(target: "k2_sandbox::access", method, path = "/a", status = 200u16,
                latency_ms = 12.3, ratio = 0.25, big = 1e20, ok = true, client_id, none,
                shown = %"display", "request");
            tracing::warn!(latency_ms = 0.0, negative = -1.5, "second");
        };
        if plain {
            tracing::subscriber::with_default(builder.event_format(super::Plain).finish(), emit);
        } else {
            tracing::subscriber::with_default(
                builder.fmt_fields(super::PlainFields).finish(),
                emit,
            );
        }
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let stamp = text.split_once(' ').unwrap().0.to_string();
        let rest = text
            .lines()
            .map(|l| &l[l.find(' ').unwrap()..])
            .collect::<Vec<_>>()
            .join("\n");
        (stamp, rest)
    }

    #[test]
    fn plain_writes_the_coloured_formats_text_without_colour() {
        let (stamp, plain) = line(true);
        let (_, default) = line(false);
        assert_eq!(plain, default);
        assert!(plain.contains(
            "  INFO k2_sandbox::access: request method=GET path=/a status=200 latency_ms=12.3 \
             ratio=0.25 big=1e20 ok=true client_id=app shown=display\n"
        ));
        // 2026-11-28T19:20:00.123456Z
        let bytes = stamp.as_bytes();
        assert_eq!(stamp.len(), 27, "{stamp}");
        assert_eq!(
            (bytes[10], bytes[19], bytes[26]),
            (b'T', b'.', b'Z'),
            "{stamp}"
        );
        assert!(bytes[20..26].iter().all(u8::is_ascii_digit), "{stamp}");
    }
}
