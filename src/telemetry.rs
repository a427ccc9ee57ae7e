//! Log subscriber set-up. Logs go to the writer handed in (stderr in the binary), filtered by
//! `RUST_LOG` (default `info`), pretty (coloured only on a terminal) or JSON. The binary writes through a background thread
//! ([`non_blocking_stderr`]), so a slow terminal or a full pipe never holds up a request.

use std::fmt::{self, Write as _};
use std::io::IsTerminal as _;
use std::sync::{Mutex, OnceLock};

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
    W: for<'a> MakeWriter<'a> + Clone + Send + Sync + 'static,
{
    // Colour only for a person at a terminal, and never with NO_COLOR set (no-color.org).
    init_with(format, writer, std::io::stderr().is_terminal());
}

/// [`init`] for a writer that is not stderr: `terminal` says whether it is one.
pub fn init_with<W>(format: LogFormat, writer: W, terminal: bool)
where
    W: for<'a> MakeWriter<'a> + Clone + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let colour = terminal && std::env::var_os("NO_COLOR").is_none();
    let lines = writer.clone();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(writer);
    // A second init (tests) keeps the first subscriber.
    let _ = match format {
        // Fields written as `Plain` writes them (strings unquoted), in colour.
        LogFormat::Pretty if colour => builder.fmt_fields(PlainFields).try_init(),
        // Off a terminal the same text as the default format, written by `Plain`.
        LogFormat::Pretty => builder.event_format(Plain).try_init().inspect(|()| {
            let _ = PLAIN_LINES.set(Box::new(move |line| {
                let _ = std::io::Write::write_all(&mut lines.make_writer(), line);
            }));
        }),
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
        writer.write_str(level(meta.level()))?;
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
        let mut fields = Fields::new(&mut writer);
        event.record(&mut fields);
        fields.result?;
        writer.write_char('\n')
    }
}

/// The level between spaces, right-aligned in five as `{:>5}` would.
fn level(level: &tracing::Level) -> &'static str {
    match *level {
        tracing::Level::ERROR => " ERROR ",
        tracing::Level::WARN => "  WARN ",
        tracing::Level::INFO => "  INFO ",
        tracing::Level::DEBUG => " DEBUG ",
        tracing::Level::TRACE => " TRACE ",
    }
}

/// `2026-11-28T19:20:00.123456Z`, as the default format writes it.
fn timestamp(writer: &mut impl fmt::Write) -> fmt::Result {
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
        let mut visitor = Fields::new(&mut writer);
        fields.record(&mut visitor);
        visitor.result
    }
}

/// Writes the message, then ` name=value` for every other field; strings and numbers as
/// they are, anything else through its `Debug` (which for `%value` fields is its `Display`).
struct Fields<'w, W: fmt::Write> {
    writer: &'w mut W,
    first: bool,
    result: fmt::Result,
}

impl<'w, W: fmt::Write> Fields<'w, W> {
    fn new(writer: &'w mut W) -> Self {
        Self {
            writer,
            first: true,
            result: Ok(()),
        }
    }

    fn write(&mut self, name: &str, value: impl FnOnce(&mut W) -> fmt::Result) {
        if self.result.is_err() {
            return;
        }
        self.result = (|| {
            if name != "message" {
                if !self.first {
                    self.writer.write_char(' ')?;
                }
                self.writer.write_str(name)?;
                self.writer.write_char('=')?;
            } else if !self.first {
                self.writer.write_char(' ')?;
            }
            self.first = false;
            value(self.writer)
        })();
    }

    fn str(&mut self, name: &str, value: &str) {
        self.write(name, |w| w.write_str(value));
    }

    fn u64(&mut self, name: &str, value: u64) {
        self.write(name, |w| w.write_str(itoa::Buffer::new().format(value)));
    }

