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

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http_body_util::Full;
use hyper::header::{ACCEPT, CONTENT_TYPE, HeaderValue, USER_AGENT};
use hyper::{Request, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::signing::SIGNATURE_HEADER;
use crate::domain::delivery::{Failure, Signature};
use crate::domain::interned::Interned;

pub struct Client {
    http: hyper_util::client::legacy::Client<HttpsConnector<HttpConnector<Resolver>>, Full<Bytes>>,
    timeout: Duration,
    user_agent: HeaderValue,
    /// Recent targets and their request URIs, as reqwest would make them.
    uris: Interned<(Box<str>, Option<Uri>), 64>,
}

impl Client {
    pub fn new(user_agent: &'static str, timeout: Duration) -> anyhow::Result<Self> {
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
            .wrap_connector(tcp);
        let http = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .timer(TokioTimer::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .build(connector);
        Ok(Self {
            http,
            timeout,
            user_agent: HeaderValue::from_static(user_agent),
            uris: Interned::new(),
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
        let uri = self.uri(target).ok_or(Failure::Invalid)?;
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
            Ok(Err(e)) if e.is_connect() => Err(Failure::Connect),
            Ok(Err(_)) => Err(Failure::Request),
            Ok(Ok(response)) => Ok(response.status().as_u16()),
        }
    }

    /// `target`'s request URI: `url`'s normal form (lower-case host, dot segments resolved,
    /// spaces escaped...), as reqwest sends it. `None` if it has none.
    fn uri(&self, target: &str) -> Option<Uri> {
        let made = self.uris.get(
            &target,
            |(t, _)| **t == *target,
            || {
                let url = url::Url::parse(target).ok().filter(|u| u.has_host());
                let uri = url.and_then(|u| Uri::try_from(u.as_str()).ok());
                (target.into(), uri)
            },
        );
        made.1.clone()
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
        let client = Client::new("test", Duration::from_secs(1)).unwrap();
        for (target, sent) in [
            ("http://127.0.0.1:4000/cb", "http://127.0.0.1:4000/cb"),
            (
                "HTTP://Example.COM:80/a/../cb?x=1",
                "http://example.com/cb?x=1",
            ),
            ("https://example.com/a b", "https://example.com/a%20b"),
            ("http://exämple.com/cb", "http://xn--exmple-cua.com/cb"),
        ] {
            assert_eq!(client.uri(target).unwrap().to_string(), sent, "{target}");
            // Kept: the second look-up finds the same.
            assert_eq!(client.uri(target).unwrap().to_string(), sent, "{target}");
        }
        assert!(client.uri("not a url").is_none());
        assert!(client.uri("mailto:someone@example.com").is_none());
    }
}
