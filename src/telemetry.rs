//! Log subscriber set-up. Logs go to the writer handed in (stderr in the binary), filtered by
//! `RUST_LOG` (default `info`), pretty (coloured only on a terminal) or JSON. The binary writes through a background thread
//! ([`non_blocking_stderr`], a [`LogPipe`]), so a slow terminal or a full pipe never holds up
//! a request.

use std::fmt::{self, Write as _};
use std::io::IsTerminal as _;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{FormatEvent, FormatFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

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
        .with_timer(EastAfrica)
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

/// The default format's text without colour (`2026-11-28T22:20:00.123456+03:00  INFO target:
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

/// Log lines' time, in East Africa Time like every time the API shows (`+03:00`): a log line
/// and the document it is about read the same hour. The wall clock's, never the sandbox's
/// (which a virtual clock moves by days): logs say when things happened to the process.
struct EastAfrica;

impl tracing_subscriber::fmt::time::FormatTime for EastAfrica {
    fn format_time(&self, w: &mut tracing_subscriber::fmt::format::Writer<'_>) -> fmt::Result {
        timestamp(w)
    }
}

/// `2026-11-28T22:20:00.123456+03:00`: the wall clock in East Africa Time, to the microsecond.
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
            let at = chrono::DateTime::from_timestamp(now.as_secs() as i64, 0)
                .unwrap_or_default()
                .with_timezone(&crate::clock::eat());
            write!(text, "{}", at.format("%Y-%m-%dT%H:%M:%S"))?;
        }
        writer.write_str(text)?;
        // `.{:06}+03:00` by hand: the microseconds as six digits.
        let mut micros = *b".000000+03:00";
        let mut n = now.subsec_micros();
        for digit in micros[1..7].iter_mut().rev() {
            *digit = b'0' + (n % 10) as u8;
            n /= 10;
        }
        writer.write_str(std::str::from_utf8(&micros).unwrap_or(".000000+03:00"))
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

/// A field's value on a line [`info_line`] writes.
#[derive(Clone, Copy)]
pub enum Value<'a> {
    Str(&'a str),
    U64(u64),
    /// Written as `Debug` writes an `f64`.
    F64(f64),
}

/// An info line (`target: message name=value ...`) written straight to the output when the
/// log is [`Plain`] text: the bytes `Plain` would write for the same event, a `None` field
/// left out as tracing leaves out a `None`, without tracing's dispatch and field visits. For
/// the lines written per request (the access log) and per callback attempt. Returns false,
/// having written nothing, when the line must go through tracing instead (JSON or colour, or
/// no subscriber of ours); the caller has checked that `target` is enabled at info.
pub fn info_line(target: &str, message: &str, fields: &[(&str, Option<Value<'_>>)]) -> bool {
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
        line.push_str(target);
        line.push_str(": ");
        let mut out = Fields::new(line);
        out.str("message", message);
        for &(name, value) in fields {
            match value {
                Some(Value::Str(text)) => out.str(name, text),
                Some(Value::U64(n)) => out.u64(name, n),
                Some(Value::F64(x)) => out.f64(name, x),
                None => {}
            }
        }
        line.push('\n');
        write(line.as_bytes());
        // A line of an unusually long value is not kept for the next.
        if line.capacity() > 4096 {
            *line = String::new();
        }
    });
    true
}

/// The access log's line for a request (`k2_sandbox::access`, message `request`), through
/// [`info_line`]; false when it must go through tracing instead.
pub fn access_line(
    method: &str,
    path: &str,
    status: u16,
    latency_ms: f64,
    client_id: Option<&str>,
    error: Option<&str>,
) -> bool {
    info_line(
        "k2_sandbox::access",
        "request",
        &[
            ("method", Some(Value::Str(method))),
            ("path", Some(Value::Str(path))),
            ("status", Some(Value::U64(status.into()))),
            ("latency_ms", Some(Value::F64(latency_ms))),
            ("client_id", client_id.map(Value::Str)),
            ("error", error.map(Value::Str)),
        ],
    )
}

