//! The connection server under the router: accepts, caps and times out connections, and shuts
//! down within a bound whatever clients do. It owns no API behaviour.
//!
//! axum's own `serve` has no timeouts: a client that sent half a request line held its
//! connection (and a file descriptor) forever, and graceful shutdown waited on it forever. Here
//! every connection has a watchdog, in its own task, that closes it when
//! - a request head is not complete within the header timeout (counted from the connection's
//!   start, or from the first byte after the previous response), or
//! - it has been idle between requests for longer than the idle timeout.
//!
//! The body timeout is the request-body middleware's (`http::body`), which answers it in JSON.
//! Past the connection cap, a connection gets a JSON 503 and is closed, and accept keeps going.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use futures_util::FutureExt as _;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::http::App;

/// How long connections may take, and how many there may be.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// From a connection's start, or the first byte after a response, to a complete head.
    pub header_timeout: Duration,
    /// Between a response and the next request's first byte.
    pub idle_timeout: Duration,
    /// Connections served at once; more are answered 503 and closed.
    pub max_connections: usize,
}

/// Counts a shutdown can report: connections open now.
#[derive(Debug, Default)]
pub struct ServerStats {
    open: AtomicUsize,
}

impl ServerStats {
    pub fn open_connections(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }
}

/// The largest request head hyper reads. Our own limits (URI length, header size and count,
/// in `http::limits`) are lower, so that going past them gets the API's JSON error rather than
/// hyper's empty 414 or 431.
const HYPER_MAX_HEAD_BYTES: usize = 256 * 1024;
const HYPER_MAX_HEADERS: usize = 1000;

/// Serves `app` on `listener` until `shutdown` resolves; then stops accepting, lets in-flight
/// requests finish and closes idle connections, for at most `grace`. Connections still open
/// after that are dropped.
pub async fn serve(
    listener: TcpListener,
    app: App,
    limits: ConnectionLimits,
    stats: Arc<ServerStats>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .max_buf_size(HYPER_MAX_HEAD_BYTES)
        .max_headers(HYPER_MAX_HEADERS)
        .header_read_timeout(None);
    let builder = Arc::new(builder);
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors, most likely: wait for some to close.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tokio::spawn(refuse(stream, limits.max_connections));
            continue;
        };
        let _ = stream.set_nodelay(true);
        let builder = builder.clone();
        let app = app.clone();
        let stats = stats.clone();
        let stop = stop_rx.clone();
        connections.spawn(async move {
            stats.open.fetch_add(1, Ordering::Relaxed);
            serve_connection(&builder, stream, peer, app, limits, stop).await;
            stats.open.fetch_sub(1, Ordering::Relaxed);
            drop(permit);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    close_within(connections, grace).await;
}

/// Lets the connections end (their in-flight requests answered) for up to `grace`, then
/// drops the ones still open.
async fn close_within(mut connections: JoinSet<()>, grace: Duration) {
    let deadline = Instant::now() + grace;
    while !connections.is_empty() {
        if tokio::time::timeout_at(deadline, connections.join_next())
            .await
            .is_err()
        {
            tracing::warn!(
                connections = connections.len(),
                "closing connections still open after the shutdown grace period"
            );
            connections.shutdown().await;
        }
    }
}

async fn serve_connection(
    builder: &Builder<TokioExecutor>,
    stream: TcpStream,
    peer: SocketAddr,
    app: App,
    limits: ConnectionLimits,
    mut stop: watch::Receiver<bool>,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched {
        inner: stream,
        activity: activity.clone(),
    });
    let service_activity = activity.clone();
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let guard = InFlight::start(service_activity.clone());
        // `map`, not an `async` block: a block awaiting `response` would hold it twice (as
        // its capture and as what it awaits), and hyper moves this future into place per
        // request.
        app.clone().handle(req.map(Body::new)).map(move |response| {
            drop(guard);
            Ok::<_, std::convert::Infallible>(response)
        })
    });
    let mut conn = pin!(builder.serve_connection_with_upgrades(io, service));
    let mut stopping = *stop.borrow();
    if stopping {
        conn.as_mut().graceful_shutdown();
    }
    loop {
        let deadline = activity.deadline(&limits);
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            () = tokio::time::sleep_until(deadline) => {
                if activity.deadline(&limits) <= Instant::now() {
                    tracing::debug!(%peer, "closing a connection that timed out");
                    return;
                }
            }
            Ok(()) = stop.changed(), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Answers a connection past the cap with the API's JSON 503, then closes it. The request is
/// read (briefly) after the answer, so that closing does not reset the connection before the
/// client reads the answer.
async fn refuse(mut stream: TcpStream, max: usize) {
    let body = serde_json::to_vec(&crate::wire::ErrorBody {
        error_code: 503,
        error_message: format!(
            "The sandbox is serving its limit of {max} connections: retry shortly"
        ),
    })
    .unwrap_or_default();
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(&body).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 4096];
        while stream.read(&mut sink).await? > 0 {}
        std::io::Result::Ok(())
    })
    .await;
}