    fn f64(&mut self, name: &str, value: f64) {
        // As `Debug` writes it (`1.5`, `2.0`). A number of tenths (a latency rounded to 0.1
        // ms, on every access line) is written digit by digit, without the float machinery.
        let tenths = value * 10.0;
        if tenths.fract() == 0.0 && (0.0..1e15).contains(&tenths) {
            let tenths = tenths as u64;
            self.write(name, |w| {
                w.write_str(itoa::Buffer::new().format(tenths / 10))?;
                w.write_char('.')?;
                w.write_char(char::from(b'0' + (tenths % 10) as u8))
            });
        } else {
            self.write(name, |w| write!(w, "{value:?}"));
        }
    }
}

impl<W: fmt::Write> Visit for Fields<'_, W> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.str(field.name(), value);
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.u64(field.name(), value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.write(field.name(), |w| {
            w.write_str(itoa::Buffer::new().format(value))
        });
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.f64(field.name(), value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.str(field.name(), if value { "true" } else { "false" });
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.write(field.name(), |w| write!(w, "{value:?}"));
    }
}

/// Writes a formatted line to the log's output, when the log is [`Plain`] text.
type LineWriter = Box<dyn Fn(&[u8]) + Send + Sync>;

/// Set by [`init_with`] when it installs the [`Plain`] format.
static PLAIN_LINES: OnceLock<LineWriter> = OnceLock::new();

/// The access log's line for a request (`k2_sandbox::access`, info, message `request`),
/// written straight to the output when the log is [`Plain`] text: the bytes `Plain` would
/// write for the same event, without tracing's dispatch and field visits (a line per request
/// is on the hot path). Returns false, having written nothing, when the line must go through
/// tracing instead (JSON or colour, or no subscriber of ours); the caller has checked that
/// the access log is enabled.
pub fn access_line(
    method: &str,
    path: &str,
    status: u16,
    latency_ms: f64,
    client_id: Option<&str>,
    error: Option<&str>,
) -> bool {
    thread_local! {
        static LINE: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    // Inside a span `Plain` names it first: such a line goes through tracing.
    let Some(write) = PLAIN_LINES
        .get()
        .filter(|_| tracing::Span::current().is_none())
    else {
        return false;
    };
    LINE.with_borrow_mut(|line| {
        line.clear();
        // As `Plain` writes it: time, level, target, then the fields.
        let _ = timestamp(line);
        line.push_str(level(&tracing::Level::INFO));
        line.push_str("k2_sandbox::access: ");
        let mut fields = Fields::new(line);
        fields.str("message", "request");
        fields.str("method", method);
        fields.str("path", path);
        fields.u64("status", u64::from(status));
        fields.f64("latency_ms", latency_ms);
        if let Some(client_id) = client_id {
            fields.str("client_id", client_id);
        }
        if let Some(error) = error {
            fields.str("error", error);
        }
        line.push('\n');
        write(line.as_bytes());
        // A line of an unusually long error is not kept for the next.
        if line.capacity() > 4096 {
            *line = String::new();
        }
    });
    true
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
    fn the_access_line_written_directly_is_the_line_plain_writes() {
        let out = Buffer::default();
        super::init_with(crate::config::LogFormat::Pretty, out.clone(), false);
        let lines = || {
            let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
            text.lines()
                .filter(|l| l.contains("path=/direct"))
                .map(|l| l[l.find(' ').unwrap()..].to_string())
                .collect::<Vec<_>>()
        };
        for (client_id, error) in [
            (Some("app"), Some("The access token is invalid")),
            (None, None),
        ] {
            let (method, path, status, latency_ms) = ("POST", "/direct", 401u16, 0.7);
            tracing::info!(target: "k2_sandbox::access", method, path, status, latency_ms,
                client_id, error, "request");
            assert!(super::access_line(
                method, path, status, latency_ms, client_id, error
            ));
            let written = lines();
            assert_eq!(written.len(), 2, "{written:?}");
            assert_eq!(written[0], written[1]);
            out.0.lock().unwrap().clear();
        }
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