/// The log's output behind a background thread. A line is appended to a shared buffer, with
/// no allocation and no wake-up of the thread per line (a wake-up per request line cost a
/// context switch each on a busy core); the thread wakes when the buffer stops being empty,
/// lets lines gather for [`GATHER`], and writes them all at once. Past [`MAX_QUEUED`] bytes
/// waiting (the output cannot keep up) lines are dropped and counted rather than holding up
/// a request, and the count is logged once the output catches up. [`flush`] writes out the
/// rest.
#[derive(Clone)]
pub struct LogPipe(Arc<Pipe>);

struct Pipe {
    queue: Mutex<Queue>,
    /// Signalled when the queue stops being empty, and when the pipe closes.
    ready: Condvar,
    /// The most bytes waiting to be written; lines past it are dropped.
    max_queued: usize,
    /// The writer's word that it has written everything, once closed.
    written: Mutex<Option<std::sync::mpsc::Receiver<()>>>,
}

#[derive(Default)]
struct Queue {
    bytes: Vec<u8>,
    dropped: u64,
    closing: bool,
}

/// How long the writer lets lines gather before it writes them.
const GATHER: Duration = Duration::from_millis(20);
/// The most bytes waiting to be written; lines past it are dropped.
const MAX_QUEUED: usize = 16 << 20;
/// How long [`flush`] waits for the output to take what is queued.
const FLUSH_WITHIN: Duration = Duration::from_secs(1);

/// The pipe [`flush`] closes: the latest one [`non_blocking`] started.
static OPEN_PIPE: Mutex<Option<LogPipe>> = Mutex::new(None);

fn lock(queue: &Mutex<Queue>) -> MutexGuard<'_, Queue> {
    queue.lock().unwrap_or_else(|p| p.into_inner())
}

impl LogPipe {
    /// Starts the writer thread over `out`, keeping up to `max_queued` bytes waiting.
    fn start(out: impl std::io::Write + Send + 'static, max_queued: usize) -> Self {
        let (written, done) = std::sync::mpsc::channel();
        let pipe = Self(Arc::new(Pipe {
            queue: Mutex::default(),
            ready: Condvar::new(),
            max_queued,
            written: Mutex::new(Some(done)),
        }));
        let writer = pipe.clone();
        // Without a writer thread (none could start) lines queue up to the cap, then drop.
        let _ = std::thread::Builder::new()
            .name("k2-sandbox-log".into())
            .spawn(move || {
                writer.write_out(out);
                let _ = written.send(());
            });
        pipe
    }

    /// Writes out what is queued and stops the writer, waiting up to `within` for the
    /// output to take it.
    fn close(&self, within: Duration) {
        lock(&self.0.queue).closing = true;
        self.0.ready.notify_one();
        let written = self
            .0
            .written
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(written) = written {
            let _ = written.recv_timeout(within);
        }
    }

    /// Queues `line` (whole lines: each event is one call).
    fn append(&self, line: &[u8]) {
        let mut queue = lock(&self.0.queue);
        if queue.bytes.len() + line.len() > self.0.max_queued {
            queue.dropped += 1;
            return;
        }
        let was_empty = queue.bytes.is_empty();
        queue.bytes.extend_from_slice(line);
        drop(queue);
        if was_empty {
            self.0.ready.notify_one();
        }
    }

