//! Which `Host` names the sandbox answers: IP addresses, `localhost` and `*.localhost`,
//! single-label names (a compose service such as `k2-sandbox`), the host of `--public-url`
//! and each `--allowed-host`. Anything else is refused with a JSON 403, so a web page whose
//! domain re-resolves to 127.0.0.1 (DNS rebinding) reads and changes nothing.

use std::net::Ipv4Addr;

use axum::http::Request;

/// The names allowed beyond the ones any sandbox answers, lowercase.
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts(Vec<String>);

impl AllowedHosts {
    /// `--allowed-host`'s names and `--public-url`'s host.
    pub fn new(extra: &[String], public_url: Option<&url::Url>) -> Self {
        let mut names: Vec<String> = extra.iter().map(|h| normal(h)).collect();
        names.extend(public_url.and_then(url::Url::host_str).map(normal));
        Self(names)
    }

    /// Why a request to this host is refused, if it is.
    pub fn refusal<B>(&self, req: &Request<B>) -> Option<String> {
        let host = match req.headers().get(axum::http::header::HOST) {
            Some(value) => value.as_bytes(),
            None => req.uri().host()?.as_bytes(),
        };
        // The usual request, to an address: digits, dots and a port (no registrable name is
        // all digits), or an IPv6 literal. Told at a glance, on every request.
        if host.first() == Some(&b'[')
            || host.iter().all(|b| b.is_ascii_digit() || b".:".contains(b))
        {
            return None;
        }
        let name = without_port(std::str::from_utf8(host).ok()?);
        if name.parse::<Ipv4Addr>().is_ok() {
            return None;
        }
        let name = normal(name);
        let served = name == "localhost"
            || name.ends_with(".localhost")
            || !name.contains('.')
            || self.0.contains(&name);
        (!served).then(|| {
            format!(
                "Host {name:?} is not served here: this sandbox answers IP addresses, localhost \
                 and single-label names; start it with --allowed-host {name} \
                 (K2_SANDBOX_ALLOWED_HOST) to serve this name"
            )
        })
    }
}

/// Why a request that changes the control plane or posts the checkout's form is refused as
/// cross-site, if it is: a browser says where a page's request comes from (`Origin`,
/// `Sec-Fetch-Site`), and only the sandbox's own pages (the dashboard, the checkout) and
/// those of an origin named with `--cors-origin` may act. curl, the CLI, the SDKs and
/// scripts send neither header and are not affected.
pub fn cross_site<B>(req: &Request<B>, listed: &super::cors::Origins) -> Option<String> {
    use axum::http::Method;
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    let path = req.uri().path();
    if !(path.starts_with("/_sandbox/") || path.starts_with("/links/")) {
        return None;
    }
    let headers = req.headers();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let origin = header("origin");
    let own = header("host").map(str::to_ascii_lowercase);
    let foreign = match origin {
        Some(origin) => {
            let authority = origin.split_once("://").map_or(origin, |(_, rest)| rest);
            origin == "null"
                || (own.as_deref() != Some(&*authority.to_ascii_lowercase())
                    && !listed.lists(origin))
        }
        None => header("sec-fetch-site") == Some("cross-site"),
    };
    foreign.then(|| {
        format!(
            "A cross-site request is refused: a page from {} cannot change this sandbox or pay \
             its links. The dashboard, on the sandbox's own origin, can; so can curl, the CLI \
             and scripts, and pages of an origin named with --cors-origin \
             (K2_SANDBOX_CORS_ORIGIN).",
            origin.unwrap_or("another site")
        )
    })
}

/// `host[:port]` without the port.
fn without_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(']') || name.ends_with(']') => {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                name
            } else {
                host
            }
        }
        _ => host,
    }
}

fn normal(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::AllowedHosts;

    fn refused(allowed: &AllowedHosts, host: &str) -> bool {
        let req = axum::http::Request::builder()
            .uri("/api/v2/incoming_payments")
            .header("host", host)
            .body(())
            .expect("a request");
        allowed.refusal(&req).is_some()
    }

    #[test]
    fn ip_addresses_localhost_single_labels_and_named_hosts_are_served() {
        let public: url::Url = "https://k2.example.com/".parse().expect("URL");
        let allowed = AllowedHosts::new(&["ci.Internal.Test".into()], Some(&public));
        for host in [
            "127.0.0.1:8080",
            "10.0.0.7",
            "[::1]:8080",
            "[fe80::1]",
            "localhost",
            "LOCALHOST:1",
            "app.localhost:3000",
            "k2-sandbox:8080",
            "k2-sandbox",
            "k2.example.com",
            "ci.internal.test:8080",
            "localhost.",
        ] {
            assert!(!refused(&allowed, host), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:8080",
            "127.0.0.1.nip.io",
            "localhost.evil.com",
        ] {
            assert!(refused(&allowed, host), "{host}");
        }
    }
}
