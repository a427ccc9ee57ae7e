//! The HTTP client that makes delivery attempts: hyper's pooled client over rustls (TLS with
//! the webpki roots, HTTP/2 by ALPN) and a pure-Rust resolver (the static binary in the
//! scratch image has no libc NSS, and receivers are often named: `http://app:3000` in
//! compose, `host.docker.internal`). No proxy is taken from the environment: receivers are
//! usually on this machine.
//!
//! It sends what reqwest would for the same POST (the target turned into a request URI the
//! way reqwest does, through `url`'s parser; `Accept: */*`; no proxy; no redirect followed)
//! without reqwest's per-request layers: reqwest parses the URL three times per request
//! (ours, its redirect policy's, the response's), about 5,500 instructions each, and runs a
//! redirect and a retry layer we never use. A recent target's request URI is kept.
//!
//! A target whose last connection failed (nothing listening, a name that does not resolve, a
//! failed TLS handshake) less than [`REFUSED_FOR`] ago is not connected to again: the attempt
//! fails as that connection did. A receiver that is down is tried about ten times a second,
//! not once per due attempt: with it down under load, every create's callback is attempted
//! five times, and the kernel's work for each refused connection (a socket, its port, the
//! refusal, the close) cost more than the create itself.
//!
//! At most `per_host` connections are open to one origin at once (the sandbox passes
//! `--callback-concurrency`): a connection holds one of its origin's permits until it
//! closes. hyper's pool starts a connection for every request that finds none idle and keeps
//! it even when an idle one came back first, so a receiver slow to accept was sent thousands
//! of connections (3,500 to a Python `ThreadingHTTPServer` over 10,000 callbacks: a thread
//! each).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http_body_util::Full;
use hyper::header::{ACCEPT, CONTENT_TYPE, HeaderValue, USER_AGENT};
use hyper::{Request, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::signing::SIGNATURE_HEADER;
use crate::domain::delivery::{Failure, Signature};
use crate::domain::interned::Interned;

/// How long a target whose connection failed is not connected to again.
pub const REFUSED_FOR: Duration = Duration::from_millis(100);

pub struct Client {
    http: hyper_util::client::legacy::Client<HttpsConnector<Capped>, Full<Bytes>>,
    timeout: Duration,
    user_agent: HeaderValue,
    /// Recent targets, with their request URIs and when a connection to them last failed.
    targets: Interned<Target, 64>,
    refused_for_ms: u64,
    started: Instant,
}

struct Target {
    text: Box<str>,
    /// As reqwest would make it; `None` if the target has none.
    uri: Option<Uri>,
    /// When a connection to it last failed, in milliseconds after `started` plus one (0:
    /// never).
    failed_at_ms: AtomicU64,
}

impl Client {
    /// A client whose attempts time out after `timeout`, which does not connect again for
    /// `refused_for` to a target whose connection failed ([`REFUSED_FOR`]), and which keeps
    /// at most `per_host` connections open to one origin (scheme, host and port).
    pub fn new(
        user_agent: &'static str,
        timeout: Duration,
        refused_for: Duration,
        per_host: usize,
    ) -> anyhow::Result<Self> {
        let mut tcp = HttpConnector::new_with_resolver(Resolver::default());
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(Capped {
                tcp,
                hosts: Arc::new(Hosts {
                    per_host: per_host.max(1),
                    wait: timeout,
                    open: Mutex::default(),
                }),
            });
        let http = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .timer(TokioTimer::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .build(connector);
        Ok(Self {
            http,
            timeout,
            user_agent: HeaderValue::from_static(user_agent),
            targets: Interned::new(),
            refused_for_ms: crate::clock::millis(refused_for).try_into().unwrap_or(0),
            started: Instant::now(),
        })
    }

    /// POSTs `body` as JSON to `target` with `signature` (an empty text: none); the answer's
    /// status. The answer's body is not read.
    pub async fn post(
        &self,
        target: &str,
        body: Bytes,
        signature: &Signature,
    ) -> Result<u16, Failure> {
        let target = self.target(target);
        let uri = target.uri.clone().ok_or(Failure::Invalid)?;
        if self.failed_lately(&target) {
            return Err(Failure::Connect);
        }
        let mut request = Request::post(uri)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header(USER_AGENT, self.user_agent.clone())
            .header(ACCEPT, HeaderValue::from_static("*/*"));
        let signature = match signature {
            Signature::Hmac(mac) => {
                let mut hex = [0; 64];
                hex::encode_to_slice(mac, &mut hex).expect("64 digits for 32 bytes");
                Some(HeaderValue::from_bytes(&hex))
            }
            Signature::Text(text) if text.is_empty() => None,
            Signature::Text(text) => Some(HeaderValue::from_str(text)),
        };
        if let Some(value) = signature {
            request = request.header(SIGNATURE_HEADER, value.map_err(|_| Failure::Invalid)?);
        }
        let request = request
            .body(Full::new(body))
            .map_err(|_| Failure::Invalid)?;
        match tokio::time::timeout(self.timeout, self.http.request(request)).await {
            Err(_) => Err(Failure::TimedOut),
            Ok(Err(e)) if e.is_connect() => {
                target.failed_at_ms.store(self.now_ms(), Ordering::Relaxed);
                Err(Failure::Connect)
            }
            Ok(Err(_)) => Err(Failure::Request),
            Ok(Ok(response)) => Ok(response.status().as_u16()),
        }
    }

    /// Whether a connection to `target` failed less than the client's `refused_for` ago: an
    /// attempt now would fail as that one did, and is not made.
    pub fn failing(&self, target: &str) -> bool {
        self.failed_lately(&self.target(target))
    }

    fn failed_lately(&self, target: &Target) -> bool {
        let failed_at = target.failed_at_ms.load(Ordering::Relaxed);
        failed_at != 0 && self.now_ms().saturating_sub(failed_at) < self.refused_for_ms
    }

    /// `target`, with its request URI: `url`'s normal form (lower-case host, dot segments
    /// resolved, spaces escaped...), as reqwest sends it.
    fn target(&self, target: &str) -> Arc<Target> {
        self.targets.get(
            &target,
            |t| *t.text == *target,
            || {
                let url = url::Url::parse(target).ok().filter(|u| u.has_host());
                Target {
                    text: target.into(),
                    uri: url.and_then(|u| Uri::try_from(u.as_str()).ok()),
                    failed_at_ms: AtomicU64::new(0),
                }
            },
        )
    }

    /// Milliseconds since the client was made, plus one (never 0).
    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .saturating_add(1)
    }
}

/// The TCP connector, with at most `per_host` connections open to one origin: a connection
/// is made once its origin has a permit free, and holds it until it closes.
#[derive(Clone)]
struct Capped {
    tcp: HttpConnector<Resolver>,
    hosts: Arc<Hosts>,
}

struct Hosts {
    per_host: usize,
    /// How long a connect waits for a permit: an attempt's timeout. No attempt waits for it
    /// longer (a connect that no request waits for any more is finished in the background
    /// by hyper's pool, and put in it).
    wait: Duration,
    open: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    /// Each origin's permits.
    hosts: HashMap<Box<str>, Arc<Semaphore>>,
    /// How many hosts there were when those with no connection were last let go.
    kept: usize,
}

impl Hosts {
    /// The permits of `uri`'s origin, keyed as hyper's pool keys its connections (scheme and
    /// authority), so that a connection idle in the pool holds a permit of the very requests
    /// that may take it.
    fn permits(&self, uri: &Uri) -> Arc<Semaphore> {
        let key = format!(
            "{}://{}",
            uri.scheme_str().unwrap_or_default(),
            uri.authority().map_or("", |a| a.as_str())
        );
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(permits) = open.hosts.get(key.as_str()) {
            return permits.clone();
        }
        if open.hosts.len() >= (open.kept * 2).max(64) {
            // A host no connection or connect holds a permit of is let go.
            open.hosts
                .retain(|_, permits| Arc::strong_count(permits) > 1);
            open.kept = open.hosts.len();
        }
        let permits = Arc::new(Semaphore::new(self.per_host));
        open.hosts.insert(key.into(), permits.clone());
        permits
    }
}

impl tower_service::Service<Uri> for Capped {
    type Response = Held;
    type Error = Box<dyn std::error::Error + Send + Sync>;
    type Future = BoxFuture<'static, Result<Held, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.tcp.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let permits = self.hosts.permits(&uri);
        let wait = self.hosts.wait;
        let mut tcp = self.tcp.clone();
        Box::pin(async move {
            let permit = tokio::time::timeout(wait, permits.acquire_owned())
                .await
                .map_err(|_| "every connection this host may have is in use")??;
            let io = tcp.call(uri).await?;
            Ok(Held {
                io,
                _permit: permit,
            })
        })
    }
}