    /// The writer thread: waits for lines, lets them gather, writes them, until closed and
    /// empty.
    fn write_out(&self, mut out: impl std::io::Write) {
        let mut taken = Vec::new();
        loop {
            let ready = &self.0.ready;
            let queue = lock(&self.0.queue);
            let queue = ready
                .wait_while(queue, |q| {
                    q.bytes.is_empty() && q.dropped == 0 && !q.closing
                })
                .unwrap_or_else(|p| p.into_inner());
            let mut queue = if queue.closing {
                queue
            } else {
                ready
                    .wait_timeout_while(queue, GATHER, |q| !q.closing)
                    .map_or_else(|p| p.into_inner().0, |(q, _)| q)
            };
            std::mem::swap(&mut queue.bytes, &mut taken);
            let (dropped, closing) = (std::mem::take(&mut queue.dropped), queue.closing);
            drop(queue);
            let _ = out.write_all(&taken).and_then(|()| out.flush());
            taken.clear();
            // A burst's buffer is not kept for ever.
            if taken.capacity() > 1 << 20 {
                taken = Vec::new();
            }
            if dropped > 0 {
                // Queued like any line, and written next time round.
                tracing::warn!(
                    lines = dropped,
                    "log lines dropped: the log's output did not keep up"
                );
            }
            if closing && dropped == 0 && lock(&self.0.queue).bytes.is_empty() {
                return;
            }
        }
    }
}