/// What a connection's watchdog needs to know, written by its socket and its service.
#[derive(Debug)]
struct Activity {
    started: Instant,
    /// Requests being served now.
    in_flight: AtomicUsize,
    /// When the connection last became idle (its start, or the end of a response), in
    /// milliseconds from `started`.
    idle_since_ms: AtomicU64,
    /// Whether a byte came after it became idle: a request head is on its way.
    reading: AtomicBool,
    /// When that byte came, in milliseconds from `started`.
    reading_since_ms: AtomicU64,
    /// Whether a response ended: the connection is past its first request.
    served: AtomicBool,
}

impl Activity {
    fn new() -> Self {
        Self {
            started: Instant::now(),
            in_flight: AtomicUsize::new(0),
            idle_since_ms: AtomicU64::new(0),
            reading: AtomicBool::new(false),
            reading_since_ms: AtomicU64::new(0),
            served: AtomicBool::new(false),
        }
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    fn at(&self, ms: u64) -> Instant {
        self.started + Duration::from_millis(ms)
    }

    /// When the connection is to be closed, as things stand now.
    fn deadline(&self, limits: &ConnectionLimits) -> Instant {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            // Serving: the body timeout is the middleware's; look again later.
            return Instant::now() + limits.header_timeout;
        }
        if self.reading.load(Ordering::Acquire) {
            return self.at(self.reading_since_ms.load(Ordering::Acquire)) + limits.header_timeout;
        }
        let idle = if self.served.load(Ordering::Acquire) {
            limits.idle_timeout
        } else {
            // A connection that never sent a byte gets no longer than one that sent half a head.
            limits.header_timeout
        };
        self.at(self.idle_since_ms.load(Ordering::Acquire)) + idle
    }

    fn bytes_read(&self) {
        if self.in_flight.load(Ordering::Relaxed) == 0 && !self.reading.load(Ordering::Relaxed) {
            self.reading_since_ms
                .store(self.now_ms(), Ordering::Release);
            self.reading.store(true, Ordering::Release);
        }
    }
}

/// Marks a request in flight for as long as it lives.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn start(activity: Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        Self(activity)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let activity = &self.0;
        activity
            .idle_since_ms
            .store(activity.now_ms(), Ordering::Release);
        activity.reading.store(false, Ordering::Release);
        activity.served.store(true, Ordering::Release);
        activity.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A socket that tells its [`Activity`] when bytes arrive.
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.bytes_read();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The most connections the process can serve: the flag, less what its file-descriptor limit
/// (read from /proc where there is one) leaves no room for.
pub fn effective_max_connections(wanted: usize) -> usize {
    // Descriptors kept for the listener, callback deliveries, logs and scenario files.
    const RESERVED: usize = 64;
    let Some(soft) = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|limits| {
            limits
                .lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3))
                .and_then(|v| v.parse::<usize>().ok())
        })
    else {
        return wanted;
    };
    let room = soft.saturating_sub(RESERVED).max(1);
    if wanted > room {
        tracing::warn!(
            wanted,
            allowed = room,
            "the open-files limit (ulimit -n {soft}) caps --max-connections"
        );
        room
    } else {
        wanted
    }
}