/// A connection, with one of its origin's permits.
struct Held {
    io: TokioIo<TcpStream>,
    _permit: OwnedSemaphorePermit,
}

impl Connection for Held {
    fn connected(&self) -> Connected {
        self.io.connected()
    }
}

impl hyper::rt::Read for Held {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for Held {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// Names resolved by hickory from the system's configuration, for IPv4 and IPv6, as
/// reqwest's `hickory-dns` does. A configuration that cannot be read is not read again.
#[derive(Clone, Default)]
struct Resolver(Arc<OnceLock<Option<hickory_resolver::TokioResolver>>>);

impl tower_service::Service<Name> for Resolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = Box<dyn std::error::Error + Send + Sync>;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let state = self.0.clone();
        Box::pin(async move {
            let resolver = state
                .get_or_init(|| {
                    let mut builder = hickory_resolver::TokioResolver::builder_tokio().ok()?;
                    builder.options_mut().ip_strategy =
                        hickory_resolver::config::LookupIpStrategy::Ipv4AndIpv6;
                    Some(builder.build())
                })
                .as_ref()
                .ok_or("the system's DNS configuration cannot be read")?;
            let found = resolver.lookup_ip(name.as_str()).await?;
            Ok(found
                .into_iter()
                .map(|ip| SocketAddr::new(ip, 0))
                .collect::<Vec<_>>()
                .into_iter())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_becomes_the_uri_reqwest_would_send() {
        let client = Client::new("test", Duration::from_secs(1), REFUSED_FOR, 4).unwrap();
        for (target, sent) in [
            ("http://127.0.0.1:4000/cb", "http://127.0.0.1:4000/cb"),
            (
                "HTTP://Example.COM:80/a/../cb?x=1",
                "http://example.com/cb?x=1",
            ),
            ("https://example.com/a b", "https://example.com/a%20b"),
            ("http://exämple.com/cb", "http://xn--exmple-cua.com/cb"),
        ] {
            let uri = |t| client.target(t).uri.clone().unwrap().to_string();
            assert_eq!(uri(target), sent, "{target}");
            // Kept: the second look-up finds the same.
            assert_eq!(uri(target), sent, "{target}");
        }
        assert!(client.target("not a url").uri.is_none());
        assert!(client.target("mailto:someone@example.com").uri.is_none());
    }

    /// A target whose connection failed is not connected to again for a while: a receiver
    /// that starts listening meanwhile gets no connection until then.
    #[tokio::test]
    async fn a_failed_connection_is_not_tried_again_for_a_while() {
        async fn post(client: &Client, target: &str) -> Result<u16, Failure> {
            let unsigned = Signature::Text("".into());
            client
                .post(target, Bytes::from_static(b"{}"), &unsigned)
                .await
        }
        for (refused_for, tried_again) in
            [(Duration::from_secs(3600), false), (Duration::ZERO, true)]
        {
            let client = Client::new("test", Duration::from_secs(5), refused_for, 4).unwrap();
            // A port with nothing listening: taken, then let go.
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let target = format!("http://127.0.0.1:{port}/cb");
            assert_eq!(post(&client, &target).await, Err(Failure::Connect));
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
                .await
                .expect("the port is free again");
            let (sent, accepted) = tokio::join!(post(&client, &target), async {
                tokio::time::timeout(Duration::from_millis(500), listener.accept())
                    .await
                    .is_ok()
            });
            assert_eq!(accepted, tried_again, "refused for {refused_for:?}");
            if !tried_again {
                assert_eq!(sent, Err(Failure::Connect));
            }
        }
    }

    /// However many attempts are made at once, a host has at most `per_host` connections
    /// from the client open; the attempts beyond them wait for one, and all are answered.
    #[tokio::test]
    async fn at_most_per_host_connections_are_open_to_a_host_at_once() {
        use std::sync::atomic::AtomicUsize;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target = format!("http://{}/cb", listener.local_addr().unwrap());
        let (open, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (counted, seen) = (open.clone(), most.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (open, most) = (counted.clone(), seen.clone());
                tokio::spawn(async move {
                    most.fetch_max(open.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                    let answer = hyper::service::service_fn(|_| async {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(
                            http_body_util::Empty::<Bytes>::new(),
                        ))
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), answer)
                        .await;
                    open.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        let client = Arc::new(Client::new("test", Duration::from_secs(5), REFUSED_FOR, 3).unwrap());
        let posts = (0..30).map(|_| {
            let (client, target) = (client.clone(), target.clone());
            tokio::spawn(async move {
                let unsigned = Signature::Text("".into());
                client
                    .post(&target, Bytes::from_static(b"{}"), &unsigned)
                    .await
            })
        });
        for answered in futures_util::future::join_all(posts).await {
            assert_eq!(answered.unwrap(), Ok(200));
        }
        assert_eq!(most.load(Ordering::SeqCst), 3);
    }

    /// A host stays in the map while a connection or a connect holds its permits, and no
    /// longer: targets named by users do not pile up.
    #[test]
    fn a_host_with_no_connection_is_let_go() {
        let hosts = Hosts {
            per_host: 2,
            wait: Duration::from_secs(1),
            open: Mutex::default(),
        };
        let uri = |n: u16| format!("http://127.0.0.1:{n}/cb").parse::<Uri>().unwrap();
        let held = hosts.permits(&uri(1));
        assert!(
            Arc::ptr_eq(&held, &hosts.permits(&uri(1))),
            "one host, one set"
        );
        assert!(!Arc::ptr_eq(&held, &hosts.permits(&uri(2))));
        for n in 3..1000 {
            hosts.permits(&uri(n));
        }
        let open = hosts.open.lock().unwrap();
        assert!(open.hosts.len() < 200, "{} hosts kept", open.hosts.len());
        assert!(
            Arc::ptr_eq(&held, &open.hosts["http://127.0.0.1:1"]),
            "a held host is kept"
        );
    }
}