impl std::io::Write for &LogPipe {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.append(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogPipe {
    type Writer = &'a LogPipe;

    fn make_writer(&'a self) -> Self::Writer {
        self
    }
}

/// Stderr behind a [`LogPipe`].
pub fn non_blocking_stderr() -> LogPipe {
    non_blocking(std::io::stderr())
}

/// Any output (a log file) behind a [`LogPipe`], like [`non_blocking_stderr`].
pub fn non_blocking(out: impl std::io::Write + Send + 'static) -> LogPipe {
    let pipe = LogPipe::start(out, MAX_QUEUED);
    *OPEN_PIPE.lock().unwrap_or_else(|p| p.into_inner()) = Some(pipe.clone());
    pipe
}

/// Writes out every queued log line (waiting up to a second for the output to take them);
/// call before the process exits.
pub fn flush() {
    let pipe = OPEN_PIPE.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some(pipe) = pipe {
        pipe.close(FLUSH_WITHIN);
    }
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
    fn lines_written_directly_are_the_lines_plain_writes() {
        use super::Value::{Str, U64};
        let out = Buffer::default();
        super::init_with(crate::config::LogFormat::Pretty, out.clone(), false);
        let lines = || {
            let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
            text.lines()
                .filter(|l| l.contains("/direct"))
                .map(|l| l[l.find(' ').unwrap()..].to_string())
                .collect::<Vec<_>>()
        };
        let check = |written: &mut dyn FnMut() -> bool| {
            assert!(written());
            let written = lines();
            assert_eq!(written.len(), 2, "{written:?}");
            assert_eq!(written[0], written[1]);
            out.0.lock().unwrap().clear();
        };
        // The access log's line, as `http::answered` writes it.
        for (client_id, error) in [
            (Some("app"), Some("The access token is invalid")),
            (None, None),
        ] {
            let (method, path, status, latency_ms) = ("POST", "/direct", 401u16, 0.7);
            tracing::info!(target: "k2_sandbox::access", method, path, status, latency_ms,
                client_id, error, "request");
            check(&mut || super::access_line(method, path, status, latency_ms, client_id, error));
        }
        // A callback attempt's, as the dispatcher writes it.
        let (delivery, url) = (uuid::Uuid::from_u128(7), "http://127.0.0.1:4000/direct");
        for (status, error) in [(Some(200u16), None), (None, Some("connection failed"))] {
            let error = error.map(String::from);
            tracing::info!(target: "k2_sandbox::callbacks", delivery = %delivery, url = %url,
                attempt = 2u32, status, error = error.as_deref().map(tracing::field::display),
                latency_ms = 3u64, outcome = %"will retry", "callback attempt");
            let mut id = uuid::Uuid::encode_buffer();
            check(&mut || {
                super::info_line(
                    "k2_sandbox::callbacks",
                    "callback attempt",
                    &[
                        (
                            "delivery",
                            Some(Str(delivery.hyphenated().encode_lower(&mut id))),
                        ),
                        ("url", Some(Str(url))),
                        ("attempt", Some(U64(2))),
                        ("status", status.map(|s| U64(s.into()))),
                        ("error", error.as_deref().map(Str)),
                        ("latency_ms", Some(U64(3))),
                        ("outcome", Some(Str("will retry"))),
                    ],
                )
            });
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
        // 2026-11-28T22:20:00.123456+03:00, the wall clock in East Africa Time
        let bytes = stamp.as_bytes();
        assert_eq!(stamp.len(), 32, "{stamp}");
        assert_eq!((bytes[10], bytes[19]), (b'T', b'.'), "{stamp}");
        assert!(stamp.ends_with("+03:00"), "{stamp}");
        assert!(bytes[20..26].iter().all(u8::is_ascii_digit), "{stamp}");
        let at = chrono::DateTime::parse_from_rfc3339(&stamp).expect("RFC 3339");
        let off = (chrono::Utc::now() - at.with_timezone(&chrono::Utc))
            .num_seconds()
            .abs();
        assert!(off < 60, "{stamp} is now, in EAT");
    }

    #[test]
    fn a_pipe_writes_every_line_whole_and_in_order_from_many_threads() {
        use std::io::Write as _;
        let out = Buffer::default();
        let pipe = super::LogPipe::start(out.clone(), super::MAX_QUEUED);
        let writers: Vec<_> = (0..4)
            .map(|t| {
                let pipe = pipe.clone();
                std::thread::spawn(move || {
                    for n in 0..1000 {
                        (&pipe)
                            .write_all(format!("thread {t} line {n}\n").as_bytes())
                            .unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        pipe.close(std::time::Duration::from_secs(10));
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let mut next = [0; 4];
        for line in text.lines() {
            let (t, n) = line
                .strip_prefix("thread ")
                .and_then(|l| l.split_once(" line "))
                .unwrap_or_else(|| panic!("a broken line: {line:?}"));
            let (t, n): (usize, usize) = (t.parse().unwrap(), n.parse().unwrap());
            assert_eq!(n, next[t], "thread {t}'s lines out of order");
            next[t] += 1;
        }
        assert_eq!(next, [1000; 4]);
    }

    /// An output that takes nothing until released, and says when it is first written to.
    struct Stuck {
        entered: std::sync::mpsc::Sender<()>,
        release: Arc<(Mutex<bool>, std::sync::Condvar)>,
        out: Buffer,
    }

    impl std::io::Write for Stuck {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            let _ = self.entered.send(());
            let (released, cv) = &*self.release;
            drop(cv.wait_while(released.lock().unwrap(), |r| !*r).unwrap());
            self.out.write(bytes)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn past_its_cap_a_stuck_output_costs_dropped_lines_not_a_blocked_writer() {
        use std::io::Write as _;
        let (entered, first_write) = std::sync::mpsc::channel();
        let release = Arc::new((Mutex::new(false), std::sync::Condvar::new()));
        let out = Buffer::default();
        let stuck = Stuck {
            entered,
            release: release.clone(),
            out: out.clone(),
        };
        let pipe = super::LogPipe::start(stuck, 100);
        (&pipe).write_all(b"first\n").unwrap();
        first_write
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("the writer takes the first line");
        // The writer is stuck in its write: 10 lines of 10 bytes fit, the other 90 do not,
        // and none of the 100 waits.
        for n in 0..100 {
            (&pipe)
                .write_all(format!("line {n:04}\n").as_bytes())
                .unwrap();
        }
        assert_eq!(super::lock(&pipe.0.queue).dropped, 90);
        *release.0.lock().unwrap() = true;
        release.1.notify_all();
        pipe.close(std::time::Duration::from_secs(10));
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let expected: String = std::iter::once("first\n".to_string())
            .chain((0..10).map(|n| format!("line {n:04}\n")))
            .collect();
        assert_eq!(text, expected);
    }
}
